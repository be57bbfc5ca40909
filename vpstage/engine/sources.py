"""Job sources: what every canvas shows each frame.

The loop asks its job source for one FrameJob per node that has canvases to render, given the
current canvas assignment (which follows failover). The scene planner (tracking + frustum) is
one job source; :class:`PatternJobSource` is the other: test patterns on every canvas, for
lining up the wall and for rehearsals without a scene.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from vpstage.engine.jobs import CanvasJob, Content, FrameJob
from vpstage.patterns import PatternSpec
from vpstage.stage import Stage
from vpstage.timing import FrameTick


class JobSource(Protocol):
    def jobs(self, tick: FrameTick, assignment: Mapping[str, Sequence[str]]) -> dict[str, FrameJob]:
        """One job per node in ``assignment`` (node -> canvases it renders now). Called on the
        loop's thread once per frame; must be quick (it is the loop's 'plan' time)."""
        ...


def build_job(node: str, tick: FrameTick, canvases: Sequence[tuple[str, int, int, Content]]) -> FrameJob:
    """A FrameJob from (canvas, width, height, content) tuples."""
    return FrameJob(node, tick.index, tick.timecode, tick.time_ns, tick.deadline_ns,
                    tuple(CanvasJob(name, w, h, content) for name, w, h, content in canvases))


class PatternJobSource:
    """Test patterns: one default for all canvases, optionally overridden per canvas.

    ``set_pattern`` may be called from any thread (the console); it takes effect at the next frame.
    """

    def __init__(self, stage: Stage, default: PatternSpec | None = None) -> None:
        self._sizes = {c.name: (c.width, c.height) for c in stage.project.canvases}
        self._default = default or PatternSpec("cabinets")
        self._overrides: dict[str, PatternSpec] = {}

    def set_pattern(self, spec: PatternSpec, canvas: str | None = None) -> None:
        """Show ``spec`` on ``canvas``, or on every canvas (clearing overrides) when None."""
        if canvas is None:
            self._default, self._overrides = spec, {}
        elif canvas not in self._sizes:
            raise KeyError(f"no canvas named {canvas!r}")
        else:
            self._overrides = {**self._overrides, canvas: spec}

    def pattern_for(self, canvas: str) -> PatternSpec:
        return self._overrides.get(canvas, self._default)

    def jobs(self, tick: FrameTick, assignment: Mapping[str, Sequence[str]]) -> dict[str, FrameJob]:
        return {node: build_job(node, tick, [(c, *self._sizes[c], self.pattern_for(c)) for c in canvases])
                for node, canvases in assignment.items()}
