"""The node trace (``VPSTAGE_NODE_TRACE``): off it records nothing; on it writes each frame's
timeline relative to its deadline, with garbage-collector time, and ``bench.node_timeline``
tells late frames from on-time ones."""

from __future__ import annotations

import gc
import json
from pathlib import Path

from bench.node_timeline import summarise
from render.node.profiling import NodeTrace

MS = 1_000_000


def test_off_it_records_and_writes_nothing(tmp_path: Path) -> None:
    trace = NodeTrace("n1", folder="")
    trace.note(1, "arrived", 5 * MS, 20 * MS)
    trace.facts(1)
    trace.write()
    assert list(tmp_path.iterdir()) == [] and trace._rows == {}


def test_on_it_writes_the_timeline_and_late_frames_are_told_apart(tmp_path: Path) -> None:
    trace = NodeTrace("n1", folder=str(tmp_path), frames="1000:1")
    for frame, took_ms in ((1, 5), (2, 30)):  # frame 2 renders past its deadline
        deadline = 100 * MS * frame
        trace.note(frame, "arrived", deadline - 16 * MS, deadline)
        trace.note(frame, "started", deadline - 15 * MS, deadline)
        trace.note(frame, "rendered", deadline + (took_ms - 15) * MS, deadline)
        trace.mark(frame, "outcome", "fresh" if took_ms < 15 else "repeat")
    gc.collect()  # time in the collector is counted for the next frame's facts
    trace.facts(2)
    trace.write()
    rows = [json.loads(line) for line in (tmp_path / "n1.timeline.jsonl").read_text().splitlines()]
    assert [(r["frame"], r["rendered"], r["outcome"]) for r in rows] == [(1, -10.0, "fresh"), (2, 15.0, "repeat")]
    assert rows[1]["gc_ms"] >= 0.0 and "gc_ms" not in rows[0]
    assert trace._on_gc not in gc.callbacks  # written: the collector hook is gone
    on_time, late = summarise(tmp_path / "n1.timeline.jsonl")
    assert "| on time | 1 |" in on_time and "| late | 1 |" in late
