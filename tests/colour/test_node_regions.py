"""Colour regions end to end on the master and a render node: from the project (regions only, no
OCIO config) through the planner's orders and the wire to the node's picture, live changes at the
next frame, and regions applied after a canvas's OCIO transform."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from devices.tracking.hub import TrackingHub
from render.node.frame_renderer import NodeFrameRenderer
from render.node.outputs import canvas_formats
from tests.colour.conftest import ACES_CONFIG, SDR, SRGB_TEXTURE
from tests.engine.helpers import jobs_from_plan, node_assignment, tiny_stage
from tests.engine.test_frame_renderer import pictures, scene_job
from vpstage.colour.grading import RegionGrade, region_grades
from vpstage.colour.settings import CanvasColour, ColourRegion, ColourSettings
from vpstage.frame_master import Planner
from vpstage.nodes.codec import decode, encode
from vpstage.nodes.jobs import SceneContent
from vpstage.nodes.messages import OutputSettings
from vpstage.nodes.spec import node_specs
from vpstage.stage import Stage
from vpstage.timing import FrameClock, ManualTimeSource

HALF_RED = ColourRegion(name="half red", canvas="front", rect=(10, 5, 40, 30), gain=(0.5, 1.0, 1.0))
"""Covers the scene plug-in's inner launch rectangle (10, 5, 40, 30) exactly, no feather."""


def region_stage(colour: ColourSettings) -> Stage:
    base = tiny_stage()
    project = base.project.model_copy(deep=True)
    project.colour = colour
    return Stage.from_project(project, base.layout.base_dir)


def render_front(stage: Stage, regions: tuple[RegionGrade, ...]) -> np.ndarray:
    spec = dataclasses.replace(node_specs(stage)["n1"], scene_renderer="tests.engine.scene_plugin:build")
    renderer = NodeFrameRenderer(spec, canvas_formats(stage.project, OutputSettings(fourcc="BGRX")))
    job = scene_job(spec.revision)
    front = job.canvases[0]
    assert isinstance(front.content, SceneContent)
    content = dataclasses.replace(front.content, regions=regions)
    job = dataclasses.replace(job, canvases=(dataclasses.replace(front, content=content), *job.canvases[1:]))
    try:
        result = renderer.render(job)
        try:
            assert result.errors == {}
            return dict(pictures(result))["front"].copy()
        finally:
            result.release()
    finally:
        renderer.close()


def test_a_region_grades_the_scene_on_the_node_without_an_ocio_config() -> None:
    stage = region_stage(ColourSettings(regions=[HALF_RED]))
    picture = render_front(stage, region_grades(stage.project.colour.regions))  # type: ignore[union-attr]
    assert tuple(picture[10, 20]) == (0, 200, 25, 255)  # BGRX: red 50 -> 25, green and blue as rendered
    assert tuple(picture[4, 20, :3]) == (0, 0, 0)  # outside: the black background, untouched
    assert tuple(render_front(stage, ())[10, 20]) == (0, 200, 50, 255)


def test_regions_apply_after_the_ocio_output_transform() -> None:
    colour = ColourSettings(config=ACES_CONFIG, working_space=SRGB_TEXTURE, regions=[HALF_RED],
                            canvases={"front": CanvasColour(display=SDR.display, view=SDR.view)})
    stage = region_stage(colour)
    plain = render_front(stage, ()).astype(np.int32)
    graded = render_front(stage, region_grades(colour.regions)).astype(np.int32)
    assert tuple(plain[10, 20, :3]) != (0, 200, 50)  # the transform changed the scene colour ...
    assert abs(graded[10, 20, 2] - plain[10, 20, 2] / 2) <= 1  # ... and the region halves its code value
    assert np.array_equal(graded[10, 20, :2], plain[10, 20, :2])


def test_the_planner_sends_the_regions_and_takes_live_changes_at_the_next_frame() -> None:
    off = HALF_RED.model_copy(update={"name": "off", "enabled": False})
    side = HALF_RED.model_copy(update={"name": "side one", "canvas": "side"})
    stage = region_stage(ColourSettings(regions=[HALF_RED, off, side]))
    planner = Planner(stage, TrackingHub(stage.project))
    time = ManualTimeSource(10**12)
    clock = FrameClock(stage.project.frame_rate, time_source=time, start_ns=time.now_ns())
    plan = planner.plan(clock.tick(0))
    assert plan.scene is not None and plan.scene.regions == region_grades([HALF_RED, side])
    order = decode(encode(plan.order(("front", "side"), 0)))  # over the wire
    assert order.scene is not None and order.scene.regions == plan.scene.regions  # type: ignore[union-attr]
    jobs = jobs_from_plan(stage, plan, node_assignment(stage))
    contents = {c.canvas: c.content for job in jobs.values() for c in job.canvases}
    front: Any = contents["front"]
    assert front.regions == region_grades([HALF_RED])  # each canvas gets its own
    brighter = RegionGrade.from_region(HALF_RED.model_copy(update={"gain": (2.0, 1.0, 1.0)}))
    planner.set_colour_regions([brighter, RegionGrade(canvas="nowhere", rect=(0, 0, 1, 1))])
    later = planner.plan(clock.tick(1))
    assert later.scene is not None and later.scene.regions == (brighter,)
    assert later.scene.outer == plan.scene.outer  # the outer picture stays cached
