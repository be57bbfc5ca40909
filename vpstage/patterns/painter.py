"""Test patterns on any canvas of a stage, for lining up the wall.

``PatternPainter.paint`` returns a fresh BGRX canvas (numpy uint8, (H, W, 4)) per call. The still
part of each pattern is drawn once and cached; only the moving parts (sync bar, frame counter)
are drawn per frame (``moving_parts``), so a render node that keeps the still layer on its GPU
uploads a few small rectangles per frame.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import KW_ONLY, dataclass, replace
from typing import Literal

from vpstage.patterns.cabinets import cabinet_canvas
from vpstage.patterns.calibration import grey_ramp, smpte_bars
from vpstage.patterns.drawing import Image, blank, colour_bars, error_card, grid, moving_patches, paste
from vpstage.stage.layout import StageLayout

PatternName = Literal["cabinets", "grid", "bars", "sync", "solid", "black", "error", "colour_bars", "grey_ramp"]
PATTERN_NAMES: tuple[str, ...] = ("cabinets", "grid", "bars", "sync", "solid", "black", "error", "colour_bars",
                                  "grey_ramp")
"""``colour_bars`` and ``grey_ramp`` are calibration patterns in code values
(``vpstage.patterns.calibration``)."""


@dataclass(frozen=True)
class PatternSpec:
    """What a test-pattern canvas shows."""

    name: PatternName
    _: KW_ONLY
    color: tuple[int, int, int] = (255, 255, 255)
    """RGB 0..255 of the ``solid`` pattern."""
    grid_px: int = 64
    """Line spacing of the ``grid`` pattern, canvas pixels."""
    text: str = ""
    """The reason an ``error`` canvas shows."""
    sync_overlay: bool = False
    """Draw the moving sync bar and the frame counter over the pattern (``sync`` always has them)."""

    def __post_init__(self) -> None:
        if self.name not in PATTERN_NAMES:
            raise ValueError(f"unknown pattern {self.name!r}; choose one of {', '.join(PATTERN_NAMES)}")
        if not all(0 <= c <= 255 for c in self.color):
            raise ValueError(f"pattern colour {self.color} must be RGB 0..255")

    @property
    def moves(self) -> bool:
        return self.name == "sync" or self.sync_overlay


class PatternPainter:
    """Paints patterns for the canvases of one stage layout. Thread-safe; keeps the still layers
    of the ``cache_size`` most recent (canvas, pattern) pairs."""

    def __init__(self, layout: StageLayout, cache_size: int = 8) -> None:
        self.layout = layout
        self._sizes = {c.name: (c.height, c.width) for c in layout.project.canvases}
        self._cache: OrderedDict[tuple[str, PatternSpec], Image] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def paint(self, canvas: str, spec: PatternSpec, frame: int) -> Image:
        """Canvas ``canvas`` showing ``spec`` at frame ``frame``: a new (H, W, 4) uint8 BGRX array."""
        still = self.still_layer(canvas, spec)
        image = still.copy()
        paste(image, self.moving_parts(canvas, spec, frame))
        return image

    def moving_parts(self, canvas: str, spec: PatternSpec, frame: int) -> list[tuple[int, int, Image]]:
        """The (y, x, BGRX pixels) rectangles that frame ``frame`` pastes over the still layer
        (none for a still pattern): the sync bar and frame counter."""
        if not spec.moves:
            return []
        return moving_patches(self.still_layer(canvas, spec), frame)

    def still_layer(self, canvas: str, spec: PatternSpec) -> Image:
        """The frame-independent part of a pattern (read-only, shared)."""
        key = (canvas, replace(spec, sync_overlay=False))  # the overlay only adds moving parts
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        image = self._draw_still(canvas, spec)
        image.flags.writeable = False
        with self._lock:
            self._cache[key] = image
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return image

    def _draw_still(self, canvas: str, spec: PatternSpec) -> Image:
        if canvas not in self._sizes:
            raise KeyError(f"no canvas named {canvas!r}")
        height, width = self._sizes[canvas]
        if spec.name == "cabinets":
            return cabinet_canvas(self.layout, self.layout.canvas_index(canvas))
        if spec.name == "grid":
            return grid(height, width, spec.grid_px, canvas)
        if spec.name == "bars":
            return colour_bars(height, width)
        if spec.name == "colour_bars":
            return smpte_bars(height, width)
        if spec.name == "grey_ramp":
            return grey_ramp(height, width)
        if spec.name == "solid":
            return blank(height, width, spec.color)
        if spec.name == "error":
            return error_card(height, width, spec.text or "unknown error")
        return blank(height, width)  # 'black' (blackout) and the background of 'sync'
