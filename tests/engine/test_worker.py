"""The render worker: patterns, scene canvases through a plug-in, and error cards with reasons."""

from __future__ import annotations

import dataclasses

import numpy as np

from render.worker import RenderWorker
from tests.engine.helpers import tiny_stage
from vpstage.engine import FrameJob, worker_specs
from vpstage.engine.jobs import CanvasJob, InnerView, RaysHandle, SceneContent
from vpstage.patterns import PatternSpec
from vpstage.timing import Timecode
from vpstage.tracking import CameraState

TC = Timecode.parse("01:00:00:00", 30)


def scene_job(revision: str, tracking_ns: int = 5) -> FrameJob:
    camera = CameraState.from_pan_tilt_roll((0.0, -2.0, 1.5), 0.0, 0.0, 0.0, 35.0, 24.9, 14.0, 1920, 1080)
    view = InnerView("A", camera.world_to_camera(), camera.intrinsics(), ((10, 5, 40, 30),), None, tracking_ns)
    content = SceneContent(RaysHandle("front", revision), (view,), None, ())
    return FrameJob("n1", 3, TC, 0, 10, (CanvasJob("front", 192, 64, content),
                                         CanvasJob("side", 96, 96, PatternSpec("grid"))))


def test_scene_canvases_render_through_the_plugin() -> None:
    spec = dataclasses.replace(worker_specs(tiny_stage())["n1"], scene_renderer="tests.engine.scene_plugin:build")
    worker = RenderWorker(spec)
    job = scene_job(spec.revision)
    result = worker.render(job)
    assert result.errors == {} and job.tracking_time_ns == 5
    front = result.images["front"]
    assert tuple(front[10, 20, :3]) == (0, 200, 50) and not front[40, 100, :3].any()
    assert not front.flags.writeable and result.images["side"].any()
    worker.close()


def test_without_a_scene_renderer_scene_canvases_show_why() -> None:
    spec = worker_specs(tiny_stage())["n1"]
    result = RenderWorker(spec).render(scene_job(spec.revision))
    assert "no scene renderer" in result.errors["front"] and "side" not in result.errors
    assert tuple(result.images["front"][0, 0, :3]) in {(0, 0, 140), (0, 0, 90)}  # the red error card


def test_a_scene_that_fails_to_load_or_a_stale_plan_shows_the_error_card() -> None:
    base = worker_specs(tiny_stage())["n1"]
    broken = RenderWorker(dataclasses.replace(base, scene_renderer="tests.engine.scene_plugin:broken"))
    result = broken.render(scene_job(base.revision))
    assert "scene failed to load" in result.errors["front"] and "garden.ply" in result.errors["front"]
    working = RenderWorker(dataclasses.replace(base, scene_renderer="tests.engine.scene_plugin:build"))
    stale = working.render(scene_job("0123456789abcdef"))
    assert "another revision of the stage" in stale.errors["front"]
    wrong_size = FrameJob("n1", 0, TC, 0, 1, (CanvasJob("front", 100, 100, PatternSpec("grid")),))
    assert "not on this node's stage" in working.render(wrong_size).errors["front"]
    assert np.all(working.render(wrong_size).images["front"][..., 3] == 255)
