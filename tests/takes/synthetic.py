"""Synthetic take records for tests: 2 cameras, 4 nodes, 2 scene assets, deterministic values.

Values are irrational-looking floats (sines of the frame index) so that an exact read-back really
checks every bit. Options inject late/dropped nodes and stale/missing tracking per frame.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection
from fractions import Fraction

from vpstage.stage.model import Placement
from vpstage.takes import (
    CalibratedCameraState,
    CameraRecord,
    FrameRecord,
    NodeTiming,
    RawCameraState,
    SceneAssetState,
    TakeRecorder,
)
from vpstage.tracking import CameraState
from vpstage.tracking.distortion import LensDistortion

RATE = Fraction(60)
START_TC_FRAMES = 3600 * 60  # 01:00:00:00 at 60 fps
CAMERAS = ("A", "B")
NODES = ("gpu0", "gpu1", "gpu2", "gpu3")


def timecode_60(count: int) -> str:
    """Non-drop 60 fps label of a frame count since midnight."""
    frames, seconds = count % 60, count // 60
    return f"{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{frames:02d}"


def pose(camera: str, i: int) -> tuple[tuple[float, float, float], float, float, float]:
    """Eye (m) and pan/tilt/roll (deg) of a camera at frame i (a slow dolly with a pan)."""
    k = 0 if camera == "A" else 1
    eye = (-1.5 + 0.01 * i + k, -2.0 + 0.3 * math.sin(i / 40), 1.6 + 0.05 * math.cos(i / 25))
    return eye, 20 * math.sin(i / 60) - 10 * k, 3 + 2 * math.sin(i / 33), 0.5 * math.sin(i / 17)


def distortion(camera: str, i: int) -> LensDistortion:
    """Every coefficient set and different per frame; camera A OpenCV-calibrated (U-D), B D-U."""
    model = "Brown-Conrady U-D" if camera == "A" else "Brown-Conrady D-U"
    radial = tuple(-0.02 + 1e-4 * math.sin(i) if k == 0 else 10.0 ** -(k + 2) * math.cos(i + k) for k in range(6))
    return LensDistortion(model=model, radial=radial,  # type: ignore[arg-type]
                          tangential=(1e-5 * math.sin(i / 3), -2e-5 + 1e-7 * i), overscan=1.05 + 1e-3 * math.sin(i / 7),
                          offset_mm=(0.01 * math.cos(i / 5), -0.02 + 1e-4 * i))


def layering(camera: str, i: int) -> dict[str, object]:
    """A on even frames and B on odd ones, B active from frame 6 on."""
    k = CAMERAS.index(camera)
    return {"priority": 2 - k, "active": (k == 1) == (i >= 6), "on_wall": i % 2 == k, "interleave": (2, k)}


def camera_record(camera: str, i: int, *, stale: bool = False, missing: bool = False) -> CameraRecord:
    if missing:
        return CameraRecord(camera=camera, raw=None, calibrated=None, tracking_age_ms=None,
                            **layering(camera, i))  # type: ignore[arg-type]
    eye, pan, tilt, roll = pose(camera, i)
    state = CameraState.from_pan_tilt_roll(eye, pan, tilt, roll, 35.0 + math.sin(i / 50), 24.89, 18.66,
                                           principal_offset_mm=(0.05, -0.03), distortion=distortion(camera, i),
                                           focus_distance_m=3.2 + math.sin(i / 70), f_stop=2.8)
    raw = RawCameraState(protocol="freed", source=f"tracker-{camera}", x_m=eye[0] + 0.001, y_m=eye[1], z_m=eye[2],
                         pan_deg=pan, tilt_deg=tilt, roll_deg=roll, focus_raw=40000 + i, iris_raw=1200,
                         zoom_raw=30000 + 2 * i)
    age = 250.0 + i % 7 if stale else 4.0 + 1.7 * math.sin(i / 3) ** 2
    return CameraRecord(camera=camera, raw=raw, calibrated=CalibratedCameraState.from_camera_state(state, 0.1234),
                        tracking_age_ms=age, **layering(camera, i))  # type: ignore[arg-type]


def scene_state(i: int) -> tuple[SceneAssetState, ...]:
    """Two assets; the placement of the second changes once, at frame 100."""
    moved = 0.25 if i >= 100 else 0.0
    return (SceneAssetState.from_placement("city", Placement(translation=(0.1, 2.0, -0.3), yaw_deg=12.5),
                                           "sha256:" + "ab" * 32),
            SceneAssetState.from_placement("sky", Placement(translation=(moved, 0.0, 0.0), scale=2.5),
                                           "sha256:" + "cd" * 32, enabled=i % 50 != 0))


def make_frame(i: int, *, late: Collection[str] = (), dropped: Collection[str] = (),
               stale: Collection[str] = (), missing: Collection[str] = (), monotonic_ns: int | None = None,
               frame_offset: int = 1000) -> FrameRecord:
    """Frame ``i`` of a take (frame number ``frame_offset + i``, timecode from 01:00:00:00)."""
    cameras = tuple(camera_record(c, i, stale=c in stale, missing=c in missing) for c in CAMERAS)
    nodes = tuple(NodeTiming(node=n, plan_ms=0.3 + 0.01 * k, render_ms=9.0 + math.sin(i + k),
                             present_ms=0.8 + 0.1 * math.cos(i * k), late=n in late,
                             dropped=n in dropped) for k, n in enumerate(NODES))
    count = START_TC_FRAMES + i
    mono = monotonic_ns if monotonic_ns is not None else 10**12 + i * 16_666_667
    return FrameRecord(frame=frame_offset + i, timecode=timecode_60(count), timecode_frames=count, rate=RATE,
                       monotonic_ns=mono, cameras=cameras, scene=scene_state(i), nodes=nodes)


def drive(recorder: TakeRecorder, count: int, *, rate_hz: float | None = 60.0,
          make: Callable[[int], FrameRecord] = make_frame) -> list[FrameRecord]:
    """Hand ``count`` frames to the recorder as the frame loop would: one per tick at ``rate_hz``
    (None: as fast as possible). Returns the frames handed over."""
    frames = []
    start = time.perf_counter()
    for i in range(count):
        if rate_hz is not None:
            delay = start + i / rate_hz - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        frame = make(i)
        assert recorder.record(frame), f"frame {i} refused: {recorder.stats()}"
        frames.append(frame)
    return frames


def record_take(recorder: TakeRecorder, slate: str, count: int, *, skip: Collection[int] = (),
                make: Callable[[int], FrameRecord] = make_frame, **meta: object) -> list[FrameRecord]:
    """Record a whole take as fast as possible (frames ``i`` in ``skip`` are never handed over)."""
    recorder.start_take(slate, rate=RATE, **meta)  # type: ignore[arg-type]
    frames = [make(i) for i in range(count) if i not in skip]
    for frame in frames:
        assert recorder.record(frame), f"frame {frame.frame} refused: {recorder.stats()}"
    recorder.stop_take()
    return frames
