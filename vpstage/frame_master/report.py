"""The run report: what ``main.py run`` / ``patterns`` write as JSON.

Shape::

    {"frames": 600, "skipped": 0, "rate": "30", "late": 0, "dropped": 0,
     "render_ms": {"p50", "p99", "max"}, "present_skew_ms": {...}, "tracking_to_present_ms": {...},
     "plan_ms": {...}, "send_ms": {...}, "present_ms": {...},
     "nodes": {"node1": {"frames", "late", "dropped", "render_ms": {...}, "present_ms": {...}}, ...},
     "outputs": [{"canvas", "kind", "name", "address", "detail"}],
     "failover": [{"node", "reason", "canvases", "covered_by", "detection_ms", "recovery_ms", "restarted"}]}

Counts (``frames``, ``late``, ``dropped``, ``skipped``) cover the whole run; percentiles cover the
frames still in the history rings (the last ``capacity`` frames, 4096 by default). ``dropped``
includes, per node, the frames the loop skipped. Values that were never measured (tracking with
test patterns) are null.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from fractions import Fraction
from typing import Any

import numpy as np

from vpstage.frame_master.failover import Outage
from vpstage.frame_master.frame_stats import StatsHistory, percentiles
from vpstage.nodes.outputs import OutputInfo
from vpstage.stage.types import format_rate


def build_report(history: StatsHistory, rate: Fraction, outputs: Sequence[OutputInfo] = (),
                 outages: Sequence[Outage] = ()) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    render_all = []
    for node in history.nodes:
        totals = history.totals[node]
        render = history.node_series(node, "render_ms")
        render_all.append(render)
        nodes[node] = {"frames": totals.frames, "late": totals.late, "dropped": totals.dropped,
                       "render_ms": percentiles(render),
                       "present_ms": percentiles(history.node_series(node, "present_ms")),
                       "cpu_ms": percentiles(history.node_series(node, "cpu_ms")),
                       "gpu_ms": percentiles(history.node_series(node, "gpu_ms"))}
    return {
        "frames": history.frames,
        "skipped": history.skipped,
        "rate": format_rate(rate),
        "late": sum(n["late"] for n in nodes.values()),
        "dropped": sum(n["dropped"] for n in nodes.values()),
        "render_ms": percentiles(np.concatenate(render_all) if render_all else np.zeros(0)),
        "present_skew_ms": percentiles(history.series("present_skew_ms")),
        "tracking_to_present_ms": percentiles(history.series("tracking_to_present_ms")),
        "plan_ms": percentiles(history.series("plan_ms")),
        "send_ms": percentiles(history.series("send_ms")),
        "present_ms": percentiles(history.series("present_ms")),
        "nodes": nodes,
        "outputs": [asdict(o) for o in outputs],
        "failover": [o.as_dict() for o in outages],
    }
