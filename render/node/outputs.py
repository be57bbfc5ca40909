"""A render node's outputs: one per canvas it renders now, opened and closed as failover moves them.

``transport: ndi`` canvases get an NDI sender named ``"{prefix} {canvas}"`` (the same name on
whichever node renders the canvas, so receivers follow a failover by name); ``transport: sdi``
canvases get a DeckLink output on the device the master configured for the canvas. Canvases
with another transport (``dp``), or when outputs are off, have none. An output that cannot open
or refuses a frame is reported, never raised: the other canvases carry on. One that cannot open
is tried again every ``OPEN_RETRY_S`` (its name may still be held by the node that had the canvas
before: NDI refuses a second sender of one name on a host), and reported again when its reason
changes.

Used from the node's present thread only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from render.node.pixel_formats import Packing
from vpstage.nodes.failures import failure_text
from vpstage.nodes.messages import OutputSettings
from vpstage.nodes.outputs import CanvasOutput
from vpstage.stage.model import Project

OPEN_RETRY_S = 1.0
"""Seconds between two attempts to open a canvas's output that failed."""


def canvas_formats(project: Project, settings: OutputSettings) -> dict[str, Packing]:
    """How each canvas is packed: NDI canvases in the senders' format, or 16-bit P216 when their
    colour settings ask for 10 or 16 bits (BT.2020 matrix for PQ); SDI canvases in 8-bit BGRX."""
    colour = project.colour.canvases if project.colour is not None else {}
    out = {}
    for c in project.canvases:
        wanted = colour.get(c.name)
        if c.transport != "ndi":
            out[c.name] = Packing("BGRX")
        elif wanted is not None and wanted.bits > 8:
            out[c.name] = Packing("P216", wanted.bits, "2020" if wanted.encoding == "pq" else "709")
        else:
            out[c.name] = Packing(settings.fourcc)
    return out


class NodeOutputs:
    def __init__(self, project: Project, settings: OutputSettings) -> None:
        self.settings = settings
        self.rate = Fraction(project.frame_rate)
        self.transports = {c.name: c.transport for c in project.canvases}
        self.formats = canvas_formats(project, settings)
        self.outputs: dict[str, CanvasOutput] = {}
        self.errors: dict[str, str] = {}
        """Canvas -> why its output is not open (cleared when it opens)."""
        self._retry_at: dict[str, float] = {}
        """Canvas -> when (monotonic s) to try opening its failed output again."""

    def reconcile(self, canvases: Iterable[str], now_s: float | None = None) -> dict[str, str]:
        """Open outputs for ``canvases`` that have none, close the others (closing first, so a
        name is never held twice). Returns canvas -> error for outputs that failed to open now
        for the first time or for a new reason (``now_s``: monotonic seconds, for the retries)."""
        now = time.monotonic() if now_s is None else now_s
        wanted = list(canvases)
        for canvas in [c for c in self.outputs if c not in wanted]:
            self._close(canvas)
        failed = {}
        for canvas in wanted:
            if canvas in self.outputs or self._retry_at.get(canvas, -math.inf) > now:
                continue
            try:
                output = self._open(canvas)
            except Exception as exc:
                text = failure_text(exc)
                if self.errors.get(canvas) != text:
                    failed[canvas] = text
                self.errors[canvas], self._retry_at[canvas] = text, now + OPEN_RETRY_S
                continue
            self.errors.pop(canvas, None)
            self._retry_at.pop(canvas, None)
            if output is not None:
                self.outputs[canvas] = output
        for canvas in [c for c in self.errors if c not in wanted]:
            del self.errors[canvas]  # try again at once when it comes back
            del self._retry_at[canvas]
        return failed

    def forget_failures(self, canvases: Iterable[str]) -> None:
        """Forget that ``canvases``' outputs failed to open: the next ``reconcile`` tries them at
        once and reports a failure as new."""
        for canvas in canvases:
            self.errors.pop(canvas, None)
            self._retry_at.pop(canvas, None)

    def _open(self, canvas: str) -> CanvasOutput | None:
        transport = self.transports.get(canvas)
        if self.settings.kind == "none":
            return None
        if transport == "ndi":
            from devices.outputs.ndi import NdiSender

            return NdiSender(f"{self.settings.prefix} {canvas}", self.rate, fourcc=self.formats[canvas].fourcc,
                             groups=self.settings.ndi_groups, mode=self.settings.network_mode, canvas=canvas)
        if transport == "sdi":
            from devices.outputs.sdi import DeckLinkOutput, OutputUnavailable

            index = self.settings.sdi_devices.get(canvas)
            if index is None:
                raise OutputUnavailable(f"canvas {canvas} is SDI but no DeckLink device is assigned to it")
            return DeckLinkOutput(canvas, index, self.rate)
        return None

    def send(self, canvas: str, pixels: NDArray[np.uint8], timecode_100ns: int) -> str | None:
        """Send one canvas; returns why it failed (None when sent or when it has no output)."""
        output = self.outputs.get(canvas)
        if output is None:
            return None
        try:
            output.send(pixels, timecode_100ns)
        except Exception as exc:  # one output's trouble must not stop the wall
            return failure_text(exc)
        return None

    def open_canvases(self) -> tuple[str, ...]:
        return tuple(self.outputs)

    def infos(self) -> list[dict[str, object]]:
        out = []
        for output in self.outputs.values():
            info = output.info()
            out.append({"canvas": info.canvas, "kind": info.kind, "name": info.name, "address": info.address,
                        "detail": info.detail})
        return out

    def _close(self, canvas: str) -> None:
        output = self.outputs.pop(canvas, None)
        if output is not None:
            output.close()

    def close(self) -> None:
        for canvas in list(self.outputs):
            self._close(canvas)
