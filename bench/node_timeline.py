"""Why frames were late: summarise the node timelines a traced run wrote (``VPSTAGE_NODE_TRACE=DIR``).

    python -m bench.node_timeline DIR

Per node, for on-time and for late frames: when the order arrived, when its render started and how
long it ran (ms; times relative to the frame's present deadline), and how many late frames started
late because the render before them overran (a queue) rather than ran long themselves; the render
thread's CPU time (``render_cpu_ms``) against its wall time, and how many frames met a GIL hold of
2 ms or more (``gil_wait_ms``; worst in brackets), a Triton compile or a garbage collection.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def _pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.2f}" if values else "-"


def _stalls(group: list[dict]) -> str:
    """Render CPU time p50 / p90, then frames with a GIL hold (worst ms), a Triton compile, a GC."""
    cpu = [r["render_cpu_ms"] for r in group if "render_cpu_ms" in r]
    held = [r["gil_wait_ms"] for r in group if "gil_wait_ms" in r]
    compiled = sum(1 for r in group if r.get("triton_compiles", 0) > 0)
    collected = sum(1 for r in group if r.get("gc_ms", 0) > 0)
    worst = f" ({max(held):.1f})" if held else ""
    return f"{_pct(cpu, 50)} / {_pct(cpu, 90)} | {len(held)}{worst} | {compiled} | {collected}"


def summarise(path: Path) -> list[str]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if "started" in r and "rendered" in r]
    lines = []
    for late in (False, True):
        group = [r for r in rows if (r["rendered"] > 0) == late]
        if not group:
            continue
        arrived = [r["arrived"] for r in group if "arrived" in r]
        started = [r["started"] for r in group]
        took = [r["rendered"] - r["started"] for r in group]
        waited = [r["started"] - r["arrived"] for r in group if "arrived" in r]
        queued = sum(1 for r in group if "arrived" in r and r["started"] - r["arrived"] > 1.0)
        lines.append(f"| {path.name.split('.')[0]} | {'late' if late else 'on time'} | {len(group)} | "
                     f"{_pct(arrived, 50)} | {_pct(waited, 50)} / {_pct(waited, 99)} | {_pct(started, 50)} | "
                     f"{_pct(took, 50)} / {_pct(took, 90)} / {_pct(took, 99)} | {queued} | {_stalls(group)} |")
    return lines


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print("| node | frames | n | arrived p50 | start wait p50 / p99 | started p50 | render p50 / p90 / p99 | "
          "waited > 1 ms | render CPU p50 / p90 | GIL held >= 2 ms | Triton compiles | GC |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for path in sorted(Path(sys.argv[1]).glob("*.timeline.jsonl")):
        for line in summarise(path):
            print(line)


if __name__ == "__main__":
    main()
