"""Review videos of recorded takes: the camera's view along the recorded path, with burn-in.

``render_take_review(library, "A001_T03", "take.mp4", ReviewOptions(...), project_dir=...)``:

* one video frame per frame number of the take (``vpstage.takes.review``), at the take's rate
  (exact ``N/D``; the MP4 track's time base is ``1/N``, each frame ``D`` ticks);
* each frame shows the take's scene (``render.review_scene``) through the recorded calibrated
  camera of the chosen camera (default: the first the take recorded), intrinsics scaled to the
  output size: the scene as the camera saw it on the wall's inner frustum. Lens distortion is
  not applied (the picture is the undistorted pinhole view the wall was rendered for);
* quality: ``draft`` renders at half size and scales up, ``standard`` renders each output pixel
  once, ``high`` renders at twice the size and averages 2 x 2 blocks (supersampling);
* a frame without a camera state (tracking gap) or without a record (lost by the recorder)
  repeats the previous picture and says so in the burn-in;
* burn-in (bottom-left box): take name and camera, the frame's recorded timecode, the hold reason;
* H.264 yuv420p MP4 with the index at the front, written atomically: on any failure or
  cancellation no file (and no partial file) is left at ``output``.

Runs on the calling thread (the console calls it from a worker thread, never the GUI thread);
``progress(done, total)`` is called on that thread after each frame; setting ``cancel`` stops it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from devices.video import VideoEncoder
from render.review_scene import ReviewScene, ReviewSceneError, load_review_scene
from vpstage.patterns.burnin import BurnInLine, burn_in
from vpstage.takes import TakeInfo, TakeLibrary
from vpstage.takes.frame_records import CalibratedCameraState, SceneAssetState
from vpstage.takes.review import (
    ReviewFrame,
    ReviewTimelineError,
    first_state,
    pick_camera,
    review_timeline,
)

Quality = Literal["draft", "standard", "high"]
RENDER_SCALE: dict[Quality, float] = {"draft": 0.5, "standard": 1.0, "high": 2.0}
"""Render size relative to the output size, per quality."""
DEFAULT_MAX_WIDTH = 1920
Progress = Callable[[int, int], None]


class ReviewError(Exception):
    """The review video could not be made; the message says why. Nothing was written."""


class ReviewCancelled(ReviewError):
    pass


@dataclass(frozen=True, kw_only=True)
class ReviewOptions:
    size: tuple[int, int] | None = None
    """Output (width, height), even numbers; None: the camera's image aspect, at most 1920 wide."""
    quality: Quality = "standard"
    camera: str | None = None
    """None: the first camera the take recorded."""
    device: str = "cpu"
    crf: int = 20
    codec: str = "auto"
    """``auto`` (NVENC when it opens, else libx264), ``libx264`` or ``h264_nvenc``."""
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def check(self) -> None:
        """Raise ValueError for an output size, quality or crf the encoder cannot take."""
        if self.size is not None:
            width, height = self.size
            if width < 16 or height < 16 or width % 2 or height % 2:
                raise ValueError(f"the size must be even and at least 16x16 (yuv420p), got {width}x{height}")
        if not 0 <= self.crf <= 51:
            raise ValueError(f"crf must be 0..51, got {self.crf}")
        if self.quality not in RENDER_SCALE:
            raise ValueError(f"unknown quality {self.quality!r}; use {', '.join(RENDER_SCALE)}")


@dataclass(frozen=True, kw_only=True)
class ReviewResult:
    path: Path
    take: str
    camera: str
    frames: int
    rendered: int
    """Frames whose picture was rendered (the others repeat one)."""
    tracking_gaps: int
    not_recorded: int
    rate: Fraction
    width: int
    height: int
    codec: str
    quality: Quality
    render_s: float
    """Time spent rendering pictures (not counting asset loading and encoding)."""
    warnings: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return float(self.frames / self.rate)


def default_size(state: CalibratedCameraState, max_width: int = DEFAULT_MAX_WIDTH) -> tuple[int, int]:
    """The camera's image aspect at most ``max_width`` wide, in even numbers."""
    width = min(max_width, state.image_width)
    height = width * state.image_height / state.image_width
    return max(16, width - width % 2), max(16, round(height / 2) * 2)


def render_take_review(library: TakeLibrary, ref: str | int, output: str | Path,
                       options: ReviewOptions = ReviewOptions(), *, project_dir: str | Path,
                       progress: Progress | None = None, cancel: threading.Event | None = None) -> ReviewResult:
    """Write the review video of take ``ref`` to ``output`` (module docstring).

    ``project_dir``: the folder relative asset paths of the take's stage configuration resolve
    against. Raises TakeNotFoundError / TakeRefError for a bad reference, ValueError for bad
    options, ReviewError for everything else (ReviewCancelled when ``cancel`` was set)."""
    options.check()
    take = library.get(ref)
    frames = library.frames(take.id)
    try:
        camera = pick_camera(frames, options.camera)
        timeline = review_timeline(frames, camera)
        size = options.size or default_size(first_state(frames, camera))
        hashes = {s.name: s.content_hash for f in frames for s in f.scene if s.content_hash}
        shown = {s.name for entry in timeline if entry.state is not None for s in entry.scene if s.enabled}
        scene = load_review_scene(library.stage_yaml(take.id), shown, take.name, Path(project_dir), options.device,
                                  hashes)
    except (ReviewTimelineError, ReviewSceneError) as exc:
        raise ReviewError(f"{take.name}: {exc}") from exc
    scene.background = options.background
    writer = _ReviewWriter(take, camera, scene, size, options)
    try:
        with VideoEncoder(output, size[0], size[1], take.rate, crf=options.crf, codec=options.codec,
                          track_timescale=take.rate.numerator) as encoder:
            for entry in timeline:
                if cancel is not None and cancel.is_set():
                    raise ReviewCancelled(f"{take.name}: review video cancelled")
                encoder.write(writer.picture(entry))
                if progress is not None:
                    progress(entry.index + 1, len(timeline))
            encoded = encoder.close()
    except ReviewError:
        raise
    except (RuntimeError, OSError) as exc:  # encoder errors (VideoEncoderError), device errors, a full disk
        raise ReviewError(f"{take.name}: {exc}") from exc
    gaps = sum(e.hold == "tracking gap" for e in timeline)
    return ReviewResult(path=encoded.path, take=take.name, camera=camera, frames=encoded.frames,
                        rendered=writer.rendered, tracking_gaps=gaps,
                        not_recorded=sum(e.hold == "not recorded" for e in timeline), rate=take.rate, width=size[0],
                        height=size[1], codec=encoded.codec, quality=options.quality, render_s=writer.render_s,
                        warnings=scene.warnings)


class _ReviewWriter:
    """Pictures of the timeline, in order: renders, holds, burn-in (one per call, on one thread)."""

    def __init__(self, take: TakeInfo, camera: str, scene: ReviewScene, size: tuple[int, int],
                 options: ReviewOptions) -> None:
        self.title = f"{take.name}  CAM {camera}"
        self.scene = scene
        self.width, self.height = size
        self.scale = RENDER_SCALE[options.quality]
        self.rendered = 0
        self.render_s = 0.0
        self._key: tuple[CalibratedCameraState, tuple[SceneAssetState, ...]] | None = None
        self._last = np.zeros((self.height, self.width, 3), dtype=np.uint8)
        self._last[...] = np.round(np.asarray(options.background) * 255.0).astype(np.uint8)

    def picture(self, entry: ReviewFrame) -> np.ndarray:
        """(height, width, 3) uint8 RGB of ``entry``, burn-in included."""
        if entry.state is not None and (entry.state, entry.scene) != self._key:
            started = time.perf_counter()
            self._last = self._render(entry.state, entry.scene)
            self.render_s += time.perf_counter() - started
            self.rendered += 1
            self._key = (entry.state, entry.scene)
        frame = self._last.copy()
        lines = [BurnInLine(self.title), BurnInLine(f"TC {entry.timecode}")]
        if entry.hold is not None:
            lines.append(BurnInLine(f"{entry.hold} - hold", alert=True))
        burn_in(frame, lines)
        return frame

    def _render(self, state: CalibratedCameraState, scene: tuple[SceneAssetState, ...]) -> np.ndarray:
        width = max(8, round(self.width * self.scale))
        height = max(8, round(self.height * self.scale))
        rgb = self.scene.render(state.to_camera_state(), scene, width, height)
        if (width, height) != (self.width, self.height):
            mode = "area" if width > self.width else "bilinear"
            chw = rgb.permute(2, 0, 1)[None]
            rgb = F.interpolate(chw, size=(self.height, self.width), mode=mode,
                                **({"align_corners": False} if mode == "bilinear" else {}))[0].permute(1, 2, 0)
        return np.ascontiguousarray((rgb.clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8).cpu().numpy())
