"""Cancelling a long CPU scene render: the render stops at its next cancellation point with
RenderCancelled, instead of running on for seconds after its node was told to stop."""

from __future__ import annotations

import threading

import pytest

from render.cancel import RenderCancelled, cancellable, check_cancelled
from render.node.frame_renderer import NodeFrameRenderer
from tests.engine.test_scene_renderer import DEMO, plan_frame
from vpstage.nodes.jobs import RenderQuality
from vpstage.nodes.spec import NodeSpec
from vpstage.stage import Stage


def test_check_cancelled_only_raises_inside_a_cancelled_render() -> None:
    check_cancelled()  # outside any render: never raises
    event = threading.Event()
    with cancellable(event):
        check_cancelled()
        event.set()
        with pytest.raises(RenderCancelled):
            check_cancelled()
    check_cancelled()  # the token is gone again after the render


def test_cancel_stops_a_long_scene_render_on_another_thread() -> None:
    stage = Stage.open(DEMO)  # full size: the first scene frame (outer cube map) takes long on a CPU
    _planner, jobs = plan_frame(stage, RenderQuality(inner_scale=1.0, outer_scale=1.0))
    spec = NodeSpec(node="node1", device="cpu", project=stage.project, base_dir=str(stage.layout.base_dir),
                    scene_renderer="render.scene:build_scene_renderer")
    renderer = NodeFrameRenderer(spec, dict.fromkeys(stage.canvases_of_node("node1"), "BGRX"))
    assert renderer.scene is not None, renderer.scene_error
    started, outcome = threading.Event(), []
    scene_render = renderer.scene.render_canvas

    def render_canvas(*args: object) -> None:  # the scene render is under way once this is entered
        started.set()
        scene_render(*args)  # type: ignore[arg-type]

    renderer.scene.render_canvas = render_canvas  # type: ignore[method-assign]

    def render() -> None:
        try:
            outcome.append(renderer.render(jobs["node1"]))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=render, name="test-render", daemon=True)
    thread.start()
    try:
        assert started.wait(60.0), "the scene render never started"
        renderer.cancel()
        thread.join(20.0)  # a whole CPU frame takes far longer than this on a CI machine
        assert not thread.is_alive(), "the render did not stop after cancel()"
        assert len(outcome) == 1 and isinstance(outcome[0], RenderCancelled), \
            f"expected RenderCancelled, got {outcome!r} (the render finished before the cancel?)"
    finally:
        renderer.cancel()
        thread.join(60.0)
        renderer.close()
