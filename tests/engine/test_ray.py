"""The Ray backend with a local Ray: CPU actors render the frames; SIGKILL one, the spare covers."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import numpy as np
import pytest

from tests.engine.helpers import RecordingPresenter, tiny_stage
from vpstage.engine import FrameLoop, PatternJobSource, worker_specs
from vpstage.engine.stats import FrameStats
from vpstage.patterns import PatternPainter, PatternSpec
from vpstage.stage import Stage

ray = pytest.importorskip("ray", reason="ray is not installed")

from render.ray_cluster import RayCluster, init_ray  # noqa: E402


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    started = init_ray(num_cpus=4, loopback=True)
    yield
    if started:
        ray.shutdown()


def fresh_frames(presenter: RecordingPresenter, painter: PatternPainter, canvas: str, frames: int) -> list[int]:
    """Frames whose presented picture is exactly that frame's own render (not a repeat)."""
    return [f for f in range(frames) if (f, canvas) in presenter.frames
            and np.array_equal(presenter.frames[(f, canvas)], painter.paint(canvas, PatternSpec("sync"), f))]


@pytest.mark.slow
def test_two_cpu_actors_render_30_frames(local_ray: None) -> None:
    stage = tiny_stage()
    project = stage.project.model_copy(update={"nodes": [n for n in stage.project.nodes if not n.spare]})
    stage = Stage.from_project(project, stage.layout.base_dir)
    cluster = RayCluster(worker_specs(stage), actor_cpus=0.5)
    presenter = RecordingPresenter()
    loop = FrameLoop(stage, PatternJobSource(stage, PatternSpec("sync")), cluster, [presenter])
    try:
        loop.run(30)
        pids = {node: cluster.node_info(node)["pid"] for node in ("n1", "n2")}
    finally:
        loop.close()
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    assert ray.util.get_node_ip_address() == "127.0.0.1"
    report = loop.report()
    assert report["frames"] == 30 and set(report["nodes"]) == {"n1", "n2"}
    painter = PatternPainter(stage.layout)
    for canvas, node in (("front", "n1"), ("side", "n2")):
        fresh = fresh_frames(presenter, painter, canvas, 30)
        assert len(fresh) == 30 - report["nodes"][node]["dropped"] and len(fresh) >= 20


@pytest.mark.slow
def test_sigkilled_actor_fails_over_to_the_spare_and_comes_back(local_ray: None) -> None:
    stage = tiny_stage()
    cluster = RayCluster(worker_specs(stage), actor_cpus=0.5)
    presenter = RecordingPresenter()
    loop = FrameLoop(stage, PatternJobSource(stage, PatternSpec("sync")), cluster, [presenter])
    frames: list[FrameStats] = []
    downs: list[tuple[str, str]] = []
    killed: list[int] = []

    def on_frame(stats: FrameStats) -> None:
        frames.append(stats)
        if stats.frame >= 10 and not killed:
            pid = int(str(cluster.node_info("n1")["pid"]))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    loop.events.frame_presented.connect(on_frame)
    loop.events.node_down.connect(lambda node, reason: downs.append((node, reason)))
    try:
        cluster.start()
        up_at = None
        while up_at is None or len(frames) < up_at + 10:  # until n1 has been home for 10 frames
            loop.run(10)
            if up_at is None and frames[-1].nodes[0].canvases == ("front",) and len(frames) > 20:
                up_at = len(frames)
            assert len(frames) < 600, "n1 never came back"
        new_pid = cluster.node_info("n1")["pid"]
    finally:
        loop.close()
    assert downs[0][0] == "n1" and "died" in downs[0][1]
    outage, = loop.failover.outages
    assert outage.covered_by == "n3" and outage.back_ns is not None
    assert outage.recovery_ms is not None and outage.recovery_ms > 0
    assert new_pid != killed[0]
    painter = PatternPainter(stage.layout)
    spare = [s.frame for s in frames if dict((n.node, n.canvases) for n in s.nodes)["n3"] == ("front",)]
    assert spare and set(spare) & set(fresh_frames(presenter, painter, "front", frames[-1].frame + 1))
    last = frames[-1].frame
    assert fresh_frames(presenter, painter, "front", last + 1)[-1] >= last - 2


def test_local_ray_workers_keep_the_inherited_pythonpath(monkeypatch: pytest.MonkeyPatch) -> None:
    """Packages installed outside site-packages (PYTHONPATH) stay importable in the actors."""
    from render.ray_cluster import REPO_ROOT, worker_pythonpath

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["/opt/extra/site", str(REPO_ROOT), ""]))
    assert worker_pythonpath().split(os.pathsep) == [str(REPO_ROOT), "/opt/extra/site"]
    monkeypatch.delenv("PYTHONPATH")
    assert worker_pythonpath() == str(REPO_ROOT)
