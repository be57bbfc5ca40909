"""WebRTC viewers (aiortc, on the server's asyncio loop): one peer connection per viewer, one
video track each, fed from the :class:`remote.feed.ViewFeed`.

The browser sends an offer (``POST /api/webrtc/offer``) with a receive-only video transceiver;
the answer prefers H.264 (constrained baseline, what browsers decode in hardware) and falls back
to VP8. Each viewer's track takes the newest frame of its view whenever the encoder is ready for
one: a slow viewer misses frames (``dropped``, its own count), nobody waits for it.

On a loopback-only server the ICE candidates are 127.0.0.1 only (aioice leaves loopback out of
its host candidates and has no option for it: :func:`restrict_ice_to_loopback` replaces its
address lookup, process-wide, while a loopback server runs).
"""

from __future__ import annotations

import asyncio
import fractions
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import aioice.ice
import av
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from remote.feed import FrameSlot, ViewFeed, ViewKey

VIDEO_CLOCK = 90_000
PREFERRED_CODECS = ("video/H264", "video/VP8")
_ORIGINAL_HOST_ADDRESSES = aioice.ice.get_host_addresses


def restrict_ice_to_loopback(enabled: bool) -> None:
    """ICE host candidates on 127.0.0.1 only (True) or on every interface but loopback (False)."""
    if enabled:
        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []
    else:
        aioice.ice.get_host_addresses = _ORIGINAL_HOST_ADDRESSES


@dataclass(kw_only=True)
class ViewerStats:
    id: int
    view: str
    width: int
    height: int
    role: str
    fps: float = 30.0
    sent: int = 0
    dropped: int = 0
    """Feed frames this viewer never got (it was still busy with an older one)."""
    codec: str = ""
    state: str = "new"
    started: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "view": self.view, "size": [self.width, self.height], "fps": round(self.fps, 3),
                "role": self.role,
                "sent": self.sent, "dropped": self.dropped, "codec": self.codec, "state": self.state}


class FeedTrack(MediaStreamTrack):
    """A video track that returns the newest feed frame of one view, at most ``every``-th one
    (a viewer that asked for a lower frame rate than the feed's); frames missed beyond those are
    the viewer's ``dropped``."""

    kind = "video"

    def __init__(self, slot: FrameSlot, stats: ViewerStats, every: int = 1) -> None:
        super().__init__()
        self.slot, self.stats, self.every = slot, stats, max(1, every)
        self._last = 0
        self._start = time.monotonic()

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self.slot.next_after(self._last + self.every - 1 if self._last else 0)
        if self._last:
            self.stats.dropped += frame.counter - self._last - self.every
        self._last = frame.counter
        video = av.VideoFrame.from_ndarray(frame.image, format="bgr24")
        video.pts = int((time.monotonic() - self._start) * VIDEO_CLOCK)
        video.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.stats.sent += 1
        return video


def codec_preferences() -> list[Any]:
    """H.264 first, then VP8, each with its retransmission codec."""
    codecs = RTCRtpSender.getCapabilities("video").codecs
    ordered = [c for mime in PREFERRED_CODECS for c in codecs if c.mimeType == mime]
    return ordered + [c for c in codecs if c.mimeType == "video/rtx"]


class Viewers:
    """The open viewer connections (the asyncio loop's thread)."""

    def __init__(self, feed: ViewFeed, max_viewers: int = 8) -> None:
        self.feed, self.max_viewers = feed, max_viewers
        self._ids = itertools.count(1)
        self._peers: dict[int, tuple[RTCPeerConnection, ViewerStats, ViewKey]] = {}

    def report(self) -> list[dict[str, Any]]:
        """Every open viewer (any thread: the list is copied in one step)."""
        return [stats.to_dict() for _, stats, _ in list(self._peers.values())]

    @property
    def count(self) -> int:
        return len(self._peers)

    async def answer(self, offer: RTCSessionDescription, key: ViewKey, role: str,
                     fps: float | None = None) -> tuple[RTCSessionDescription, int]:
        """Open a viewer of ``key`` for the browser's ``offer`` at ``fps`` (None: the feed's rate;
        a lower one takes every n-th feed frame); its answer and viewer id."""
        every = 1 if fps is None else max(1, round(self.feed.fps / fps))
        slot = self.feed.watch(key)  # KeyError for an unknown view
        stats = ViewerStats(id=next(self._ids), view=key[0], width=key[1], height=key[2], role=role,
                            fps=self.feed.fps / every)
        pc = RTCPeerConnection()
        self._peers[stats.id] = (pc, stats, key)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            stats.state = pc.connectionState
            if pc.connectionState in ("failed", "closed"):
                await self.close(stats.id)

        try:
            await pc.setRemoteDescription(offer)
            pc.addTrack(FeedTrack(slot, stats, every))
            for transceiver in pc.getTransceivers():
                if transceiver.kind == "video":
                    transceiver.setCodecPreferences(codec_preferences())
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception:
            await self.close(stats.id)
            raise
        stats.codec = negotiated_codec(pc.localDescription.sdp)
        return pc.localDescription, stats.id

    async def close(self, viewer: int) -> None:
        entry = self._peers.pop(viewer, None)
        if entry is None:
            return
        pc, stats, key = entry
        stats.state = "closed"
        self.feed.unwatch(key)
        await pc.close()

    async def close_all(self) -> None:
        await asyncio.gather(*(self.close(v) for v in list(self._peers)))


def negotiated_codec(sdp: str) -> str:
    """The codec an answer's video section sends first (``H264``, ``VP8``), '' when none."""
    lines = sdp.splitlines()
    video = next((line for line in lines if line.startswith("m=video")), None)
    if video is None or len(video.split()) < 4:
        return ""
    first = video.split()[3]
    for line in lines:
        if line.startswith(f"a=rtpmap:{first} "):
            return line.split()[1].split("/")[0]
    return ""
