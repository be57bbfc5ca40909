"""NDI outputs: one sender per canvas, paced by the frame loop (never by NDI).

Each frame goes out with ``send_send_video_async_v2``, which returns at once; NDI may read the
pixels until the next send on that sender, so every sender keeps the two most recent buffers
alive (double buffering). Canvases arrive as immutable BGRX arrays and are sent as they are
(zero copy); for UYVY they are converted into one of two buffers the sender owns.

Frame rate goes out as the exact N/D of the stage; timecode on every frame is the frame's SMPTE
label as real time since midnight in 100 ns units (``count * D * 10**7 // N``). ``clock_video``
is off: the frame loop's clock paces the frames. Receivers may come and go; the sender carries on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from fractions import Fraction
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from devices.outputs.ndi_runtime import NdiUnavailable, NetworkMode, ndi
from devices.outputs.pixels import bgrx_to_uyvy
from vpstage.engine import OutputInfo
from vpstage.stage import Stage
from vpstage.timing import FrameTick, count_to_ndi_100ns

FourCC = Literal["BGRX", "UYVY"]


class NdiSender:
    """One NDI source. ``send`` is called from one thread (the frame loop's)."""

    def __init__(self, name: str, rate: Fraction, *, fourcc: FourCC = "BGRX", groups: str | None = None,
                 mode: NetworkMode = "loopback") -> None:
        self.lib = ndi(mode)
        self.name, self.rate, self.fourcc = name, rate, fourcc
        settings = self.lib.SendCreate()
        settings.ndi_name = name
        settings.clock_video = False
        settings.clock_audio = False
        if groups:
            settings.groups = groups
        self._instance = self.lib.send_create(settings)
        if self._instance is None:
            raise NdiUnavailable(f"NDI could not create the sender {name!r}")
        self._frame = self.lib.VideoFrameV2()
        self._frame.frame_rate_N, self._frame.frame_rate_D = rate.numerator, rate.denominator
        self._fourcc_code = getattr(self.lib, f"FOURCC_VIDEO_TYPE_{fourcc}")
        self._held: list[NDArray[np.uint8]] = []
        self._uyvy: list[NDArray[np.uint8]] = []
        self.frames_sent = 0

    def send(self, image: NDArray[np.uint8], timecode_100ns: int) -> None:
        """Queue ``image`` ((H, W, 4) uint8 BGRX, not modified afterwards) with its timecode."""
        if image.ndim != 3 or image.shape[2] != 4 or image.dtype != np.uint8:
            raise ValueError(f"an NDI canvas is (H, W, 4) uint8 BGRX, not {image.shape} {image.dtype}")
        data = self._to_uyvy(image) if self.fourcc == "UYVY" else np.ascontiguousarray(image)
        self._frame.data = data  # sets xres, yres, stride and the (square-pixel) aspect ratio
        self._frame.FourCC = self._fourcc_code
        self._frame.timecode = timecode_100ns
        self.lib.send_send_video_async_v2(self._instance, self._frame)
        self._held = [*self._held[-1:], data]  # the previous buffer is released only now
        self.frames_sent += 1

    def _to_uyvy(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        shape = (image.shape[0], image.shape[1], 2)
        if len(self._uyvy) < 2 or self._uyvy[0].shape != shape:
            self._uyvy = [np.empty(shape, np.uint8), np.empty(shape, np.uint8)]
        target = self._uyvy[self.frames_sent % 2]  # never the buffer NDI may still be reading
        return bgrx_to_uyvy(image, out=target)

    def connections(self) -> int:
        """Receivers connected right now."""
        return int(self.lib.send_get_no_connections(self._instance, 0))

    def source_name(self) -> str:
        """The name receivers see: ``"MACHINE (name)"``."""
        return str(self.lib.send_get_source_name(self._instance).ndi_name)

    def close(self) -> None:
        if self._instance is not None:
            self.lib.send_destroy(self._instance)  # waits for an async frame in flight
            self._instance = None
            self._held = []


def find_source_addresses(names: Iterable[str], mode: NetworkMode = "loopback",
                          timeout_ms: int = 1000) -> dict[str, str]:
    """``{full NDI name: "ip:port"}`` of the named sources visible from here (local ones included)."""
    lib = ndi(mode)
    wanted = set(names)
    settings = lib.FindCreate()
    settings.show_local_sources = True
    if mode == "loopback":
        settings.extra_ips = "127.0.0.1"
    finder = lib.find_create_v2(settings)
    if finder is None:
        return {}
    try:
        found: dict[str, str] = {}
        for _ in range(max(1, timeout_ms // 100)):
            for source in lib.find_get_current_sources(finder):
                if source.ndi_name in wanted and source.url_address:
                    found[source.ndi_name] = source.url_address
            if wanted <= set(found):
                break
            lib.find_wait_for_sources(finder, 100)
        return found
    finally:
        lib.find_destroy(finder)


class NdiPresenter:
    """A ``vpstage.engine.Presenter``: an NDI sender for each NDI canvas of the stage.

    Sender names are ``"{prefix} {canvas}"``. ``mode`` defaults to the project's ``network.mode``.
    """

    def __init__(self, stage: Stage, *, prefix: str = "vpstage", fourcc: FourCC = "BGRX",
                 canvases: Iterable[str] | None = None, mode: NetworkMode | None = None) -> None:
        project = stage.project
        self.mode: NetworkMode = mode or project.network.mode
        self.rate = project.frame_rate
        chosen = set(canvases) if canvases is not None else {c.name for c in project.canvases
                                                              if c.transport == "ndi"}
        self.senders = {c.name: NdiSender(f"{prefix} {c.name}", self.rate, fourcc=fourcc,
                                          groups=project.network.ndi_groups, mode=self.mode)
                        for c in project.canvases if c.name in chosen}
        self._addresses: dict[str, str] = {}
        self._lock = threading.Lock()

    def present(self, canvas: str, image: NDArray[np.uint8], tick: FrameTick) -> None:
        sender = self.senders.get(canvas)
        if sender is not None:
            sender.send(image, count_to_ndi_100ns(tick.count, self.rate))

    def addresses(self) -> dict[str, str]:
        """``{canvas: "ip:port"}``, looked up once through an NDI finder (any thread)."""
        with self._lock:
            missing = {s.source_name(): canvas for canvas, s in self.senders.items() if canvas not in self._addresses}
            if missing:
                for name, address in find_source_addresses(missing, self.mode).items():
                    self._addresses[missing[name]] = address
            return dict(self._addresses)

    def outputs(self) -> list[OutputInfo]:
        addresses = self.addresses()
        return [OutputInfo(canvas, "ndi", s.source_name(), addresses.get(canvas),
                           f"{s.fourcc} {s.rate.numerator}/{s.rate.denominator}, {s.frames_sent} frames sent, "
                           f"{s.connections()} receiver(s)")
                for canvas, s in self.senders.items()]

    def close(self) -> None:
        for sender in self.senders.values():
            sender.close()

