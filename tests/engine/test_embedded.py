"""The embedded cluster (one thread per node, real time): busy nodes, stalls, and a headless run."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from render.worker import RenderWorker
from tests.engine.helpers import RecordingPresenter, Script, tiny_stage
from vpstage.engine import EmbeddedCluster, FrameLoop, PatternJobSource, WorkerStartError, worker_specs
from vpstage.engine.stats import FrameStats
from vpstage.patterns import PatternPainter, PatternSpec, read_frame_counter


def test_a_busy_node_gets_no_new_jobs_until_it_answers() -> None:
    release = threading.Event()
    script = Script(hang_at={("n2", 2): release})
    stage = tiny_stage()
    loop = FrameLoop(stage, PatternJobSource(stage, PatternSpec("sync")),
                     EmbeddedCluster(worker_specs(stage), script.factory()), stall_frames=1000)

    def on_frame(stats: FrameStats) -> None:
        if stats.frame == 6:
            release.set()

    loop.events.frame_presented.connect(on_frame)
    try:
        loop.run(14)
    finally:
        loop.close()
    n2_frames = [frame for kind, node, frame in script.log if kind == "render" and node == "n2"]
    resumed = n2_frames[3]
    assert n2_frames[:3] == [0, 1, 2] and resumed >= 7  # nothing queued behind the hung frame
    assert n2_frames[3:] == list(range(resumed, resumed + len(n2_frames) - 3))
    totals = loop.history.totals["n2"]
    assert totals.late >= 1 and totals.dropped >= resumed - 2
    assert loop.failover.outages == []


def test_a_stalled_worker_is_replaced_and_the_spare_covers() -> None:
    hang = threading.Event()  # never set: n2's first worker hangs for good at frame 3
    script = Script(hang_at={("n2", 3): hang}, fail_build={("n2", 2)})  # and its first replacement fails
    stage = tiny_stage()
    presenter = RecordingPresenter()
    loop = FrameLoop(stage, PatternJobSource(stage, PatternSpec("sync")),
                     EmbeddedCluster(worker_specs(stage), script.factory()), [presenter], stall_frames=4,
                     restart_retry_s=0.3)
    downs, ups, frames = [], [], []
    loop.events.node_down.connect(lambda node, reason: downs.append((node, reason)))
    loop.events.node_up.connect(ups.append)
    loop.events.frame_presented.connect(frames.append)
    try:
        loop.run(45)
    finally:
        hang.set()
        loop.close()
    assert downs and downs[0][0] == "n2" and downs[0][1].startswith("stalled")
    assert ups == ["n2"] and script.builds["n2"] == 3
    outage, = loop.failover.outages
    assert outage.covered_by == "n3" and outage.back_ns is not None
    spare_frames = [s.frame for s in frames if dict((n.node, n.canvases) for n in s.nodes)["n3"] == ("side",)]
    assert spare_frames, "the spare never rendered the stalled node's canvas"
    # recovery: from the first missed deadline to the spare's first fresh picture
    assert outage.recovery_ms is not None and outage.detection_ms > 0
    assert outage.recovered_ns is not None and outage.recovered_ns < frames[spare_frames[0]].deadline_ns
    expected = PatternPainter(stage.layout).paint("side", PatternSpec("sync"), spare_frames[0])
    assert np.array_equal(presenter.frames[(spare_frames[0], "side")], expected)
    # at the end the side canvas is home and fresh again
    assert dict((n.node, n.canvases) for n in frames[-1].nodes)["n2"] == ("side",)
    frame = frames[-1].frame
    expected = PatternPainter(stage.layout).paint("side", PatternSpec("sync"), frame)
    assert np.array_equal(presenter.frames[(frame, "side")], expected)
    assert read_frame_counter(presenter.frames[(frame, "front")]) == frame
    assert presenter.closed


def test_headless_run_writes_a_valid_report(tmp_path: object) -> None:
    stage = tiny_stage()
    loop = FrameLoop(stage, PatternJobSource(stage, PatternSpec("cabinets", sync_overlay=True)),
                     EmbeddedCluster(worker_specs(stage), RenderWorker))
    loop.start(30)
    assert loop.join(timeout=60)
    loop.close()
    report = json.loads(json.dumps(loop.report()))  # plain JSON all the way down
    assert report["frames"] == 30 and report["rate"] == "30"
    assert set(report["nodes"]) == {"n1", "n2", "n3"}
    for key in ("render_ms", "present_skew_ms", "tracking_to_present_ms"):
        assert set(report[key]) >= {"p50", "p99"}
    assert report["tracking_to_present_ms"]["p50"] is None  # test patterns carry no tracking
    assert report["render_ms"]["p50"] > 0 and report["nodes"]["n3"]["frames"] == 0
    assert report["late"] == sum(n["late"] for n in report["nodes"].values())
    assert report["outputs"] == [] and report["failover"] == []
    assert loop.latest_image("front") is not None and loop.error is None


def test_a_worker_that_cannot_start_is_reported_with_its_node() -> None:
    stage = tiny_stage()
    script = Script(fail_build={("n2", 1)})
    cluster = EmbeddedCluster(worker_specs(stage), script.factory())
    with pytest.raises(WorkerStartError, match="node n2: RuntimeError: n2 generation 1 refuses to start"):
        cluster.start()
    cluster.stop()


def test_a_slow_first_answer_is_not_a_stall_but_a_silent_first_job_is() -> None:
    """A (re)started worker gets ``first_answer_grace_s`` for its first answer (first scene frames
    build caches); after it has answered once, ``stall_frames`` applies."""
    release, never = threading.Event(), threading.Event()
    script = Script(hang_at={("n2", 0): release, ("n1", 0): never})
    stage = tiny_stage()
    loop = FrameLoop(stage, PatternJobSource(stage, PatternSpec("sync")),
                     EmbeddedCluster(worker_specs(stage), script.factory()), stall_frames=3,
                     first_answer_grace_s=1.0, restart_retry_s=0.2)
    downs: list[tuple[str, str]] = []
    loop.events.node_down.connect(lambda node, reason: downs.append((node, reason)))
    loop.events.frame_presented.connect(lambda stats: release.set() if stats.frame == 10 else None)
    try:
        loop.run(60)  # 2 s at the tiny stage's 30 fps
    finally:
        never.set()
        loop.close()
    assert [node for node, _ in downs] == ["n1"], downs  # n2 took 10 frames (> 3) but within the grace
    assert downs[0][1].startswith("stalled: no answer for 30 frames")  # 1 s at 30 fps, not 3 frames
    n2_frames = [frame for kind, node, frame in script.log if kind == "render" and node == "n2"]
    assert n2_frames[0] == 0 and n2_frames[1] >= 10
