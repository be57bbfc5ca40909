"""Tracker -> stage alignment: hand-set transforms and the least-squares solver."""

import numpy as np
import pytest

from vpstage.geometry.rotations import body_rotation
from vpstage.stage.model import Alignment
from vpstage.tracking.alignment import AlignmentTransform, solve_alignment


def _survey(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform([-4, -3, 0], [4, 5, 3], size=(n, 3))


@pytest.mark.parametrize("with_scale,scale", [(False, 1.0), (True, 1.02)])
def test_solver_recovers_a_known_transform_from_noisy_points(with_scale: bool, scale: float) -> None:
    truth = AlignmentTransform(body_rotation(31.0, -2.0, 1.5), np.array([0.8, -1.2, 0.05]), scale)
    tracker = _survey(8, seed=1)
    noise = np.random.default_rng(2).normal(0.0, 0.002, size=tracker.shape)  # 2 mm survey noise
    stage = truth.apply_points(tracker) + noise
    solution = solve_alignment(tracker, stage, with_scale=with_scale)
    est = solution.transform
    angle = np.degrees(np.arccos(np.clip((np.trace(est.rotation.T @ truth.rotation) - 1) / 2, -1, 1)))
    assert angle < 0.1
    assert np.linalg.norm(est.translation - truth.translation) < 0.01
    assert est.scale == pytest.approx(scale, abs=2e-3)
    assert solution.rms_m < 0.004 and len(solution.residuals_m) == 8
    assert "RMS" in solution.report()


def test_a_bad_capture_stands_out_in_the_residuals() -> None:
    tracker = _survey(6, seed=3)
    stage = tracker + np.array([1.0, 2.0, 0.0])
    stage[4] += [0.0, 0.25, 0.0]  # one point surveyed wrong by 25 cm
    solution = solve_alignment(tracker, stage)
    assert int(np.argmax(solution.residuals_m)) == 4


def test_three_points_are_enough_and_collinear_points_are_refused() -> None:
    tracker = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    truth = AlignmentTransform(body_rotation(-90.0, 0.0, 0.0), np.array([1.0, 1.0, 1.0]))
    solution = solve_alignment(tracker, truth.apply_points(tracker))
    assert np.allclose(solution.transform.rotation, truth.rotation) and solution.rms_m < 1e-9
    with pytest.raises(ValueError, match="collinear"):
        solve_alignment([[0, 0, 0], [1, 1, 1], [2, 2, 2]], [[0, 0, 0], [1, 1, 1], [2, 2, 2]])
    with pytest.raises(ValueError, match="at least 3"):
        solve_alignment([[0, 0, 0], [1, 0, 0]], [[0, 0, 0], [1, 0, 0]])


def test_project_alignment_round_trip() -> None:
    model = Alignment(translation=(1.0, 2.0, 0.5), yaw_deg=30.0, pitch_deg=2.0, roll_deg=-1.0, scale=1.01)
    transform = AlignmentTransform.from_model(model)
    back = transform.to_model()
    assert back.translation == pytest.approx(model.translation)
    assert (back.yaw_deg, back.pitch_deg, back.roll_deg, back.scale) == pytest.approx((30.0, 2.0, -1.0, 1.01))
    # p_stage = scale * R @ p + t
    assert transform.apply_points([1.0, 0.0, 0.0]) == pytest.approx(
        1.01 * body_rotation(30.0, 2.0, -1.0) @ [1.0, 0.0, 0.0] + [1.0, 2.0, 0.5])
