"""The node trace (``VPSTAGE_NODE_TRACE``): off it records nothing; on it writes each frame's
timeline relative to its deadline, with garbage-collector time, and ``bench.node_timeline``
tells late frames from on-time ones."""

from __future__ import annotations

import gc
import json
import sys
import time
import types
from pathlib import Path

import pytest

from bench.node_timeline import summarise
from render.node.__main__ import SWITCH_INTERVAL_S
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
    assert late.endswith("| 0 | 1 |") and on_time.endswith("| 0 | 0 |")  # no compile; the GC is frame 2's


def test_the_first_frame_carries_only_its_own_facts(tmp_path: Path) -> None:
    trace = NodeTrace("n1", folder=str(tmp_path), frames="1000:1")
    gc.collect()  # the build's and warm-up's collections: before the node is ready
    gc.disable()  # no collection of the test's own between here and the first frame
    try:
        trace.start_facts()
        trace.note(0, "arrived", 84 * MS, 100 * MS)
        trace.facts(0)
    finally:
        gc.enable()
    trace.write()
    (row,) = [json.loads(line) for line in (tmp_path / "n1.timeline.jsonl").read_text().splitlines()]
    row.pop("gil_wait_ms", None)  # the GIL probe's, if this machine stalled it
    assert row == {"frame": 0, "arrived": -16.0, "deadline_ms": 100.0}  # no gc_ms: the build's is not frame 0's


def test_the_stall_probe_tells_late_frames_with_a_host_stall(tmp_path: Path) -> None:
    from bench.stall_probe import explain

    rows = [{"frame": 1, "arrived": -20.0, "started": -19.0, "rendered": 3.0, "deadline_ms": 1000.0},   # late
            {"frame": 2, "arrived": -20.0, "started": -19.0, "rendered": 4.0, "deadline_ms": 2000.0},   # late
            {"frame": 3, "arrived": -20.0, "started": -19.0, "rendered": -5.0, "deadline_ms": 3000.0}]  # on time
    (tmp_path / "node1.timeline.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    probe = tmp_path / "probe.json"
    probe.write_text(json.dumps({"stalls": [[990.0, 12.0], [1500.0, 30.0], [2999.0, 9.0], [1995.0, 2.5]]}))
    table = explain(probe, tmp_path)
    assert table[-1] == "| node1 | 2 | 1 | 3 |"  # frame 1 had one; frame 2's was too short; 3 was on time


def test_triton_compiles_in_a_frame_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from render.node import profiling

    seen = []
    runtime = types.SimpleNamespace(jit_post_compile_hook=lambda **kw: seen.append(kw))  # a hook already there
    monkeypatch.setitem(sys.modules, "triton", types.SimpleNamespace(knobs=types.SimpleNamespace(runtime=runtime)))
    monkeypatch.setattr(profiling.TritonCompiles, "count", 0)
    monkeypatch.setattr(profiling.TritonCompiles, "installed", False)
    trace = NodeTrace("n1", folder=str(tmp_path), frames="1000:1")
    trace.start_facts()  # installs the counter, chained to the hook that was there
    runtime.jit_post_compile_hook(key="k1")  # Triton compiles two variants in frame 3's render
    runtime.jit_post_compile_hook(key="k2")
    trace.facts(3)
    trace.facts(4)
    trace.write()
    rows = [json.loads(line) for line in (tmp_path / "n1.timeline.jsonl").read_text().splitlines()]
    assert [(r["frame"], r.get("triton_compiles")) for r in rows] == [(3, 2), (4, None)]
    assert seen == [{"key": "k1"}, {"key": "k2"}]


def test_the_gil_probe_sees_a_thread_holding_the_gil() -> None:
    from render.node.profiling import GilProbe

    probe = GilProbe(period_s=0.002)
    try:
        probe.take_worst_ms()
        start = time.perf_counter()
        sum(range(20_000_000))  # one call into C: the GIL is not let go until it returns
        held_ms = (time.perf_counter() - start) * 1e3
        deadline = time.monotonic() + 10.0
        worst = 0.0
        while worst < held_ms / 2 and time.monotonic() < deadline:  # the probe notes it when it wakes
            time.sleep(0.01)
            worst = max(worst, probe.take_worst_ms())
    finally:
        probe.stop()
    assert worst >= held_ms / 2, (worst, held_ms)


def test_a_python_profile_covers_its_window_of_renders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSTAGE_NODE_PYPROFILE", "2:2")

    def busy_render() -> int:  # Python's own work: first by own time
        total = 0
        for i in range(200_000):
            total += i
        return total

    trace = NodeTrace("n1", folder=str(tmp_path), frames="1000:1")
    for _ in range(5):  # renders 1..5: the profile covers renders 2 and 3
        trace.before_render()
        busy_render()
    trace.write()
    text = (tmp_path / "n1.pyprofile.txt").read_text()
    assert "# renders 2 .. 3" in text and "busy_render" in text
    assert text.count("busy_render") >= 2  # in both tables


def test_the_stack_sampler_finds_where_the_render_thread_spends_its_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSTAGE_NODE_SAMPLE", "2:2")

    def busy_render() -> int:  # Python's own work, long enough for many 1 ms samples
        total = 0
        for i in range(400_000):
            total += i
        return total

    def quick_render() -> None:
        time.sleep(0.001)

    trace = NodeTrace("n1", folder=str(tmp_path), frames="1000:1")
    interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)  # as in a node: the sampler gets the GIL every 50 us
    try:
        for render in range(1, 6):  # the samples cover renders 2 and 3 only
            trace.before_render()
            busy_render() if render in (2, 3) else quick_render()
    finally:
        sys.setswitchinterval(interval)
    trace.write()
    text = (tmp_path / "n1.samples.txt").read_text()
    assert text.startswith("# renders 2 .. 3: ")
    assert int(text.split(": ")[1].split()[0]) >= 5, text  # samples
    by_function = text.split("## by line")[0]
    busy = next(line for line in by_function.splitlines() if line.endswith(" busy_render"))
    assert float(busy.split("%")[0].split()[-1]) >= 50.0, text  # where the window's time went
    assert "test_node_trace.py:" in text.split("## by line")[1]  # the lines inside it
