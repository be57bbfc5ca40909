"""The preview's video encoder: NVENC when it can run, opened on a worker thread while frames render.

* **Choice** (``choose_encoder``): ``h264_nvenc`` when the preview renders on a CUDA device, PyAV's
  FFmpeg has the encoder (``av.codecs_available``) and one opens on this machine
  (``devices.video.nvenc_available``: the driver's encode library and a session are there), else
  ``libx264``. The reason is kept for the report (``EncoderChoice.reason``).
* **Start-up overlap** (``PreviewEncoder``): importing PyAV, probing NVENC and opening the MP4 take
  a few hundred milliseconds, as do the first frames (kernel compilation, graph capture). The
  encoder opens on a worker thread meanwhile; frames rendered before it is ready wait in a short
  list (``PENDING_FRAMES``; the renderer blocks when it is full) and go in, in order, once it is.
  If NVENC was chosen but will not open for this video, libx264 takes over.

Nothing is left on disk on failure: ``abort`` (or leaving the ``with`` block by an exception)
waits for the worker and removes the encoder's temporary file.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from devices.video import EncodedVideo, VideoEncoder

NVENC, X264 = "h264_nvenc", "libx264"
PENDING_FRAMES = 8
"""Frames held while the encoder opens (1080p RGB: 6 MB each)."""


@dataclass(frozen=True)
class EncoderChoice:
    codec: str
    reason: str


def _codecs_available() -> Collection[str]:
    import av

    return frozenset(av.codecs_available)


def _nvenc_opens() -> bool:
    from devices.video import nvenc_available

    return nvenc_available()


def choose_encoder(render_device: str, requested: str = "auto", available: Callable[[], Collection[str]] | None = None,
                   nvenc_opens: Callable[[], bool] | None = None) -> EncoderChoice:
    """The codec for a preview rendered on ``render_device`` ('cpu', 'cuda', 'cuda:1', ...); a
    ``requested`` codec other than 'auto' is taken as it is. ``available`` and ``nvenc_opens``
    default to asking PyAV (each asked only when the answer matters)."""
    if requested != "auto":
        return EncoderChoice(requested, "requested")
    if not render_device.startswith("cuda"):
        return EncoderChoice(X264, f"NVENC is used only when rendering on CUDA (rendering on {render_device})")
    if NVENC not in (available or _codecs_available)():
        return EncoderChoice(X264, "this PyAV/FFmpeg build has no h264_nvenc")
    if not (nvenc_opens or _nvenc_opens)():
        return EncoderChoice(X264, "h264_nvenc did not open here (no NVIDIA encode library or session)")
    return EncoderChoice(NVENC, "CUDA render and an NVENC session opened")


def _load_png_encoder() -> None:
    """Import OpenCV (the thumbnail's PNG encoder) here, off the render thread, not after the last frame."""
    with contextlib.suppress(ImportError):  # reported where the thumbnail is written
        import cv2  # noqa: F401


class PreviewEncoder:
    """A ``VideoEncoder`` for ``path`` opened on a worker thread (see the module docstring).

    Use as a context manager; ``write`` and ``close`` on the caller's thread. ``timings_s`` says
    when the encoder was ready (after construction) and how long ``write`` waited for it.
    """

    def __init__(self, path: str | Path, width: int, height: int, fps: float, *, crf: int = 23,
                 codec: str = "auto", render_device: str = "cpu") -> None:
        self.path = Path(path)
        self._args = (width, height, fps, crf)
        self._requested, self._device = codec, render_device
        self._encoder: VideoEncoder | None = None
        self._error: BaseException | None = None
        self._pending: list[np.ndarray] = []
        self._started = time.perf_counter()
        self.choice: EncoderChoice | None = None
        self.timings_s = {"encoder_ready": 0.0, "encoder_wait": 0.0}
        self._ready = threading.Event()
        self._worker = threading.Thread(target=self._open, name="preview-encoder-open", daemon=True)
        self._worker.start()

    def _open(self) -> None:
        try:
            from devices.video import VideoEncoder, VideoEncoderError

            choice = choose_encoder(self._device, self._requested)
            width, height, fps, crf = self._args
            try:
                encoder = VideoEncoder(self.path, width, height, fps, crf=crf, codec=choice.codec)
            except VideoEncoderError as exc:
                if choice.codec != NVENC:
                    raise
                choice = EncoderChoice(X264, f"h264_nvenc failed to open for this video ({exc})")
                encoder = VideoEncoder(self.path, width, height, fps, crf=crf, codec=X264)
            self.choice, self._encoder = choice, encoder
            _load_png_encoder()
        except BaseException as exc:  # re-raised on the caller's thread
            self._error = exc
        finally:
            self.timings_s["encoder_ready"] = time.perf_counter() - self._started
            self._ready.set()

    def _wait(self) -> VideoEncoder:
        if not self._ready.is_set():
            started = time.perf_counter()
            self._ready.wait()
            self.timings_s["encoder_wait"] += time.perf_counter() - started
        if self._error is not None:
            raise self._error
        assert self._encoder is not None
        return self._encoder

    def write(self, rgb: np.ndarray) -> None:
        """One uint8 (height, width, 3) RGB frame; held while the encoder opens."""
        if not self._ready.is_set() and len(self._pending) < PENDING_FRAMES:
            self._pending.append(np.ascontiguousarray(rgb))
            return
        encoder = self._wait()
        for frame in self._pending:
            encoder.write(frame)
        self._pending.clear()
        started = time.perf_counter()
        encoder.write(rgb)
        self.timings_s["encoder_wait"] += time.perf_counter() - started  # a full encoding queue

    def close(self) -> EncodedVideo:
        """Encode what is held, finish the file (see ``VideoEncoder.close``)."""
        encoder = self._wait()
        for frame in self._pending:
            encoder.write(frame)
        self._pending.clear()
        return encoder.close()

    def abort(self) -> None:
        """Stop and remove the temporary file (waits for the worker; safe to call twice)."""
        self._worker.join()
        self._pending.clear()
        if self._encoder is not None:
            self._encoder.abort()

    def __enter__(self) -> PreviewEncoder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.abort()
