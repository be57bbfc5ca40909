"""Test patterns for lining up the wall (pure numpy): cabinet ids and outlines, grid, colour bars,
moving sync bar with a frame counter, solid colours, blackout, and the error card."""

from vpstage.patterns.drawing import read_frame_counter
from vpstage.patterns.painter import PATTERN_NAMES, PatternName, PatternPainter, PatternSpec

__all__ = ["PATTERN_NAMES", "PatternName", "PatternPainter", "PatternSpec", "read_frame_counter"]
