"""A render node's colour regions: per-region lift / gamma / gain / saturation with a feathered
edge, applied in place to a canvas's code values on the device (after its OCIO transform, before
packing).

The maths is ``vpstage.colour.grading`` (``grade_reference`` is the numpy reference). Per frame
each region touches only its rectangle's slice of the canvas; the graded copy and the luma go
into scratch buffers kept per canvas and grown only when a larger rectangle appears, and each
region's weights and constants are built once per distinct region (an edit), not per frame.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch

from vpstage.colour.grading import REC709_LUMA, Rect, RegionGrade, region_weights

PREPARED_CACHE = 64
"""Distinct regions whose weights and constants stay on the device (per node)."""


@dataclass(frozen=True, kw_only=True)
class PreparedRegion:
    """One region's device constants: weights (h, w, 1) over its rectangle's part on the canvas, and per-channel
    ``1 - lift``, ``lift``, ``gain``, ``1 / gamma`` of shape (3,)."""

    weights: torch.Tensor
    keep: torch.Tensor
    lift: torch.Tensor
    gain: torch.Tensor
    inverse_gamma: torch.Tensor


class CanvasRegions:
    """Applies a canvas's colour regions on ``device`` (see the module docstring)."""

    def __init__(self, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self._prepared: OrderedDict[tuple[RegionGrade, Rect], PreparedRegion] = OrderedDict()
        self._scratch: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._luma = torch.tensor(REC709_LUMA, dtype=torch.float32, device=self.device)

    def apply(self, canvas: str, grades: tuple[RegionGrade, ...], colour: torch.Tensor) -> None:
        """Grade ``colour`` ((H, W, 3) float32 code values 0..1 of ``canvas`` on the device) in place,
        region after region; regions of other canvases and the parts of a rectangle outside the
        canvas are ignored."""
        height, width = colour.shape[:2]
        for grade in grades:
            rect = grade.clipped(width, height) if grade.canvas == canvas else None
            if rect is not None:
                self._apply_one(canvas, grade, rect, colour)

    def _apply_one(self, canvas: str, grade: RegionGrade, rect: Rect,
                   colour: torch.Tensor) -> None:
        x0, y0, x1, y1 = rect
        h, w = y1 - y0, x1 - x0
        prepared = self._prepare(grade, rect)
        weights = prepared.weights
        part = colour[y0:y1, x0:x1]
        graded, luma = self._buffers(canvas, h * w)
        graded = graded[:h * w * 3].view(h, w, 3)
        luma = luma[:h * w].view(h, w, 1)
        torch.mul(part, prepared.keep, out=graded)  # v + lift * (1 - v) = v * (1 - lift) + lift
        graded.add_(prepared.lift).mul_(prepared.gain).clamp_(min=0.0).pow_(prepared.inverse_gamma)
        graded.clamp_(0.0, 1.0)
        torch.mv(graded.view(-1, 3), self._luma, out=luma.view(-1))
        graded.sub_(luma).mul_(grade.saturation).add_(luma).clamp_(0.0, 1.0)
        graded.sub_(part).mul_(weights)
        part.add_(graded)

    def _buffers(self, canvas: str, pixels: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The canvas's scratch (graded RGB, luma) for at least ``pixels`` pixels."""
        found = self._scratch.get(canvas)
        if found is None or found[1].numel() < pixels:
            found = (torch.empty(pixels * 3, dtype=torch.float32, device=self.device),
                     torch.empty(pixels, dtype=torch.float32, device=self.device))
            self._scratch[canvas] = found
        return found

    def _prepare(self, grade: RegionGrade, rect: Rect) -> PreparedRegion:
        key = (grade, rect)
        found = self._prepared.get(key)
        if found is not None:
            self._prepared.move_to_end(key)
            return found
        lift = torch.tensor(grade.lift, dtype=torch.float32, device=self.device)
        found = PreparedRegion(
            weights=torch.from_numpy(region_weights(grade, rect)).to(self.device),
            keep=1.0 - lift, lift=lift, gain=torch.tensor(grade.gain, dtype=torch.float32, device=self.device),
            inverse_gamma=1.0 / torch.tensor(grade.gamma, dtype=torch.float32, device=self.device))
        self._prepared[key] = found
        while len(self._prepared) > PREPARED_CACHE:
            self._prepared.popitem(last=False)
        return found
