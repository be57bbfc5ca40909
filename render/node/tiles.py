"""A render node's end of the tile exchange (``cluster.assign_tiles``, ``vpstage.frame_master.task_assigner``).

As a **helper**, the node renders bands of another node's camera views that its frame order names
(before its own canvases, so they travel back early) and :meth:`TileExchange.send` puts each on
its link to the master, which relays it to the owner. As an **owner**, its link reader thread
:meth:`~TileExchange.offer` s each band that arrives; its render thread :meth:`~TileExchange.wait` s
for the bands it gave away, each until the order's ``wait_ns`` at the latest, and renders the
ones that did not come (or came malformed) itself. Nothing here blocks past that time; every
outcome is counted (:attr:`TileExchange.counters`, reported to the master with every frame):

=================  ===========================================================================
``rendered``       bands this node rendered for another node
``sent``           of them, handed to the link (``send_failed``: its outbox was full or closed;
                   ``too_large``: over the wire limit, not sent)
``received``       bands that arrived for this node
``used``           of them, composed into its view
``local_fallback`` bands it rendered itself because they were not back in time (or were bad)
``late``           bands that arrived after it stopped waiting for them (dropped)
``bad``            bands whose rectangle or size did not match the view (dropped)
``misrouted``      bands for another owner (dropped)
``mismatch``       tile orders whose canvases differ from the node's own view (kept local)
=================  ===========================================================================
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import numpy as np
import torch

from render.assets import RenderOutput
from vpstage.nodes.codec import MAX_TILE_BYTES
from vpstage.nodes.jobs import TileJob
from vpstage.nodes.messages import Message, TileResult
from vpstage.nodes.tiles import MAX_TILES, Rect
from vpstage.timing import MonotonicTimeSource, TimeSource

TileKey = tuple[int, str, str, int]
"""(frame, camera, asset, band index)."""
MAX_HELD = 4 * MAX_TILES
"""Bands held for frames not rendered yet before the oldest are dropped."""


class TileExchange:
    """See the module docstring. ``send`` puts a message on the node's link (False: not queued);
    ``to_local`` turns a master-clock instant into this node's clock. Any thread."""

    def __init__(self, node: str, send: Callable[[Message], bool], to_local: Callable[[int], int] | None = None,
                 time_source: TimeSource | None = None) -> None:
        self.node = node
        self._send = send
        self.to_local = to_local or (lambda ns: ns)
        self.time = time_source or MonotonicTimeSource()
        self.counters: Counter[str] = Counter()
        self._held: dict[TileKey, TileResult] = {}
        self._given_up: set[TileKey] = set()
        self._frame = -1
        self._cond = threading.Condition()

    def count(self, what: str, n: int = 1) -> None:
        with self._cond:
            self.counters[what] += n

    def snapshot(self) -> dict[str, int]:
        with self._cond:
            return {k: v for k, v in self.counters.items() if v}

    # ------------------------------------------------------------------ helper (render thread)

    def send(self, frame: int, tile: TileJob, rect: Rect, out: RenderOutput, render_ms: float) -> bool:
        """Send band ``tile`` of ``frame`` (``out`` over ``rect`` of the owner's view) to its owner."""
        h, w = rect[3] - rect[1], rect[2] - rect[0]
        self.count("rendered")
        if 20 * h * w > MAX_TILE_BYTES:
            self.count("too_large")
            return False
        result = TileResult(frame=frame, owner=tile.owner, helper=self.node, camera=tile.camera, asset=tile.asset,
                            index=tile.index, count=tile.count, rect=rect, rgb=_bytes(out.rgb, (h, w, 3)),
                            alpha=_bytes(out.alpha, (h, w)), depth=_bytes(out.depth, (h, w)), render_ms=render_ms)
        sent = self._send(result)
        self.count("sent" if sent else "send_failed")
        return sent

    # ------------------------------------------------------------------ owner

    def offer(self, result: TileResult) -> None:
        """A band arrived (the link reader's thread)."""
        key = (result.frame, result.camera, result.asset, result.index)
        with self._cond:
            self.counters["received"] += 1
            if result.owner != self.node:
                self.counters["misrouted"] += 1
                return
            if result.frame < self._frame or key in self._given_up:
                self.counters["late"] += 1
                return
            self._held[key] = result
            while len(self._held) > MAX_HELD:
                self._held.pop(min(self._held))
                self.counters["late"] += 1
            self._cond.notify_all()

    def open_frame(self, frame: int) -> None:
        """The owner starts rendering ``frame``: bands of earlier frames are of no use any more."""
        with self._cond:
            self._frame = frame
            stale = [k for k in self._held if k[0] < frame]
            for key in stale:
                del self._held[key]
            self.counters["late"] += len(stale)
            self._given_up = {k for k in self._given_up if k[0] >= frame}

    def wait(self, frame: int, tile: TileJob, rect: Rect, device: torch.device) -> RenderOutput | None:
        """Band ``tile`` of ``frame`` over ``rect`` as tensors on ``device``, waiting for it until the
        order's ``wait_ns`` at the latest; None when it did not come in time or does not fit
        ``rect`` (counted ``bad``); the caller renders it itself (and counts ``local_fallback``)."""
        key = (frame, tile.camera, tile.asset, tile.index)
        timeout_s = max(0.0, (self.to_local(tile.wait_ns) - self.time.now_ns()) / 1e9)
        give_up_at = time.monotonic() + timeout_s
        with self._cond:
            while key not in self._held:
                left = give_up_at - time.monotonic()
                if left <= 0:
                    self._given_up.add(key)
                    return None
                self._cond.wait(left)
            result = self._held.pop(key)
        if result.rect != rect or result.count != tile.count:
            self.count("bad")
            return None
        self.count("used")
        h, w = result.shape
        return RenderOutput(rgb=_tensor(result.rgb, (h, w, 3), device), alpha=_tensor(result.alpha, (h, w), device),
                            depth=_tensor(result.depth, (h, w), device))


def _bytes(tensor: torch.Tensor, shape: tuple[int, ...]) -> bytes:
    array = tensor.detach().to(torch.float32).reshape(shape).cpu().numpy()
    return np.ascontiguousarray(array, dtype="<f4").tobytes()


def _tensor(data: bytes, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    array = np.frombuffer(data, dtype="<f4").reshape(shape).copy()
    return torch.from_numpy(array).to(device)
