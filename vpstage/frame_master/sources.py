"""Frame sources: what every canvas shows each frame.

The loop asks its frame source for one :class:`~vpstage.frame_master.plan.FramePlan` per frame. The
scene planner (tracking + frustum, ``vpstage.frame_master.planner``) is one frame source;
:class:`PatternSource` is the other: test patterns on every canvas, for lining up the wall and
for rehearsals without a scene.
"""

from __future__ import annotations

import threading

from vpstage.frame_master.plan import FramePlan
from vpstage.patterns import PatternSpec
from vpstage.stage import Stage
from vpstage.timing import FrameTick


class PatternSource:
    """Test patterns: one default for all canvases, optionally overridden per canvas.

    ``set_pattern`` may be called from any thread (the console); it takes effect at the next frame.
    """

    def __init__(self, stage: Stage, default: PatternSpec | None = None) -> None:
        self._canvases = tuple(c.name for c in stage.project.canvases)
        self._default = default or PatternSpec(name="cabinets")
        self._overrides: dict[str, PatternSpec] = {}
        self._lock = threading.Lock()

    def set_pattern(self, spec: PatternSpec, canvas: str | None = None) -> None:
        """Show ``spec`` on ``canvas``, or on every canvas (clearing overrides) when None."""
        with self._lock:
            if canvas is None:
                self._default, self._overrides = spec, {}
            elif canvas not in self._canvases:
                raise KeyError(f"no canvas named {canvas!r}")
            else:
                self._overrides = {**self._overrides, canvas: spec}

    def pattern_for(self, canvas: str) -> PatternSpec:
        return self._overrides.get(canvas, self._default)

    def plan(self, tick: FrameTick) -> FramePlan:
        with self._lock:
            return FramePlan(tick=tick, patterns={c: self._overrides.get(c, self._default) for c in self._canvases})
