"""Streaming H.264 MP4 encoder (PyAV): RGB frames in, one finished file out, nothing else on disk.

* Frames (numpy uint8, (height, width, 3) RGB) stream straight into the encoder; no images are
  written. With ``threaded=True`` encoding runs on a worker thread behind a small queue so the
  caller (a renderer) overlaps with it; errors surface on the next ``write`` or on ``close``.
* H.264, yuv420p, constant quality (``crf`` for libx264, the same number as ``cq`` for NVENC),
  ``h264_nvenc`` when it opens on this machine, else ``libx264``.
* The MP4 index (``moov``) is placed before the media data (``movflags=+faststart``, web
  friendly) and checked after closing.
* ``track_timescale`` (ticks per second of the MP4 track and of the movie header) is left to the
  muxer unless given: the rate's numerator (24000 for 24000/1001) makes every frame an exact
  whole number of ticks and the track's time base ``1/N``. The movie header gets the same scale
  because the edit list that B-frames need is counted in it: at the default 1/1000 a 24000/1001
  video reads back a few ticks short.
* Atomic: the file is written under a temporary name in the target folder and renamed on
  success; on any failure or ``abort()`` the temporary file is removed and no partial video exists.

PyAV is imported lazily (when an encoder is created).
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import tempfile
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from devices.video.mp4 import top_level_boxes

_STOP = object()


class VideoEncoderError(RuntimeError):
    """Encoding failed; the message names the output file."""


@dataclass(frozen=True, kw_only=True)
class EncodedVideo:
    path: Path
    frames: int
    codec: str
    """'libx264' or 'h264_nvenc'."""
    fps: Fraction
    width: int
    height: int


@functools.cache
def nvenc_available() -> bool:
    """Whether PyAV's FFmpeg can open an ``h264_nvenc`` encoder here (probed once per process)."""
    import av

    if "h264_nvenc" not in av.codecs_available:
        return False
    try:
        context = av.CodecContext.create("h264_nvenc", "w")
        context.width, context.height, context.pix_fmt = 256, 256, "yuv420p"
        context.time_base = Fraction(1, 30)
        context.open()
    except Exception:  # any failure to open (no GPU, no driver, no session) means no NVENC
        return False
    return True


def _codec_options(codec: str, crf: int) -> dict[str, str]:
    if codec == "h264_nvenc":
        return {"rc": "vbr", "cq": str(crf), "b": "0", "preset": "p4"}
    return {"crf": str(crf), "preset": "veryfast"}


class VideoEncoder:
    """Encode RGB frames to ``path`` (see the module docstring). Use as a context manager."""

    def __init__(self, path: str | os.PathLike[str], width: int, height: int, fps: float | Fraction = 30,
                 *, crf: int = 23, codec: str = "auto", threaded: bool = True,
                 track_timescale: int | None = None) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"yuv420p needs a positive even frame size, got {width}x{height}")
        if not 0 <= crf <= 51:
            raise ValueError(f"crf must be 0..51, got {crf}")
        if track_timescale is not None and track_timescale <= 0:
            raise ValueError(f"track timescale must be positive, got {track_timescale}")
        self.track_timescale = track_timescale
        self.path = Path(path)
        self.width, self.height, self.crf = width, height, crf
        self.fps = Fraction(fps).limit_denominator(1001)
        self.codec = ("h264_nvenc" if nvenc_available() else "libx264") if codec == "auto" else codec
        self.frames = 0
        self._error: BaseException | None = None
        self._closed = False
        self._tmp = self._temp_path()
        try:
            self._container, self._stream = self._open()
        except Exception as exc:
            self._remove_temp()
            raise VideoEncoderError(f"{self.path}: cannot open {self.codec} encoder: {exc}") from exc
        self._queue: queue.Queue[Any] | None = None
        self._worker: threading.Thread | None = None
        if threaded:
            self._queue = queue.Queue(maxsize=8)
            self._worker = threading.Thread(target=self._drain, name="video-encoder", daemon=True)
            self._worker.start()

    def _temp_path(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(name, 0o666 & ~umask)  # mkstemp makes 0600; a video is an ordinary shared file
        return Path(name)

    def _open(self) -> tuple[Any, Any]:
        import av

        options = {"movflags": "+faststart"}
        if self.track_timescale is not None:
            options["video_track_timescale"] = str(self.track_timescale)
            options["movie_timescale"] = str(self.track_timescale)
        container = av.open(str(self._tmp), mode="w", format="mp4", options=options)
        try:
            stream: Any = container.add_stream(self.codec, rate=self.fps, options=_codec_options(self.codec, self.crf))
            stream.width, stream.height, stream.pix_fmt = self.width, self.height, "yuv420p"
            stream.codec_context.time_base = 1 / self.fps
        except Exception:
            container.close()
            raise
        return container, stream

    # ------------------------------------------------------------------ frames
    def write(self, rgb: np.ndarray) -> None:
        """Queue (threaded) or encode one frame: uint8 (height, width, 3) RGB, C-contiguous or not."""
        if self._closed:
            raise VideoEncoderError(f"{self.path}: write after close")
        self._raise_pending()
        frame = np.asarray(rgb)
        if frame.dtype != np.uint8 or frame.shape != (self.height, self.width, 3):
            raise ValueError(f"frame must be uint8 ({self.height}, {self.width}, 3), got {frame.dtype} {frame.shape}")
        if self._queue is not None:
            self._queue.put(np.ascontiguousarray(frame))
        else:
            self._encode(frame)

    def _encode(self, rgb: np.ndarray | None) -> None:
        import av

        if rgb is None:
            packets = self._stream.encode(None)
        else:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = self.frames
            self.frames += 1
            packets = self._stream.encode(frame)
        for packet in packets:
            self._container.mux(packet)

    def _drain(self) -> None:
        assert self._queue is not None
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is None:
                try:
                    self._encode(item)
                except BaseException as exc:  # kept and re-raised on the caller's thread
                    self._error = exc

    def _raise_pending(self) -> None:
        if self._error is not None:
            error = self._error
            self.abort()
            raise VideoEncoderError(f"{self.path}: encoding failed: {error}") from error

    # ------------------------------------------------------------------ finish
    def close(self) -> EncodedVideo:
        """Flush, finish the file, check moov precedes mdat, and move it into place."""
        if self._closed:
            raise VideoEncoderError(f"{self.path}: encoder already closed")
        self._stop_worker()
        self._raise_pending()
        try:
            if self.frames == 0:
                raise VideoEncoderError(f"{self.path}: no frames were written")
            self._encode(None)
            self._container.close()
            boxes = top_level_boxes(self._tmp)
            if "moov" not in boxes or "mdat" not in boxes or boxes.index("moov") > boxes.index("mdat"):
                raise VideoEncoderError(f"{self.path}: MP4 index is not before the media data (boxes {boxes})")
            os.replace(self._tmp, self.path)
        except BaseException as exc:
            self.abort()
            if isinstance(exc, VideoEncoderError):
                raise
            raise VideoEncoderError(f"{self.path}: finishing the video failed: {exc}") from exc
        self._closed = True
        return EncodedVideo(path=self.path, frames=self.frames, codec=self.codec, fps=self.fps, width=self.width,
                            height=self.height)

    def abort(self) -> None:
        """Stop encoding and remove the temporary file; the target path is left untouched."""
        self._stop_worker()
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                self._container.close()
        self._remove_temp()

    def _stop_worker(self) -> None:
        if self._worker is not None and self._queue is not None:
            if self._worker.is_alive():
                self._queue.put(_STOP)
                self._worker.join()
            self._worker = None

    def _remove_temp(self) -> None:
        with contextlib.suppress(OSError):
            self._tmp.unlink()

    def __enter__(self) -> VideoEncoder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.abort()
        elif not self._closed:
            self.close()
