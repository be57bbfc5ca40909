"""Is the host itself stalling? A tiny process that wakes every millisecond and records each wake-up
that came late, to run beside a live run (``bench/gpu_frameloop.sh`` starts it).

    python -m bench.stall_probe OUT.json [--period-ms 1] [--min-ms 2]      (stops on SIGTERM / SIGINT)
    python -m bench.stall_probe --explain OUT.json TRACE_DIR                (late frames against the stalls)

A single-threaded process with nothing to do should wake within a fraction of a millisecond; when
it wakes many milliseconds late, no process of the run could have run either (CPU time taken by
the hypervisor, "steal", or by other work on the host). The report gives the stalls (monotonic
ms, the host's clock the render nodes' traces use for their deadlines), how many passed 2, 5 and
10 ms, and the CPU time ``/proc/stat`` counted as steal and I/O wait while the probe ran.
``--explain`` then counts, per node, the late frames whose render window (from the order's arrival
to the deadline) held a stall of at least 5 ms.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType

STALL_MS = 5.0
"""A wake-up this late or later counts as a stall that could have made a frame late."""


def cpu_times() -> dict[str, int]:
    """The host's CPU time so far, in jiffies, from the first line of ``/proc/stat``."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return {}
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    return {name: int(value) for name, value in zip(names, fields, strict=False)}


def watch(period_ms: float, min_ms: float, stop: list[bool]) -> tuple[list[list[float]], int]:
    """Wake every ``period_ms`` until ``stop[0]``; returns [[monotonic ms, late ms]] for the
    wake-ups at least ``min_ms`` late, and how many wake-ups there were."""
    stalls: list[list[float]] = []
    samples = 0
    period_ns = int(period_ms * 1e6)
    due = time.monotonic_ns() + period_ns
    while not stop[0]:
        time.sleep(max(0.0, (due - time.monotonic_ns()) / 1e9))
        now = time.monotonic_ns()
        late_ms = (now - due) / 1e6
        samples += 1
        if late_ms >= min_ms:
            stalls.append([round(due / 1e6, 3), round(late_ms, 3)])
        due = max(due + period_ns, now + period_ns // 2)  # a long stall is one stall, not a burst
    return stalls, samples


def summary(stalls: list[list[float]], samples: int, before: dict[str, int], after: dict[str, int],
            period_ms: float) -> dict[str, object]:
    spent = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    total = max(1, sum(spent.values()))
    late = [s[1] for s in stalls]
    return {"period_ms": period_ms, "samples": samples, "stalls": stalls,
            "over_2ms": sum(1 for v in late if v >= 2), "over_5ms": sum(1 for v in late if v >= 5),
            "over_10ms": sum(1 for v in late if v >= 10), "max_ms": max(late, default=0.0),
            "steal_pct": round(100 * spent.get("steal", 0) / total, 3),
            "iowait_pct": round(100 * spent.get("iowait", 0) / total, 3)}


def explain(probe: Path, traces: Path) -> list[str]:
    """Per node: late frames, and how many of them had a host stall in their render window."""
    stalls = [s for s in json.loads(probe.read_text())["stalls"] if s[1] >= STALL_MS]
    lines = ["| node | late frames | with a host stall >= 5 ms in their window | stalls >= 5 ms in the run |",
             "|---|---|---|---|"]
    for path in sorted(traces.glob("*.timeline.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        late = [r for r in rows if r.get("rendered", 0) > 0 and "deadline_ms" in r]
        hit = 0
        for row in late:
            start = row["deadline_ms"] + min(row.get("arrived", -25.0), row.get("started", 0.0)) - 2 * STALL_MS
            end = row["deadline_ms"] + row["rendered"]
            hit += any(start <= t + ms and t <= end for t, ms in stalls)
        lines.append(f"| {path.name.split('.')[0]} | {len(late)} | {hit} | {len(stalls)} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("traces", type=Path, nargs="?")
    parser.add_argument("--period-ms", type=float, default=1.0)
    parser.add_argument("--min-ms", type=float, default=2.0)
    parser.add_argument("--explain", action="store_true", help="read OUT and the node traces in TRACES")
    args = parser.parse_args(argv)
    if args.explain:
        if args.traces is None:
            parser.error("--explain needs the probe's file and the trace folder")
        print("\n".join(explain(args.out, args.traces)))
        return 0
    stop = [False]

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    before = cpu_times()
    stalls, samples = watch(args.period_ms, args.min_ms, stop)
    result = summary(stalls, samples, before, cpu_times(), args.period_ms)
    args.out.write_text(json.dumps(result))
    print(f"stall probe: {samples} wake-ups, {result['over_5ms']} >= 5 ms, {result['over_10ms']} >= 10 ms, "
          f"max {result['max_ms']} ms, steal {result['steal_pct']} %, iowait {result['iowait_pct']} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
