"""Several series of the frame loop's statistics read as of one instant (Qt-free).

``StatsHistory.series`` / ``node_series`` each copy one ring under the history's lock, so two
calls can straddle a frame the loop records in between: one copy then holds a value more than
the other (the plots' ``X and Y arrays must be the same shape`` error), or, once the rings are
full, the two are shifted by a frame. The loop counts every frame it records (``history.frames``,
raised inside the same locked section that appends to the rings), so a group of reads taken while
that count did not move belongs to one instant; ``FrameSeries.read`` retries until it gets one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
ATTEMPTS = 8


@dataclass(frozen=True)
class FrameSeries:
    """The plots' series, all of the same length (the same frames)."""

    frames: F64
    render: tuple[F64, ...]
    """Render time per node, in the order asked for."""
    skew: F64
    plan: F64

    @staticmethod
    def read(history: Any, nodes: Sequence[str], attempts: int = ATTEMPTS) -> FrameSeries | None:
        """The series as of one instant, or None when the loop recorded a frame during every
        attempt (the caller skips this refresh)."""
        for _ in range(attempts):
            before = history.frames
            series = FrameSeries(history.series("frame"), tuple(history.node_series(n, "render_ms") for n in nodes),
                                 history.series("present_skew_ms"), history.series("plan_ms"))
            if history.frames == before and series.aligned():
                return series
        return None

    def aligned(self) -> bool:
        n = len(self.frames)
        return all(len(s) == n for s in (*self.render, self.skew, self.plan))
