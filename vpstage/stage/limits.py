"""Limits on what one stage may hold, so that any project file is checked in bounded time and memory.

``StageLimits`` caps the resolved stage (cabinets, LED pixels, the OBJ file of a mesh section) and
carries the YAML reading limits (:class:`vpstage.config.YamlLimits`). Crossing one is a located
problem naming the limit (``stage limit max_cabinets``); the layout stops there and the other rules
are not run on the partial stage. The defaults sit far above the largest real LED volumes (a few
thousand cabinets, some tens of millions of LED pixels; ``configs/stages/large_volume.yaml``: 1184
cabinets, 35 million pixels) and far below what would exhaust a workstation. See
``docs/project-format.md`` (Limits).

Canvas sizes and pixel-map coordinates are bounded in the model itself (``MAX_CANVAS_SIDE_PX``).
"""

from __future__ import annotations

from dataclasses import dataclass

from vpstage.config import DEFAULT_YAML_LIMITS, Problem, YamlLimits

MAX_CANVAS_SIDE_PX = 16_384
"""Widest or tallest canvas (16K); pixel-map ``x`` / ``y`` are bounded by it too."""

MAX_PORT_INDEX = 65_535
"""Highest processor data port index a pixel-map entry may name."""


@dataclass(frozen=True)
class StageLimits:
    """What one stage may hold (see the module docstring)."""

    max_cabinets: int = 50_000
    """Cabinets in all sections (grid cells of a section count, omitted ones included), and
    cabinets the pixel map may place in all."""
    max_led_pixels: int = 500_000_000
    """LED pixels of all cabinets together."""
    max_obj_bytes: int = 16 << 20
    """Size of one mesh section's OBJ file."""
    yaml: YamlLimits = DEFAULT_YAML_LIMITS
    """Limits on reading the project (and catalog) YAML."""


DEFAULT_STAGE_LIMITS = StageLimits()


class StageLimitError(Exception):
    """A stage limit was crossed; ``problem`` says where and which."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem
