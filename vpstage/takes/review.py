"""The timeline of a take's review video: one entry per video frame, and what to show in it.

Pure functions over a take's frame records (in frame order); no rendering, no I/O. The renderer
(``render/review.py``) walks the timeline, renders the entries that carry a camera state and holds
the previous picture for the others, saying why in the burn-in:

* ``tracking gap``: the frame was recorded but the chosen camera had no calibrated state;
* ``not recorded``: the frame loop numbered a frame the take has no record of (the recorder lost
  it, see ``TakeInfo.frames_lost``). It keeps its place, so the video's time always matches the
  take's timecode; its label continues the previous record's timecode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from vpstage.takes.frame_records import CalibratedCameraState, FrameRecord, SceneAssetState
from vpstage.timing.timecode import Timecode

HoldReason = Literal["tracking gap", "not recorded"]


class ReviewTimelineError(ValueError):
    """The take cannot make a review video (no frames, unknown camera, never tracked)."""


@dataclass(frozen=True, kw_only=True)
class ReviewFrame:
    """One video frame. ``state`` and ``scene`` are what to render; ``hold`` (with ``state`` None)
    says why the previous picture is repeated instead."""

    index: int
    """Video frame index from 0."""
    frame: int
    """The frame loop's frame number."""
    timecode: str
    state: CalibratedCameraState | None
    scene: tuple[SceneAssetState, ...]
    hold: HoldReason | None = None


def take_cameras(frames: Sequence[FrameRecord]) -> list[str]:
    """Camera names in the order the records list them (first appearance)."""
    names: dict[str, None] = {}
    for record in frames:
        for camera in record.cameras:
            names.setdefault(camera.camera, None)
    return list(names)


def pick_camera(frames: Sequence[FrameRecord], camera: str | None) -> str:
    """``camera`` if the take recorded it, else (None) the first camera; ReviewTimelineError if none."""
    names = take_cameras(frames)
    if camera is None:
        if not names:
            raise ReviewTimelineError("the take recorded no camera")
        return names[0]
    if camera not in names:
        raise ReviewTimelineError(f"the take has no camera {camera!r} (cameras: {', '.join(names) or 'none'})")
    return camera


def first_state(frames: Sequence[FrameRecord], camera: str) -> CalibratedCameraState:
    """The camera's first calibrated state; ReviewTimelineError when it was never tracked."""
    for record in frames:
        entry = record.camera(camera)
        if entry is not None and entry.calibrated is not None:
            return entry.calibrated
    raise ReviewTimelineError(f"camera {camera} has no tracked frame in this take")


def review_timeline(frames: Sequence[FrameRecord], camera: str) -> list[ReviewFrame]:
    """One entry per frame number from the first record to the last (see the module docstring)."""
    if not frames:
        raise ReviewTimelineError("the take has no recorded frames")
    out: list[ReviewFrame] = []
    previous: FrameRecord | None = None
    for record in frames:
        if previous is not None:
            for step in range(1, record.frame - previous.frame):
                out.append(ReviewFrame(index=len(out), frame=previous.frame + step,
                                       timecode=_label_after(previous, step), state=None, scene=previous.scene,
                                       hold="not recorded"))
        entry = record.camera(camera)
        state = None if entry is None else entry.calibrated
        out.append(ReviewFrame(index=len(out), frame=record.frame, timecode=record.timecode, state=state,
                               scene=record.scene, hold=None if state is not None else "tracking gap"))
        previous = record
    return out


def _label_after(record: FrameRecord, step: int) -> str:
    """The timecode ``step`` frames after ``record``'s (same rate and drop-frame counting)."""
    drop_frame = ";" in record.timecode
    return str(Timecode.from_count(record.timecode_frames + step, record.rate, drop_frame))
