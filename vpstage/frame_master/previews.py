"""Live preview pictures from the render nodes, on request and within a budget.

Canvas pixels stay on their node; the console sees the wall through thumbnails it asks for: the
UI says which canvases it shows and how wide (``want``, any thread), and the frame loop sends
each owning node a :class:`~vpstage.nodes.messages.ThumbnailRequest` at most ``rate_hz`` times a
second, splitting ``max_bytes`` (1 MiB by default) between the nodes asked in one round. Nodes
answer with downscaled BGRX thumbnails of the next frame they present; :meth:`offer` (the link's
reader thread) keeps the newest per canvas. Nothing is asked while nothing is wanted.

Several clients may want thumbnails at once (the console's live views, the web viewer): each
says what it wants under its own name and the loop asks for the union, each canvas at the widest
width any client wants. ``set_rate`` changes the request rate (at most 30 Hz) within the same
per-round byte budget. ``set_scene_referred`` asks for colour-managed canvases as the scene
renders them, before their colour transform (every client sees the same choice).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vpstage.nodes.messages import Thumbnail, ThumbnailRequest

DEFAULT_RATE_HZ = 10.0
DEFAULT_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class PreviewImage:
    canvas: str
    frame: int
    image: NDArray[np.uint8]
    """(h, w, 4) uint8 B G R X, read-only."""
    scale: float
    """Canvas pixels per thumbnail pixel (horizontally)."""


class Previews:
    def __init__(self, canvas_widths: Mapping[str, int], rate_hz: float = DEFAULT_RATE_HZ,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if not 0 < rate_hz <= 30:
            raise ValueError(f"preview rate {rate_hz} Hz must be within (0, 30]")
        self.period_ns = int(1e9 / rate_hz)
        self.max_bytes = max_bytes
        self._widths = dict(canvas_widths)
        self._wanted: dict[str, int] = {}
        self._clients: dict[str, dict[str, int]] = {}
        self._latest: dict[str, PreviewImage] = {}
        self._lock = threading.Lock()
        self._next_ns = 0
        self._request = 0
        self.scene_referred = False
        self.rounds = 0
        self.thumbnails = 0
        self.bytes_received = 0

    def want(self, widths: Mapping[str, int], client: str = "console") -> None:
        """Canvases ``client`` previews and the width each is shown at (empty: none); replaces
        what that client wanted before. Any thread."""
        unknown = set(widths) - set(self._widths)
        if unknown:
            raise KeyError(f"no canvas named {sorted(unknown)[0]!r}")
        with self._lock:
            self._clients[client] = {c: max(1, int(w)) for c, w in widths.items()}
            merged: dict[str, int] = {}
            for wanted in self._clients.values():
                for canvas, width in wanted.items():
                    merged[canvas] = max(merged.get(canvas, 0), width)
            self._wanted = merged

    def set_rate(self, rate_hz: float) -> None:
        """Ask the nodes ``rate_hz`` times a second from now on (within (0, 30]; the byte budget
        per round is unchanged). Any thread."""
        if not 0 < rate_hz <= 30:
            raise ValueError(f"preview rate {rate_hz} Hz must be within (0, 30]")
        with self._lock:
            self.period_ns = int(1e9 / rate_hz)

    def set_scene_referred(self, on: bool) -> None:
        """Thumbnails of the scene's values (True) or of the code values the wall gets (False,
        the default) from the next request on. Any thread."""
        self.scene_referred = bool(on)

    def wanted(self) -> dict[str, int]:
        with self._lock:
            return dict(self._wanted)

    def requests(self, now_ns: int, owners: Mapping[str, str]) -> list[tuple[str, ThumbnailRequest]]:
        """(node, request) pairs due now (loop thread); ``owners``: canvas -> node rendering it."""
        wanted = self.wanted()
        if not wanted or now_ns < self._next_ns:
            return []
        by_node: dict[str, list[str]] = {}
        for canvas in wanted:
            node = owners.get(canvas)
            if node is not None:
                by_node.setdefault(node, []).append(canvas)
        if not by_node:
            return []
        self._next_ns = now_ns + self.period_ns
        self.rounds += 1
        share = self.max_bytes // len(by_node)
        out = []
        for node, canvases in by_node.items():
            self._request += 1
            width = max(wanted[c] for c in canvases)
            out.append((node, ThumbnailRequest(request=self._request, canvases=tuple(canvases), max_width=width,
                                                max_bytes=share, scene_referred=self.scene_referred)))
        return out

    def offer(self, thumbnail: Thumbnail) -> None:
        """Keep a node's answer (its reader thread)."""
        full = self._widths.get(thumbnail.canvas)
        if full is None:
            return
        image = np.frombuffer(thumbnail.pixels, dtype=np.uint8).reshape(thumbnail.height, thumbnail.width, 4)
        preview = PreviewImage(thumbnail.canvas, thumbnail.frame, image, full / thumbnail.width)
        with self._lock:
            self.thumbnails += 1
            self.bytes_received += len(thumbnail.pixels)
            current = self._latest.get(thumbnail.canvas)
            if current is None or current.frame <= thumbnail.frame:
                self._latest[thumbnail.canvas] = preview

    def latest(self, canvas: str) -> PreviewImage | None:
        """The newest thumbnail of ``canvas`` (any thread)."""
        with self._lock:
            return self._latest.get(canvas)

    def report(self) -> dict[str, object]:
        with self._lock:
            return {"rate_hz": round(1e9 / self.period_ns, 3), "max_bytes_per_round": self.max_bytes,
                    "scene_referred": self.scene_referred, "rounds": self.rounds, "thumbnails": self.thumbnails,
                    "bytes_received": self.bytes_received,
                    "budget_bytes": self.rounds * self.max_bytes}
