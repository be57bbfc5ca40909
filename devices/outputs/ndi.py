"""NDI outputs: one sender per canvas, paced by the render node's frame lock (never by NDI).

Each frame goes out with ``send_send_video_async_v2``, which returns at once; NDI may read the
pixels until the next send on that sender, so the caller keeps a buffer untouched until then (the
render node's host ring does). The call is made without Python's interpreter lock
(``devices.outputs.ndi_async_send``): when NDI is still compressing the previous frame it waits,
and the node's render thread must not wait with it. Pixels arrive already in the sender's format: (H, W, 2) UYVY,
NDI's native 4:2:2 (the node packs it on its GPU), (H, W, 4) BGRX, or (2H, W, 2) bytes of P216
(16-bit 4:2:2: a Y plane then an interleaved CbCr plane, for 10- and 16-bit canvases).

Frame rate goes out as the exact N/D of the stage; timecode on every frame is the frame's SMPTE
label as real time since midnight in 100 ns units (``count * D * 10**7 // N``). ``clock_video``
is off: the frame lock paces the frames. Receivers may come and go; the sender carries on.

Each sender learns the TCP port it listens on (``devices.outputs.listening``), so a node can
report ``ip:port`` for receivers that connect directly (NDI's per-host listing answers for one
process only, and a stage host runs one node process per GPU).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from fractions import Fraction
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from devices.outputs.listening import new_listening_port
from devices.outputs.ndi_async_send import AsyncVideoSend
from devices.outputs.ndi_runtime import NdiUnavailable, NetworkMode, ndi
from devices.outputs.pixels import bgrx_to_uyvy
from vpstage.nodes.outputs import OutputInfo

FourCC = Literal["BGRX", "UYVY", "P216"]
NDI_MESSAGING_PORT = 5960
"""NDI's per-host listing port (every NDI process opens it; it is not a sender's)."""
_create_lock = threading.Lock()


class NdiSender:
    """One NDI source. ``send`` is called from one thread (the node's present thread)."""

    def __init__(self, name: str, rate: Fraction, *, fourcc: FourCC = "UYVY", groups: str | None = None,
                 mode: NetworkMode = "loopback", canvas: str = "") -> None:
        self.lib = ndi(mode)
        self.name, self.rate, self.fourcc, self.mode = name, rate, fourcc, mode
        self.canvas = canvas or name
        settings = self.lib.SendCreate()
        settings.ndi_name = name
        settings.clock_video = False
        settings.clock_audio = False
        if groups:
            settings.groups = groups
        with _create_lock:  # one at a time, so the new listening port is this sender's
            instance, port, bound = new_listening_port(lambda: self.lib.send_create(settings),
                                                       {NDI_MESSAGING_PORT})
        self._instance = instance
        if self._instance is None:
            raise NdiUnavailable(f"NDI could not create the sender {name!r}")
        self.port = port
        self.bound = bound
        """The address the sender listens on (127.0.0.1 when the node runs with the loopback bind)."""
        self._async = AsyncVideoSend(self.lib, self._instance)
        self._held: list[NDArray[np.uint8]] = []
        self._uyvy: list[NDArray[np.uint8]] = []
        self.frames_sent = 0

    def send(self, pixels: NDArray[np.uint8], timecode_100ns: int) -> None:
        """Queue ``pixels`` ((H, W, 2) UYVY, (H, W, 4) BGRX or, on a P216 sender, (2H, W, 2)
        uint8, untouched until the next ``send``) with its timecode. A BGRX picture on a UYVY
        sender is converted here (CPU)."""
        if pixels.ndim != 3 or pixels.shape[2] not in (2, 4) or pixels.dtype != np.uint8:
            raise ValueError(f"an NDI frame is (H, W, 2) UYVY or (H, W, 4) BGRX uint8, not {pixels.shape} "
                             f"{pixels.dtype}")
        if self.fourcc == "P216" and (pixels.shape[2] != 2 or pixels.shape[0] % 2):
            raise ValueError(f"a P216 frame is (2H, W, 2) uint8, not {pixels.shape}")
        if pixels.shape[2] == 4 and self.fourcc == "UYVY":
            pixels = self._to_uyvy(pixels)
        fourcc = "P216" if self.fourcc == "P216" else "UYVY" if pixels.shape[2] == 2 else "BGRX"
        data = np.ascontiguousarray(pixels)
        yres = data.shape[0] // 2 if fourcc == "P216" else data.shape[0]  # P216: the CbCr plane follows Y
        self._async.send(data=data.ctypes.data, xres=data.shape[1], yres=yres, stride=data.shape[1] * data.shape[2],
                         fourcc=int(getattr(self.lib, f"FOURCC_VIDEO_TYPE_{fourcc}")),
                         rate=(self.rate.numerator, self.rate.denominator), timecode_100ns=timecode_100ns)
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

    def address(self, host: str = "127.0.0.1") -> str | None:
        """``host:port`` a receiver can connect to directly (None if the port was not seen)."""
        return None if self.port is None else f"{host}:{self.port}"

    def info(self) -> OutputInfo:
        host = "127.0.0.1" if self.mode == "loopback" else _host_address()
        exposed = self.mode == "loopback" and self.bound not in (None, "127.0.0.1", "::1")
        return OutputInfo(
            canvas=self.canvas, kind="ndi", name=self.source_name(), address=self.address(host),
            detail=f"{self.fourcc} {self.rate.numerator}/{self.rate.denominator}, {self.frames_sent} frames "
                   f"sent, {self.connections()} receiver(s), listening on {self.bound}"
                   + (" (NOT loopback: reachable from the network)" if exposed else ""))

    def close(self) -> None:
        if self._instance is not None:
            self._async.flush()  # waits for the frame in flight, without the GIL
            self.lib.send_destroy(self._instance)
            self._instance = None
            self._held = []


def _host_address() -> str:
    import socket

    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def find_source_addresses(names: Iterable[str], mode: NetworkMode = "loopback",
                          timeout_ms: int = 1000) -> dict[str, str]:
    """``{full NDI name: "ip:port"}`` of the named sources an NDI finder sees from here. On one
    host with several NDI processes it sees only one process's sources (prefer
    ``NdiSender.address`` as the nodes report it)."""
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
