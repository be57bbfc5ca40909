"""Per canvas: the device buffers a node renders into, and the host ring its outputs read from.

A canvas on a CUDA node owns, allocated once:

* ``colour``: (H, W, 3) float32 on the device, what the scene renderer fills;
* ``packed``: the output format on the device, uint8: (H, W, 2) UYVY, (H, W, 4) BGRX or
  (2H, W, 2) P216 (``render.node.pixel_formats.Packing``);
* a ring of ``slots`` page-locked (pinned) host buffers of the packed shape, each with a CUDA
  event. A frame's packed pixels reach the host once, by an asynchronous copy on the node's
  stream into a free slot; the event says when they have landed. Packing and copy of a scene
  canvas replay as one CUDA graph per slot (``finish_colour``).

On a CPU node the packed pixels are written straight into the (ordinary) host slot.

Slots are taken by the render thread (:meth:`acquire`) and given back by whoever ends their use:
the present thread once a newer picture has replaced them on the outputs (the output may read a
buffer until its next send), or the render thread when a picture came too late to be shown.
Thread-safe.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from render.node.pixel_formats import Packing, pack
from vpstage.nodes.messages import FourCC

GRAPHS = os.environ.get("VPSTAGE_NODE_CUDA_GRAPHS", "1") != "0"
"""Pack scene canvases with CUDA graphs (set VPSTAGE_NODE_CUDA_GRAPHS=0 to launch eagerly)."""
log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Slot:
    index: int
    host: torch.Tensor
    array: NDArray[np.uint8]
    """numpy view of ``host`` (what the outputs send)."""
    event: torch.cuda.Event | None
    frame: int = -1


class NoFreeSlot(RuntimeError):
    """Every host buffer of a canvas is in use (the outputs hold them all): a bug, or a stall."""


class CanvasBuffers:
    def __init__(self, name: str, width: int, height: int, packing: Packing | FourCC, device: torch.device,
                 slots: int) -> None:
        packing = packing if isinstance(packing, Packing) else Packing(packing)
        if packing.fourcc != "BGRX" and width % 2:
            raise ValueError(f"canvas {name}: {packing.fourcc} needs an even width, not {width}")
        self.name, self.width, self.height, self.packing = name, width, height, packing
        self.fourcc = packing.fourcc
        self.device = device
        shape = packing.shape(width, height)
        cuda = device.type == "cuda"
        self.colour = torch.zeros((height, width, 3), dtype=torch.float32, device=device)
        self.packed = torch.zeros(shape, dtype=torch.uint8, device=device) if cuda else None
        self.slots = []
        for index in range(slots):
            host = torch.zeros(shape, dtype=torch.uint8, pin_memory=cuda)
            self.slots.append(Slot(index=index, host=host, array=host.numpy(),
                                   event=torch.cuda.Event() if cuda else None))
        self._free = list(range(slots))
        self._cond = threading.Condition()
        self._graphs: dict[int, torch.cuda.CUDAGraph] = {}
        self._pool: object | None = None
        self._graph_failed = False
        self._eager_frames = 0

    @property
    def frame_bytes(self) -> int:
        return int(np.prod(self.packing.shape(self.width, self.height)))

    def acquire(self, frame: int, timeout_s: float = 1.0) -> Slot:
        with self._cond:
            if not self._free and not self._cond.wait_for(lambda: bool(self._free), timeout_s):
                raise NoFreeSlot(f"canvas {self.name}: all {len(self.slots)} host buffers are in use")
            slot = self.slots[self._free.pop(0)]
            slot.frame = frame
            return slot

    def release(self, slot: Slot) -> None:
        with self._cond:
            if slot.index not in self._free:
                self._free.append(slot.index)
                self._cond.notify_all()

    def target(self, slot: Slot) -> torch.Tensor:
        """Where the packed pixels of ``slot``'s frame are written on the device."""
        return self.packed if self.packed is not None else slot.host

    def finish_colour(self, slot: Slot, stream: torch.cuda.Stream | None) -> None:
        """Pack ``colour`` into the output format and start its copy into ``slot``. On CUDA the
        two steps are one CUDA graph per slot (captured after a first eager frame, all of a
        canvas's graphs sharing one memory pool): a dozen kernel launches become one."""
        if self.packed is None:
            pack(self.colour, slot.host, self.packing)
            return
        graph = self._graphs.get(slot.index)
        if graph is None and GRAPHS and not self._graph_failed and self._eager_frames > 0:
            graph = self._capture(slot, stream)
        if graph is not None:
            graph.replay()
        else:
            self._pack_and_copy(slot)
            self._eager_frames += 1
        assert slot.event is not None
        slot.event.record(stream)

    def _pack_and_copy(self, slot: Slot) -> None:
        assert self.packed is not None
        pack(self.colour, self.packed, self.packing)
        slot.host.copy_(self.packed, non_blocking=True)

    def _capture(self, slot: Slot, stream: torch.cuda.Stream | None) -> torch.cuda.CUDAGraph | None:
        graph = torch.cuda.CUDAGraph()
        if self._pool is None:
            self._pool = torch.cuda.graph_pool_handle()
        try:
            with contextlib.ExitStack() as scope:
                if stream is not None:
                    scope.enter_context(torch.cuda.stream(stream))
                graph.capture_begin(pool=self._pool, capture_error_mode="thread_local")
                try:
                    self._pack_and_copy(slot)
                finally:
                    graph.capture_end()
        except Exception as exc:  # stay eager: slower, never wrong
            self._graph_failed = True
            log.warning("canvas %s: CUDA graph capture of the output packing failed, packing eagerly: %s",
                        self.name, exc)
            return None
        self._graphs[slot.index] = graph
        return graph

    def publish(self, slot: Slot, stream: torch.cuda.Stream | None) -> None:
        """Start the copy of the packed pixels into ``slot`` (CUDA: async on ``stream``; CPU: the
        pixels are there already) and mark its completion."""
        if self.packed is None:
            return
        slot.host.copy_(self.packed, non_blocking=True)
        assert slot.event is not None
        slot.event.record(stream)

    @staticmethod
    def wait(slot: Slot) -> None:
        """Block until ``slot``'s pixels are in host memory."""
        if slot.event is not None:
            slot.event.synchronize()
