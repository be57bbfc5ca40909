"""Stopping the cluster in the middle of a long CPU scene render: the render is cancelled at its
next cancellation point and the worker thread ends, instead of running on for tens of seconds."""

from __future__ import annotations

import time

from render.cancel import RenderCancelled, cancellable, check_cancelled
from render.worker import RenderWorker
from tests.engine.test_scene_renderer import DEMO, plan_frame
from vpstage.engine import EmbeddedCluster, RenderQuality, worker_specs
from vpstage.stage import Stage


def test_check_cancelled_only_raises_inside_a_cancelled_render() -> None:
    import threading

    check_cancelled()  # outside any render: never raises
    event = threading.Event()
    with cancellable(event):
        check_cancelled()
        event.set()
        try:
            check_cancelled()
        except RenderCancelled:
            pass
        else:
            raise AssertionError("a set event must cancel")
    check_cancelled()  # the token is gone again after the render


def test_stop_cancels_a_long_scene_render_and_ends_the_worker_thread() -> None:
    stage = Stage.open(DEMO)  # full size: the first scene frame (outer cube map) takes long on a CPU
    _planner, jobs = plan_frame(stage, RenderQuality(inner_scale=1.0, outer_scale=1.0))
    cluster = EmbeddedCluster(worker_specs(stage, "render.scene:build_scene_renderer"), RenderWorker,
                              stop_timeout_s=15.0)
    cluster.start()
    threads = list(cluster._threads.values())
    try:
        cluster.submit(jobs["node1"])
        time.sleep(1.0)
        assert cluster.poll(time.monotonic_ns()) == [], "the render finished before the stop: nothing to cancel"
    finally:
        cluster.stop()
    assert [t.name for t in threads if t.is_alive()] == []
