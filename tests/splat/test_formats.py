"""Format decoders on synthetic files with known values, and writer round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from render.splat.io import load_splat, save_splat
from render.splat.io.ply_container import encode_ply, read_ply
from render.splat.io.splat_format import RECORD_DTYPE, splat_order
from render.splat.model import SH_C0
from render.splat.sh import sh_to_color
from tests.splat.conftest import model_from, random_arrays
from tests.splat.spz_pack import pack_spz_legacy, pack_spz_v4


def _close(a: torch.Tensor, b: np.ndarray, atol: float) -> None:
    np.testing.assert_allclose(a.numpy(), b, atol=atol, rtol=0)


def _same_rotation(a: torch.Tensor, b: np.ndarray, min_dot: float) -> None:
    dots = np.abs(np.sum(a.numpy() * b, axis=1))
    assert dots.min() > min_dot


def test_ply_round_trip_keeps_every_value(tmp_path, arrays_deg3) -> None:
    path = tmp_path / "scene.ply"
    save_splat(model_from(arrays_deg3), path)
    loaded = load_splat(path)
    assert loaded.source_format == "3dgs-ply" and loaded.sh_degree == 3
    _close(loaded.positions, arrays_deg3["positions"], 0)
    _close(loaded.scales, arrays_deg3["scales"], 1e-6)
    _close(loaded.opacities, arrays_deg3["opacities"], 1e-6)
    _close(loaded.quats, arrays_deg3["quats"], 1e-6)
    _close(loaded.sh, arrays_deg3["sh"], 0)
    assert not list(tmp_path.glob(".*tmp"))  # atomic write leaves nothing behind


def test_ply_layout_is_inria(tmp_path, arrays_deg3) -> None:
    path = tmp_path / "scene.ply"
    save_splat(model_from(arrays_deg3), path)
    _, tables = read_ply(path.read_bytes(), str(path))
    vertex = tables["vertex"]
    assert len(vertex.dtype.names) == 62 and vertex.dtype.itemsize == 248
    assert vertex.dtype.names[:9] == ("x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2")
    # f_rest is channel-major: 15 red coefficients first, then green, then blue
    np.testing.assert_array_equal(vertex["f_rest_0"], arrays_deg3["sh"][:, 1, 0])
    np.testing.assert_array_equal(vertex["f_rest_15"], arrays_deg3["sh"][:, 1, 1])
    np.testing.assert_array_equal(vertex["f_rest_44"], arrays_deg3["sh"][:, 15, 2])
    np.testing.assert_allclose(vertex["scale_0"], np.log(arrays_deg3["scales"][:, 0]), rtol=1e-6)
    assert vertex["rot_0"][0] == pytest.approx(arrays_deg3["quats"][0, 0])  # w first


def test_nerfstudio_uchar_colour_variant(tmp_path) -> None:
    arrays = random_arrays(50, 0, seed=3)
    rgb = np.clip(np.rint((0.5 + SH_C0 * arrays["sh"][:, 0]) * 255), 0, 255).astype(np.uint8)
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1"),
              ("opacity", "<f4"), ("scale_0", "<f4"), ("scale_1", "<f4"), ("scale_2", "<f4"),
              ("rot_0", "<f4"), ("rot_1", "<f4"), ("rot_2", "<f4"), ("rot_3", "<f4")]
    table = np.zeros(50, dtype=fields)
    for i, c in enumerate("xyz"):
        table[c] = arrays["positions"][:, i]
    for i, c in enumerate(("red", "green", "blue")):
        table[c] = rgb[:, i]
    table["opacity"] = np.log(arrays["opacities"] / (1 - arrays["opacities"]))
    for i in range(3):
        table[f"scale_{i}"] = np.log(arrays["scales"][:, i])
    for i in range(4):
        table[f"rot_{i}"] = arrays["quats"][:, i] * 2.5  # unnormalised, as trainers write them
    path = tmp_path / "rgb.ply"
    path.write_bytes(encode_ply([("vertex", table)], ["Vertical Axis: z"]))
    model = load_splat(path)
    assert model.frame.up == "z"
    _close(model.base_colors(), rgb / 255.0, 1e-6)
    _close(model.quats, arrays["quats"], 1e-6)
    _close(model.opacities, arrays["opacities"], 1e-5)


def test_splat_round_trip_and_antimatter15_order(tmp_path, arrays_deg3) -> None:
    path = tmp_path / "scene.splat"
    save_splat(model_from(arrays_deg3), path)
    data = path.read_bytes()
    assert len(data) == 32 * 300
    order = splat_order(arrays_deg3["scales"], arrays_deg3["opacities"])
    key = np.prod(arrays_deg3["scales"][order].astype(np.float64), axis=1) * arrays_deg3["opacities"][order]
    assert np.all(np.diff(key) <= 0)  # biggest, most opaque first
    records = np.frombuffer(data, dtype=RECORD_DTYPE)
    np.testing.assert_array_equal(records["position"], arrays_deg3["positions"][order])
    loaded = load_splat(path)
    _close(loaded.positions, arrays_deg3["positions"][order], 0)
    _close(loaded.scales, arrays_deg3["scales"][order], 0)
    _close(loaded.opacities, arrays_deg3["opacities"][order], 0.5 / 255 + 1e-6)
    rgb = np.clip(0.5 + SH_C0 * arrays_deg3["sh"][order, 0], 0, 1)
    _close(loaded.base_colors(), rgb, 0.5 / 255 + 1e-6)
    _same_rotation(loaded.quats, arrays_deg3["quats"][order], 0.99)
    assert loaded.sh_degree == 0


def test_ply_to_splat_conversion(tmp_path, arrays_deg3) -> None:
    save_splat(model_from(arrays_deg3), tmp_path / "in.ply")
    save_splat(load_splat(tmp_path / "in.ply"), tmp_path / "out.splat")
    converted = load_splat(tmp_path / "out.splat")
    order = splat_order(arrays_deg3["scales"], arrays_deg3["opacities"])
    _close(converted.positions, arrays_deg3["positions"][order], 0)
    _close(converted.scales, arrays_deg3["scales"][order], 1e-6)
    _close(converted.opacities, arrays_deg3["opacities"][order], 0.5 / 255 + 1e-6)


@pytest.mark.parametrize("version", [2, 3, 4])
@pytest.mark.parametrize("degree", [0, 3])
def test_spz_versions(tmp_path, version: int, degree: int) -> None:
    arrays = random_arrays(200, degree, seed=version * 10 + degree)
    path = tmp_path / "scene.spz"
    path.write_bytes(pack_spz_v4(arrays) if version == 4 else pack_spz_legacy(arrays, version))
    model = load_splat(path)
    assert model.source_format == "spz" and model.sh_degree == degree
    assert model.frame.note == f"SPZ v{version} RUB converted to RDF"
    _close(model.positions, arrays["positions"], 0.5 / 4096 + 1e-6)
    _close(model.opacities, arrays["opacities"], 0.5 / 255 + 1e-6)
    _close(model.scales.log(), np.log(arrays["scales"]), 1 / 32 + 1e-5)
    _close(model.sh[:, 0], arrays["sh"][:, 0], 0.5 / (0.15 * 255) + 1e-5)
    _close(model.sh[:, 1:], arrays["sh"][:, 1:], 0.5 / 128 + 1e-5)
    _same_rotation(model.quats, arrays["quats"], 0.998 if version >= 3 else 0.99)


def test_spz_sh_signs_follow_the_frame_change() -> None:
    """Colour seen along d in RUB with the file's SH equals colour along F d in RDF after loading."""
    arrays = random_arrays(40, 3, seed=7)
    from render.splat.io.spz import RUB_TO_RDF_SH_SIGNS

    rub_sh = torch.as_tensor(arrays["sh"])
    rdf_sh = rub_sh.clone()
    rdf_sh[:, 1:] *= torch.as_tensor(RUB_TO_RDF_SH_SIGNS)[:, None]
    dirs = torch.nn.functional.normalize(torch.randn(40, 3), dim=1)
    flipped = dirs * torch.tensor([1.0, -1.0, -1.0])
    torch.testing.assert_close(sh_to_color(rub_sh, dirs), sh_to_color(rdf_sh, flipped))
