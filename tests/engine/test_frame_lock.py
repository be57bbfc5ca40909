"""Swap barrier ordering, late / dropped accounting and failover under a deterministic clock.

The inline cluster renders in the loop's thread and the scripted workers advance a
ManualTimeSource by their render cost, so every deadline verdict below is exact.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from tests.engine.helpers import MS, RecordingPresenter, Script, tiny_stage
from vpstage.engine import FrameLoop, InlineCluster, PatternJobSource, worker_specs
from vpstage.engine.barrier import FrameBarrier
from vpstage.engine.cluster import Reply
from vpstage.engine.jobs import NodeFrame
from vpstage.patterns import PatternSpec, read_frame_counter
from vpstage.stage import Stage
from vpstage.timing import FrameClock, ManualTimeSource


def make_loop(script: Script, spare: bool = True, **kwargs: object) -> tuple[FrameLoop, RecordingPresenter]:
    stage = tiny_stage()
    if not spare:
        project = stage.project.model_copy(update={"nodes": [n for n in stage.project.nodes if not n.spare]})
        stage = Stage.from_project(project, stage.layout.base_dir)
    script.time = script.time or ManualTimeSource(10**12)
    cluster = InlineCluster(worker_specs(stage), script.factory(), script.time)
    clock = FrameClock(Fraction(30), time_source=script.time)
    presenter = RecordingPresenter(script)
    loop = FrameLoop(stage, PatternJobSource(stage, PatternSpec("sync")), cluster, [presenter], clock=clock,
                     **kwargs)  # type: ignore[arg-type]
    return loop, presenter


def test_barrier_verdicts() -> None:
    barrier = FrameBarrier(7, ["a", "b", "c"], deadline_ns=100)
    ok = NodeFrame("a", 7, {}, 1.0)
    assert barrier.offer(Reply("a", 7, ok, None, 90)) == "on_time"
    assert barrier.offer(Reply("b", 6, ok, None, 95)) == "stale"  # an older frame's answer
    assert barrier.offer(Reply("b", 7, ok, None, 101)) == "late"
    assert not barrier.complete
    assert barrier.offer(Reply("c", 7, None, "died", 99)) == "failed"
    assert barrier.complete and barrier.close() == {"b"} and set(barrier.on_time) == {"a"}
    waiting = FrameBarrier(1, ["x"], 10)
    assert waiting.close() == {"x"}  # never answered: late at the deadline


def test_late_node_repeats_its_canvas_and_counts_a_drop() -> None:
    script = Script(cost_ns={("n2", 3): 40 * MS, ("n2", 5): 100 * MS})
    loop, presenter = make_loop(script)
    loop.run(8)
    history = loop.history
    n1, n2 = history.totals["n1"], history.totals["n2"]
    # frame 3: n2 answers after the 33.3 ms deadline; frame 5: 100 ms late, so frames 6 and 7 are skipped
    assert (n2.late, n1.late) == (2, 0)
    assert history.skipped == 2 and history.frames == 8
    ran = [int(f) for f in history.series("frame")]
    assert ran == [0, 1, 2, 3, 4, 5, 8, 9]
    assert n2.dropped == 2 + 2 and n1.dropped == 2  # skipped frames count as drops for every node
    # the late frames show the previous picture again (same array), on time ones are fresh
    assert presenter.frames[(3, "side")] is presenter.frames[(2, "side")]
    assert presenter.frames[(5, "side")] is presenter.frames[(4, "side")]
    for frame in ran:
        assert read_frame_counter(presenter.frames[(frame, "front")]) == frame
    assert list(history.node_series("n2", "late")) == [0, 0, 0, 1, 0, 1, 0, 0]
    assert np.isnan(history.node_series("n2", "render_ms")[3])


def test_no_node_runs_ahead_of_the_present() -> None:
    script = Script(cost_ns={("n1", 2): 50 * MS})
    loop, _ = make_loop(script)
    loop.run(6)
    presented = {frame: i for i, (kind, _, frame) in enumerate(script.log) if kind == "present"}
    for i, (kind, _node, frame) in enumerate(script.log):
        if kind == "render" and frame - 1 in presented:
            assert i > presented[frame - 1], f"frame {frame} rendered before frame {frame - 1} was presented"


def test_timecode_on_every_present_follows_the_clock() -> None:
    from vpstage.timing import Timecode

    script = Script()
    loop, presenter = make_loop(script)
    loop.clock.set_timecode(Timecode.parse("10:00:00:00", 30), at_ns=loop.clock.time_of(0))
    loop.run(3)
    assert [presenter.timecodes[i] for i in range(3)] == ["10:00:00:00", "10:00:00:01", "10:00:00:02"]


def test_failed_worker_goes_down_spare_covers_and_recovery_is_measured() -> None:
    # n1 raises at frame 3; its first replacement refuses to start, so the spare n3 covers
    # until the retry (0.1 s later) brings n1 back
    script = Script(raise_at={("n1", 3)}, fail_build={("n1", 2)})
    downs: list[tuple[str, str]] = []
    loop, presenter = make_loop(script, restart_retry_s=0.1)
    loop.events.node_down.connect(lambda node, reason: downs.append((node, reason)))
    recovered = []
    loop.events.recovered.connect(recovered.append)
    stats = []
    loop.events.frame_presented.connect(stats.append)
    loop.run(14)
    assert downs[0][0] == "n1" and "scripted failure" in downs[0][1]
    outage, = loop.failover.outages
    assert outage.covered_by == "n3" and outage.canvases == ("front",)
    owners = [{n.node: n.canvases for n in s.nodes} for s in stats]
    assert owners[2]["n1"] == ("front",) and owners[4]["n3"] == ("front",) and owners[4]["n1"] == ()
    assert owners[-1]["n1"] == ("front",) and owners[-1]["n3"] == ()  # home again after the retry
    assert recovered == [outage]
    # failed at frame 3's render; fresh again at frame 4's present (from the spare)
    assert outage.failed_ns <= stats[3].deadline_ns
    assert outage.recovered_ns is not None and stats[4].time_ns < outage.recovered_ns <= stats[4].deadline_ns
    assert outage.recovery_ms is not None and 0 < outage.recovery_ms < 70
    assert read_frame_counter(presenter.frames[(4, "front")]) == 4  # the spare's fresh picture
    assert presenter.frames[(3, "front")] is presenter.frames[(2, "front")]
    report = loop.report()
    assert report["failover"][0]["covered_by"] == "n3" and report["failover"][0]["restarted"]
    assert report["nodes"]["n1"]["dropped"] == 1 and report["nodes"]["n3"]["frames"] >= 1


def test_without_a_free_spare_canvases_repeat_until_the_node_is_back() -> None:
    script = Script(raise_at={("n1", 2)}, fail_build={("n1", 2)})
    loop, presenter = make_loop(script, spare=False, restart_retry_s=0.1)
    loop.run(12)
    n1_outage, = loop.failover.outages
    assert n1_outage.covered_by is None
    assert presenter.frames[(4, "front")] is presenter.frames[(1, "front")]
    assert n1_outage.recovered_ns is not None and n1_outage.back_ns is not None
    assert n1_outage.recovered_ns >= n1_outage.back_ns
