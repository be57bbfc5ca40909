"""Real takes for review-video tests: recorded by a TakeRecorder on the demo stage (procedural:demo).

Camera A dollies sideways inside the volume looking at the main wall (+Y) while panning, in steps:
it moves every ``STEP`` frames and holds still in between (so pictures repeat, which keeps the CPU
renders few). Timecodes start at 01:00:00:00 at the take's rate.
"""

from __future__ import annotations

from collections.abc import Collection
from fractions import Fraction
from pathlib import Path

from tests.conftest import STAGES
from vpstage.stage import Stage
from vpstage.takes import CalibratedCameraState, CameraRecord, FrameRecord, SceneAssetState, TakeRecorder
from vpstage.timing.timecode import Timecode
from vpstage.tracking import CameraState

DEMO_STAGE = STAGES / "demo.yaml"
STEP = 4


def camera_state(i: int) -> CalibratedCameraState:
    t = 3 * (i // STEP)
    state = CameraState.from_pan_tilt_roll((-0.5 + 0.05 * t, -1.0, 1.7), -8.0 + 1.0 * t, 2.0, 0.0, 30.0, 24.89,
                                           14.0, image_width=1920, image_height=1080, focus_distance_m=4.0,
                                           f_stop=2.8)
    return CalibratedCameraState.from_camera_state(state, 0.1)


def review_frame(i: int, rate: Fraction, *, gap: Collection[int] = (),
                 scene: tuple[SceneAssetState, ...]) -> FrameRecord:
    count = 3600 * round(rate) + i  # 01:00:00:00 (non-drop labels) plus i frames
    tracked = i not in gap
    camera = CameraRecord(camera="A", raw=None, calibrated=camera_state(i) if tracked else None,
                          tracking_age_ms=5.0 if tracked else None)
    return FrameRecord(frame=100 + i, timecode=str(Timecode.from_count(count, rate)), timecode_frames=count, rate=rate,
                       monotonic_ns=10**9 + i * 10**7, cameras=(camera,), scene=scene)


def record_review_take(db: Path, slate: str, count: int, *, rate: Fraction = Fraction(24000, 1001),
                       gap: Collection[int] = (), skip: Collection[int] = (),
                       stage_file: Path = DEMO_STAGE) -> list[FrameRecord]:
    """Record ``count`` frames (minus ``skip``) of a take on ``stage_file``'s project; camera A has
    no state in the frames of ``gap``. Returns the frames recorded."""
    project = Stage.open(stage_file).project
    scene = tuple(SceneAssetState.from_placement(a.name, a.placement, "", a.enabled) for a in project.scene)
    frames = [review_frame(i, rate, gap=gap, scene=scene) for i in range(count) if i not in skip]
    with TakeRecorder(db) as recorder:
        recorder.start_take(slate, rate=rate, project=project, scene="12A")
        for frame in frames:
            assert recorder.record(frame), recorder.stats()
        recorder.stop_take()
    return frames


def write_slab(path: Path, scale: float) -> None:
    """A red opaque slab of splats, 0.8 m wide and 0.6 m tall, facing the camera 3 m ahead of it
    (stage y = 2 m, centred on x = -0.5 m, z = 1.4..2.0 m), written in a scene frame ``scale`` times
    the stage (a placement of that scale puts it back)."""
    import numpy as np

    from render.splat.io import save_splat
    from render.splat.model import SH_C0, SplatModel

    xs, zs = np.meshgrid(np.arange(-0.9, -0.1, 0.02), np.arange(1.4, 2.0, 0.02))
    stage = np.stack([xs.ravel(), np.full(xs.size, 2.0), zs.ravel()], axis=1)
    n = len(stage)
    quats = np.tile([1.0, 0.0, 0.0, 0.0], (n, 1))
    sh = np.tile(((np.array([0.95, 0.05, 0.05]) - 0.5) / SH_C0)[None, None, :], (n, 1, 1))
    save_splat(SplatModel.from_numpy(stage * scale, np.full((n, 3), 0.015 * scale), quats, np.full(n, 0.99), sh),
               path)
