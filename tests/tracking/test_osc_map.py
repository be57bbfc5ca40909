"""OSC: golden datagrams (TV-S1, TV-S2), presets, bundles, custom maps, bad arguments."""

import math

import pytest

from devices.tracking.decoders import OscDecoder
from devices.tracking.factory import address_map
from vpstage.protocols import osc_map as osc
from vpstage.stage.model import TrackingSource

TV_S1 = bytes.fromhex("2f53594e43000000 2c660000 3f000000".replace(" ", ""))
TV_S2 = bytes.fromhex("2f63616d6572612f706f7300 2c66666600000000 3fc00000be80000040000000".replace(" ", ""))


def test_tv_s1_and_tv_s2() -> None:
    assert osc.write_message("/SYNC", [0.5]) == TV_S1
    assert osc.write_message("/camera/pos", [1.5, -0.25, 2.0]) == TV_S2


def test_vp_preset_lens_is_held_for_the_next_pose() -> None:
    decoder = OscDecoder(osc.PRESETS["vp"])
    lens_only = decoder.decode(osc.write_message("/vp/cam/2/lens", [35.0, 2.5, 4.0]), ("127.0.0.1", 9), 1)
    assert not lens_only.samples and lens_only.packets == 1
    pose = decoder.decode(osc.write_message("/vp/cam/2/pose", [1.0, 2.0, 3.0, 10.0, -5.0, 1.0]), ("127.0.0.1", 9), 2)
    (sample,) = pose.samples
    assert (sample.camera_id, sample.position_m, sample.pan_deg, sample.tilt_deg, sample.roll_deg) == (
        2, (1.0, 2.0, 3.0), 10.0, -5.0, 1.0)
    assert (sample.focal_length_mm, sample.focus_distance_m, sample.f_stop) == (35.0, 2.5, 4.0)


def test_a_bundle_makes_one_sample_per_camera() -> None:
    decoder = OscDecoder(osc.PRESETS["vp"])
    bundle = osc.write_bundle([("/vp/cam/1/pose", [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]),
                               ("/vp/cam/1/lens", [50.0, 3.0, 2.0]),
                               ("/vp/cam/B/pose", [1.0, 1.0, 1.0, 90.0, 0.0, 0.0])])
    samples = decoder.decode(bundle, ("127.0.0.1", 9), 5).samples
    assert [(s.camera_id, s.focal_length_mm) for s in samples] == [(1, 50.0), ("B", None)]


def test_loled_preset_maps_orientation_and_normalised_fiz() -> None:
    decoder = OscDecoder(osc.PRESETS["loled"])
    data = osc.write_message("/tracker/position/CamA", [1.0, -2.0, 1.5, 5.0, 0.5, 30.0, 0.25, 0.5, 0.75])
    (sample,) = decoder.decode(data, ("127.0.0.1", 9), 1).samples
    assert sample.camera_id == "CamA"
    assert (sample.tilt_deg, sample.roll_deg, sample.pan_deg) == (5.0, 0.5, 30.0)
    assert (sample.focus_norm, sample.iris_norm, sample.zoom_norm) == (0.25, 0.5, 0.75)


def test_zigsim_preset_converts_arkit_axes() -> None:
    decoder = OscDecoder(osc.PRESETS["zigsim"])
    half = math.radians(-20.0) / 2  # -20 deg about ARKit +Y (up): the phone turns right by 20 deg
    bundle = osc.write_bundle([("/phone-1/arkitposition", [0.5, 1.6, -2.0]),
                               ("/phone-1/arkitrotation", [0.0, math.sin(half), 0.0, math.cos(half)])])
    (sample,) = decoder.decode(bundle, ("127.0.0.1", 9), 1).samples
    assert sample.position_m == pytest.approx((0.5, 2.0, 1.6))
    assert (sample.pan_deg, sample.tilt_deg, sample.roll_deg) == pytest.approx((20.0, 0.0, 0.0), abs=1e-5)


def test_custom_routes_with_scales() -> None:
    source = TrackingSource(name="rig", protocol="osc", address="udp://127.0.0.1:0", osc_routes=[
        {"address": "/rig/{id}/xyzptr", "args": ["x_m", "y_m", "z_m", "pan_deg", "tilt_deg", "roll_deg", ""],
         "scales": [0.001, 0.001, 0.001, -1, 1, 1, 1]}])
    decoder = OscDecoder(address_map(source))
    data = osc.write_message("/rig/7/xyzptr", [1000.0, 2000.0, 500.0, 15.0, 2.0, 0.0, 99.0])
    (sample,) = decoder.decode(data, ("127.0.0.1", 9), 1).samples
    assert sample.position_m == pytest.approx((1.0, 2.0, 0.5)) and sample.pan_deg == -15.0


@pytest.mark.parametrize("data,reason", [
    (osc.write_message("/vp/cam/1/pose", [1.0, 2.0, 3.0]), "arguments"),
    (osc.write_message("/vp/cam/1/pose", [1.0, 2.0, "x", 0.0, 0.0, 0.0]), "wrong_type"),
    (osc.write_message("/vp/cam/1/pose", [1.0, 2.0, float("nan"), 0.0, 0.0, 0.0]), "non_finite"),
    (osc.write_message("/vp/cam/*/pose", [1.0, 2.0, 3.0, 0.0, 0.0, 0.0]), "wildcard_address"),
    (b"not osc at all", "malformed"), (b"/vp\x00\x00\x00\x00,f\x00\x00", "malformed"),
])
def test_bad_messages_are_counted_by_reason(data: bytes, reason: str) -> None:
    decoded = OscDecoder(osc.PRESETS["vp"]).decode(data, ("127.0.0.1", 9), 1)
    assert list(decoded.samples) == [] and list(decoded.bad) == [reason]


def test_unmapped_addresses_are_ignored_not_bad() -> None:
    decoder = OscDecoder(osc.PRESETS["vp"])
    decoded = decoder.decode(osc.write_message("/genlock", ["01:00:00:00"]), ("127.0.0.1", 9), 1)
    assert (list(decoded.samples), list(decoded.bad), decoded.packets, decoder.ignored) == ([], [], 1, 1)


def test_route_validation() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        osc.OscRoute(address="/a/{id}", args=("x_m", "speed"))
    with pytest.raises(ValueError, match="at most one"):
        osc.OscRoute(address="/{id}/{id}", args=("x_m",))
