"""Per-camera buffer: interpolation (linear + slerp), delay in ms and frames, extrapolation, smoothing."""

import math
import threading
from fractions import Fraction

import numpy as np
import pytest

from vpstage.geometry.rotations import body_rotation
from vpstage.tracking.buffer import SampleBuffer, frames_to_ns, ms_to_ns
from vpstage.tracking.quaternions import angle_between_deg, pan_tilt_roll, quat_from_pan_tilt_roll, quat_matrix
from vpstage.tracking.sample import CameraSample
from vpstage.tracking.smoothing import OneEuroSettings

MS = 1_000_000


def sample(t_ms: float, x: float = 0.0, pan: float = 0.0, tilt: float = 0.0, **lens: object) -> CameraSample:
    return CameraSample(protocol="freed", source="src", camera_id=1, arrival_ns=round(t_ms * MS), x_m=x, y_m=2 * x,
                        z_m=1.0, pan_deg=pan, tilt_deg=tilt, roll_deg=0.0, **lens)  # type: ignore[arg-type]


def test_quaternion_matches_body_rotation_and_converts_back() -> None:
    for angles in [(0, 0, 0), (45, -10.5, 3), (170, 80, -60), (-120, 30, 179), (10, 90, 0), (-35, -90, 0)]:
        q = quat_from_pan_tilt_roll(*angles)
        assert np.allclose(quat_matrix(q), body_rotation(*angles))
        assert np.allclose(body_rotation(*pan_tilt_roll(q)), body_rotation(*angles))
        if abs(angles[1]) < 90:
            assert pan_tilt_roll(q) == pytest.approx(angles, abs=1e-9)


def test_position_is_linear_and_rotation_is_slerped_between_samples() -> None:
    buf = SampleBuffer()
    buf.push(sample(0, x=0.0, pan=10.0, zoom_raw=100, focal_length_mm=20.0))
    buf.push(sample(40, x=4.0, pan=50.0, zoom_raw=200, focal_length_mm=40.0))
    pose = buf.state_at(10 * MS)
    assert pose is not None and pose.mode == "interpolated"
    assert pose.position_m == pytest.approx((1.0, 2.0, 1.0))
    assert pose.sample.pan_deg == pytest.approx(20.0)  # slerp about one axis is linear in angle
    assert (pose.sample.zoom_raw, pose.sample.focal_length_mm) == (125, pytest.approx(25.0))
    assert pose.sample.arrival_ns == 10 * MS and pose.age_ns == -30 * MS


def test_slerp_takes_the_short_way_across_plus_minus_180() -> None:
    buf = SampleBuffer()
    buf.push(sample(0, pan=170.0))
    buf.push(sample(20, pan=-170.0))
    pose = buf.state_at(10 * MS)
    assert pose is not None and abs(abs(pose.sample.pan_deg) - 180.0) < 1e-6


def test_slerp_keeps_constant_angular_speed_for_a_compound_move() -> None:
    buf = SampleBuffer()
    buf.push(sample(0, pan=-60.0, tilt=-30.0))
    buf.push(sample(100, pan=80.0, tilt=45.0))
    a, b = quat_from_pan_tilt_roll(-60, -30, 0), quat_from_pan_tilt_roll(80, 45, 0)
    total = angle_between_deg(a, b)
    for t in (25, 50, 75):
        pose = buf.state_at(t * MS)
        assert pose is not None
        assert angle_between_deg(a, pose.quaternion) == pytest.approx(total * t / 100, abs=1e-6)


def test_delay_in_ms_and_in_frames() -> None:
    buf = SampleBuffer()
    for i in range(11):
        buf.push(sample(i * 10, x=float(i)))
    assert buf.state_at(100 * MS, delay_ns=ms_to_ns(35)).position_m[0] == pytest.approx(6.5)  # type: ignore[union-attr]
    two_frames = frames_to_ns(2, Fraction(24000, 1001))
    assert two_frames == 83_416_667
    assert buf.state_at(100 * MS, delay_ns=two_frames).position_m[0] == pytest.approx(10 - 8.3416667)  # type: ignore[union-attr]


def test_after_the_newest_sample_it_holds_or_extrapolates_up_to_the_limit() -> None:
    buf = SampleBuffer()
    buf.push(sample(0, x=0.0, pan=0.0))
    buf.push(sample(10, x=1.0, pan=2.0))
    held = buf.state_at(30 * MS)
    assert held is not None and held.mode == "held" and held.position_m[0] == 1.0 and held.age_ns == 20 * MS
    ahead = buf.state_at(15 * MS, max_extrapolation_ns=ms_to_ns(20))
    assert ahead is not None and ahead.mode == "extrapolated"
    assert ahead.position_m[0] == pytest.approx(1.5) and ahead.sample.pan_deg == pytest.approx(3.0)
    capped = buf.state_at(100 * MS, max_extrapolation_ns=ms_to_ns(20))
    assert capped is not None and capped.position_m[0] == pytest.approx(3.0)  # 20 ms past the newest


def test_before_the_first_sample_and_when_empty() -> None:
    buf = SampleBuffer()
    assert buf.state_at(0) is None
    buf.push(sample(50, x=5.0))
    pose = buf.state_at(10 * MS)
    assert pose is not None and pose.mode == "before_first" and pose.position_m[0] == 5.0
    assert buf.state_at(50 * MS).mode == "exact"  # type: ignore[union-attr]


def test_capacity_bounds_the_buffer_and_late_samples_are_ordered() -> None:
    buf = SampleBuffer(capacity=4)
    for t in (0, 10, 30, 40, 20):
        buf.push(sample(t, x=float(t)))
    assert len(buf) == 4
    assert buf.state_at(15 * MS).position_m[0] == pytest.approx(15.0)  # type: ignore[union-attr]
    assert buf.latest().arrival_ns == 20 * MS  # type: ignore[union-attr]


def test_one_euro_smoothing_reduces_jitter_and_is_off_by_default() -> None:
    rng = np.random.default_rng(0)
    raw, smooth = SampleBuffer(), SampleBuffer(smoothing=OneEuroSettings(min_cutoff_hz=1.0, beta=0.0))
    for i in range(200):
        s = sample(i * 10, x=0.5 + rng.normal(0, 0.01))
        raw.push(s)
        smooth.push(s)
    xs_raw = [raw.state_at(i * 10 * MS).position_m[0] for i in range(100, 200)]  # type: ignore[union-attr]
    xs_smooth = [smooth.state_at(i * 10 * MS).position_m[0] for i in range(100, 200)]  # type: ignore[union-attr]
    assert np.std(xs_smooth) < 0.3 * np.std(xs_raw)
    assert smooth.latest() == raw.latest()  # latest() is the sample as received


def test_concurrent_push_and_query() -> None:
    buf = SampleBuffer(capacity=64)
    stop = threading.Event()

    def writer() -> None:
        t = 0
        while not stop.is_set():
            buf.push(sample(0)._replace(arrival_ns=t, x_m=math.sin(t)))
            t += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(2000):
            buf.state_at(10**9)
    finally:
        stop.set()
        thread.join()
    assert len(buf) == 64
