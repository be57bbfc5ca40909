"""Watching the wall: every picture that arrives, timestamped on arrival, reduced to one number.

``NdiWatcher`` receives one canvas from its NDI sender (connecting straight to ``ip:port``, as a
render node reports it) and keeps, per frame, the monotonic time the receiver handed it over, the
frame's NDI timecode (which names the frame: ``count * D * 10**7 // N``) and the signal the
``extract`` function gives for its picture. ``CaptureWatcher`` does the same for a camera (or a
capture card) through OpenCV's ``VideoCapture``; it has no timecode. Both run a thread of their
own that does nothing but wait for the next picture, stamp it and reduce it, so the stamp is the
arrival, not the time someone got round to reading it: keep ``extract`` cheap (the probe's
reduces a subsampled picture).
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from devices.outputs.ndi_runtime import NdiUnavailable, NetworkMode, ndi
from vpstage.timing import count_to_ndi_100ns

Extract = Callable[[NDArray[np.uint8]], float]
"""(H, W, 3|4) BGR(X) picture -> its signal (NaN: nothing to measure)."""


@dataclass(frozen=True, kw_only=True)
class PictureSample:
    receive_ns: int
    """Monotonic time the picture was handed over by the receiver (or the capture device)."""
    timecode_100ns: int | None
    """The NDI frame's timecode (None from a capture device)."""
    value: float
    width: int
    height: int


def ndi_100ns_to_count(timecode_100ns: int, rate: Fraction) -> int | None:
    """The timecode frame count an NDI timecode was made from (``count_to_ndi_100ns``'s inverse),
    or None when no count gives exactly this timecode."""
    step = rate.denominator * 10**7
    count = -((-timecode_100ns * rate.numerator) // step)  # ceil
    return count if count_to_ndi_100ns(count, rate) == timecode_100ns else None


class _Watcher(abc.ABC):
    def __init__(self, extract: Extract, capacity: int) -> None:
        self.extract = extract
        self.capacity = capacity
        self.error: str | None = None
        self._samples: list[PictureSample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._guarded, name=type(self).__name__, daemon=True)
        self._thread.start()

    def _guarded(self) -> None:
        try:
            self._run()
        except Exception as exc:  # reported by the probe, never silently lost
            self.error = f"{type(exc).__name__}: {exc}"

    @abc.abstractmethod
    def _run(self) -> None:
        """Receive pictures until ``_stop`` is set, handing each to ``_keep`` (on the watcher's thread)."""

    def _keep(self, sample: PictureSample) -> None:
        with self._lock:
            if len(self._samples) < self.capacity:
                self._samples.append(sample)

    def clear(self) -> None:
        """Forget what arrived so far (e.g. the start-up frames)."""
        with self._lock:
            self._samples = []

    def samples(self) -> list[PictureSample]:
        with self._lock:
            return list(self._samples)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._samples)

    def wait_for(self, count: int, timeout_s: float) -> bool:
        """True once ``count`` pictures have arrived (False after ``timeout_s`` or on an error)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.error is None:
            if self.count >= count:
                return True
            time.sleep(0.01)
        return self.count >= count

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None


class NdiWatcher(_Watcher):
    """An NDI receiver (BGRX) connected to ``address`` (``ip:port``)."""

    def __init__(self, address: str, extract: Extract, *, mode: NetworkMode = "loopback",
                 capacity: int = 100_000) -> None:
        super().__init__(extract, capacity)
        self.address = address
        self.lib = ndi(mode)
        settings = self.lib.RecvCreateV3()
        settings.color_format = self.lib.RECV_COLOR_FORMAT_BGRX_BGRA
        self._instance = self.lib.recv_create_v3(settings)
        if self._instance is None:
            raise NdiUnavailable(f"NDI could not create a receiver for {address}")
        source = self.lib.Source()
        source.url_address = address
        self.lib.recv_connect(self._instance, source)

    def _run(self) -> None:
        lib = self.lib
        while not self._stop.is_set():
            kind, video, _audio, _meta = lib.recv_capture_v2(self._instance, 100)
            if kind != lib.FRAME_TYPE_VIDEO:
                continue
            arrived = time.monotonic_ns()
            try:
                value = self.extract(video.data)
                self._keep(PictureSample(receive_ns=arrived, timecode_100ns=int(video.timecode), value=value,
                                         width=int(video.xres), height=int(video.yres)))
            finally:
                lib.recv_free_video_v2(self._instance, video)

    def stop(self) -> None:
        super().stop()
        if self._instance is not None:
            self.lib.recv_destroy(self._instance)
            self._instance = None


class CaptureWatcher(_Watcher):
    """A camera or capture card through OpenCV: ``source`` is a device index or a URL / file.
    The device's own buffer is asked to hold one frame, so a picture is stamped when it is read,
    not several frames later; what the device adds before that (its capture latency) is part of
    what it measures."""

    def __init__(self, source: int | str, extract: Extract, *, capacity: int = 100_000) -> None:
        import cv2

        super().__init__(extract, capacity)
        self._cv2: Any = cv2
        self._capture = cv2.VideoCapture(source)
        if not self._capture.isOpened():
            raise OSError(f"OpenCV cannot open the video source {source!r}")
        self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self.ended = False

    def _run(self) -> None:
        while not self._stop.is_set():
            ok, frame = self._capture.read()
            arrived = time.monotonic_ns()
            if not ok:
                self.ended = True  # a file at its end, or a device that went away
                return
            picture = np.asarray(frame, dtype=np.uint8)
            self._keep(PictureSample(receive_ns=arrived, timecode_100ns=None, value=self.extract(picture),
                                     width=int(picture.shape[1]), height=int(picture.shape[0])))

    def stop(self) -> None:
        super().stop()
        self._capture.release()
