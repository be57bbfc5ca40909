"""Lens profiles: tables, presets for senders with physical units, the profile file and its errors."""

from pathlib import Path

import pytest

from tests.conftest import ROOT
from vpstage.config import ConfigError
from vpstage.tracking.distortion import LensDistortion
from vpstage.tracking.lens import PRESETS, PiecewiseLinear
from vpstage.tracking.lens_file import lens_library_from_text, load_lens_library, merge_zoom_point
from vpstage.tracking.sample import CameraSample


def sample(**fields: object) -> CameraSample:
    return CameraSample(protocol="freed", source="src", camera_id=1, arrival_ns=0, x_m=0.0, y_m=0.0, z_m=0.0,
                        pan_deg=0.0, tilt_deg=0.0, roll_deg=0.0, **fields)  # type: ignore[arg-type]


def test_piecewise_linear_interpolates_and_holds_the_ends() -> None:
    table = PiecewiseLinear.from_points([(100.0, 50.0), (0.0, 20.0), (50.0, 30.0)])
    assert [table(x) for x in (-10, 0, 25, 50, 75, 100, 1e9)] == [20.0, 20.0, 25.0, 30.0, 40.0, 50.0, 50.0]
    assert PiecewiseLinear((0.0, 10.0), (0.0, 1.0), extrapolate=True)(25.0) == 2.5
    with pytest.raises(ValueError):
        PiecewiseLinear((0.0, 0.0), (1.0, 2.0))


def test_zcam_preset_reads_physical_units_from_freed() -> None:
    values = PRESETS["zcam-freed"].evaluate(sample(zoom_raw=950, focus_raw=12300, user_bits=(5 << 12) | 280))
    assert values.focal_length_mm == pytest.approx(9.5)
    assert values.focus_distance_m == pytest.approx(1.23)
    assert values.f_stop == pytest.approx(2.8)


def test_syncrolink_preset() -> None:
    values = PRESETS["syncrolink-freed"].evaluate(sample(zoom_raw=1792, focus_raw=64 * 2500, user_bits=56))
    assert (values.focal_length_mm, values.focus_distance_m, values.f_stop) == pytest.approx((28.0, 2.5, 5.6))


def test_physical_preset_uses_sent_values_and_falls_back_to_nominal() -> None:
    sent = PRESETS["physical"].evaluate(sample(focal_length_mm=40.0, focus_distance_m=3.0, entrance_pupil_m=0.1,
                                               distortion=LensDistortion.from_coefficients((0.1,))))
    assert (sent.focal_length_mm, sent.focus_distance_m, sent.entrance_pupil_m, sent.distortion.radial[0]) == (
        40.0, 3.0, 0.1, 0.1)
    bare = PRESETS["physical"].evaluate(sample(zoom_raw=1000))
    assert (bare.focal_length_mm, bare.focus_distance_m, bare.entrance_pupil_m) == (35.0, None, 0.0)


def test_shipped_lens_file_loads_and_maps_encoders() -> None:
    library = load_lens_library(ROOT / "configs" / "lenses.yaml")
    assert set(PRESETS) <= set(library)
    lens = library["example-zoom-18-80"]
    values = lens.evaluate(sample(zoom_raw=8192, focus_raw=32768))
    assert values.focal_length_mm == pytest.approx(23.0)
    assert values.entrance_pupil_m == pytest.approx((0.152 + 0.139) / 2)
    assert values.distortion.radial[0] == pytest.approx((-0.038 - 0.017) / 2)
    assert values.distortion.model == "Brown-Conrady D-U"  # the file names none: OpenTrackIO's default
    assert values.focus_distance_m == pytest.approx(1.8)


def test_normalised_encoders_and_sent_values_preference() -> None:
    library = lens_library_from_text("""
lenses:
- name: norm
  encoder: normalized
  use_sent_values: false
  zoom: [{encoder: 0.0, focal_length_mm: 24}, {encoder: 1.0, focal_length_mm: 70}]
""")
    values = library["norm"].evaluate(sample(zoom_norm=0.5, focal_length_mm=99.0))
    assert values.focal_length_mm == pytest.approx(47.0)


def test_lens_file_problems_are_located(tmp_path: Path) -> None:
    path = tmp_path / "lenses.yaml"
    path.write_text("""lenses:
- name: a
  zoom:
  - {encoder: 0, focal_length_mm: 24}
  - {encoder: 0, focal_length_mm: 30}
- name: physical
- name: b
  focus: [{encoder: 1, distance_m: -2}]
  typo_field: 1
""")
    with pytest.raises(ConfigError) as info:
        load_lens_library(path)
    messages = sorted(p.format() for p in info.value.problems)
    assert any(f"{path}:8: lenses[2].focus[0].distance_m" in m for m in messages)
    assert any(f"{path}:9: lenses[2].typo_field: unknown field" in m for m in messages)
    fixed = path.read_text().replace("distance_m: -2", "distance_m: 2").replace("  typo_field: 1\n", "")
    with pytest.raises(ConfigError) as info:
        lens_library_from_text(fixed, str(path))
    messages = [p.format() for p in info.value.problems]
    assert f"{path}:5: lenses[0].zoom[1].encoder: encoder value 0.0 appears twice" in messages
    assert f"{path}:6: lenses[1].name: 'physical' is a built-in preset name" in messages


def test_zoom_points_carry_the_whole_distortion_and_merge_keeps_the_rest(tmp_path: Path) -> None:
    text = """
lenses:
- name: wide
  distortion_model: Brown-Conrady U-D
  zoom:
  - {encoder: 0, focal_length_mm: 14, entrance_pupil_m: 0.12, k1: -0.2, k2: 0.05, k3: -0.01, k4: 0.001,
     k5: -0.002, k6: 0.003, p1: 0.0001, p2: -0.0002, overscan: 1.2}
  - {encoder: 100, focal_length_mm: 28, k1: -0.1}
"""
    lens = lens_library_from_text(text)["wide"]
    values = lens.evaluate(sample(zoom_raw=50))
    d = values.distortion
    assert (d.model, d.offset_mm) == ("Brown-Conrady U-D", (0.0, 0.0))
    assert (*d.radial, *d.tangential, d.overscan) == pytest.approx(
        (-0.15, 0.025, -0.005, 0.0005, -0.001, 0.0015, 0.00005, -0.0001, 1.1), abs=1e-15)
    point = {"encoder": 0, "focal_length_mm": 14.5, "k1": -0.21}
    merged = merge_zoom_point(text, "wide", point, encoder="raw")
    again = lens_library_from_text(merged)["wide"].evaluate(sample(zoom_raw=0))
    assert (again.focal_length_mm, again.distortion.radial, again.distortion.overscan) == (14.5, (-0.21, 0, 0, 0, 0, 0),
                                                                                          1.0)
    assert again.entrance_pupil_m == 0.12  # measured before, kept
    with pytest.raises(ValueError, match="Brown-Conrady U-D coefficients"):
        merge_zoom_point(text, "wide", point, encoder="raw", model="Brown-Conrady D-U")
    with pytest.raises(ConfigError):
        lens_library_from_text(text.replace("overscan: 1.2", "overscan: 0.5"))
