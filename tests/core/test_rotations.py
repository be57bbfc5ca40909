import math

import numpy as np
import pytest

from vpstage.geometry import (
    OrientedBox,
    body_rotation,
    camera_rotation,
    look_at_rotation,
    matrix_to_quat,
    pan_tilt_roll_from_rotation,
    quat_to_matrix,
)


@pytest.mark.parametrize("pan,tilt", [(0, 0), (45, -10.5), (90, 0), (-120, 30), (180, 5)])
def test_forward_vector_matches_freed_convention(pan: float, tilt: float) -> None:
    forward = body_rotation(pan, tilt, 0)[:, 1]
    p, t = math.radians(pan), math.radians(tilt)
    expected = [math.sin(p) * math.cos(t), math.cos(p) * math.cos(t), math.sin(t)]
    assert np.allclose(forward, expected)


def test_pan_right_and_roll_clockwise_from_behind() -> None:
    assert body_rotation(90, 0, 0)[:, 1] == pytest.approx([1, 0, 0], abs=1e-12)  # pan right looks +X
    # roll +90 clockwise seen from behind: the camera's right vector points down
    assert body_rotation(0, 0, 90)[:, 0] == pytest.approx([0, 0, -1], abs=1e-12)


def test_camera_rotation_is_opencv() -> None:
    r = camera_rotation(0, 0, 0)
    assert r[:, 0] == pytest.approx([1, 0, 0])  # image right = +X
    assert r[:, 1] == pytest.approx([0, 0, -1])  # image down = -Z
    assert r[:, 2] == pytest.approx([0, 1, 0])  # optical axis = +Y


@pytest.mark.parametrize("angles", [(10, 20, 30), (-170, -45, 5), (95, 80, -60)])
def test_pan_tilt_roll_round_trip(angles: tuple[float, float, float]) -> None:
    back = pan_tilt_roll_from_rotation(body_rotation(*angles))
    assert back == pytest.approx(angles, abs=1e-9)


def test_quaternion_round_trip() -> None:
    r = body_rotation(33, -12, 71)
    assert np.allclose(quat_to_matrix(matrix_to_quat(r)), r)


def test_look_at() -> None:
    r = look_at_rotation(np.array([0.0, -5, 1]), np.array([0.0, 0, 1]))
    assert r[:, 2] == pytest.approx([0, 1, 0])
    assert r[:, 1] == pytest.approx([0, 0, -1])
    assert np.allclose(r.T @ r, np.eye(3))


def test_oriented_box() -> None:
    box = OrientedBox(np.array([1.0, 2, 3]), body_rotation(30, 0, 0), np.array([1.0, 2, 0.5]))
    corners = box.corners()
    assert box.contains(corners).all()
    assert not box.contains(np.array([[1.0, 2, 3.6]])).any()
    lo, hi = box.aabb()
    assert np.allclose(corners.min(0), lo) and np.allclose(corners.max(0), hi)
    m = np.eye(4)
    m[:3, :3] = 2 * body_rotation(10, 20, 0)
    m[:3, 3] = [1, 1, 1]
    moved = box.transformed(m)
    assert np.allclose(moved.corners().mean(0), m[:3, :3] @ box.center + 1)
    assert moved.volume() == pytest.approx(8 * box.volume())
