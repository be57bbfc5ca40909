"""A render node's frame renderer: scene canvases through a plug-in, error cards with reasons, test
patterns byte for byte in the outputs' formats, and preview thumbnails within their budget."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

import numpy as np
import pytest

from devices.outputs.pixels import bgrx_to_uyvy
from render.node.frame_renderer import NodeFrameRenderer, RenderedFrame
from tests.engine.helpers import tiny_stage
from vpstage.nodes.jobs import CanvasJob, FrameJob, InnerView, RaysHandle, SceneContent
from vpstage.nodes.messages import FourCC, Thumbnail, ThumbnailRequest
from vpstage.nodes.spec import NodeSpec, node_specs
from vpstage.patterns import PatternPainter, PatternSpec
from vpstage.stage import Stage
from vpstage.timing import Timecode
from vpstage.tracking import CameraState

TC = Timecode.parse("01:00:00:00", 30)
SIZES = {"front": (192, 64), "side": (96, 96)}


@pytest.fixture(scope="module")
def stage() -> Stage:
    return tiny_stage()


@pytest.fixture(scope="module")
def spec(stage: Stage) -> NodeSpec:
    return node_specs(stage)["n1"]


def renderer_for(spec: NodeSpec, fourcc: FourCC = "BGRX", scene: str | None = None) -> NodeFrameRenderer:
    return NodeFrameRenderer(dataclasses.replace(spec, scene_renderer=scene), dict.fromkeys(SIZES, fourcc))


def scene_job(revision: str, tracking_ns: int = 5, frame: int = 3) -> FrameJob:
    camera = CameraState.from_pan_tilt_roll((0.0, -2.0, 1.5), 0.0, 0.0, 0.0, 35.0, 24.9, 14.0, 1920, 1080)
    view = InnerView(camera="A", world_to_camera=camera.world_to_camera(), intrinsics=camera.intrinsics(),
                     launch_rects=((10, 5, 40, 30),), dod_crop=None, tracking_time_ns=tracking_ns)
    content = SceneContent(rays=RaysHandle("front", revision), inner=(view,), outer=None, placements=())
    return FrameJob(node="n1", frame=frame, timecode=TC, frame_time_ns=0, deadline_ns=10,
                    canvases=(CanvasJob("front", 192, 64, content),
                              CanvasJob("side", 96, 96, PatternSpec(name="grid"))))


def pattern_job(patterns: Mapping[str, PatternSpec], frame: int) -> FrameJob:
    return FrameJob(node="n1", frame=frame, timecode=TC, frame_time_ns=0, deadline_ns=10,
                    canvases=tuple(CanvasJob(c, *SIZES[c], p) for c, p in patterns.items()))


def pictures(rendered: RenderedFrame) -> Iterator[tuple[str, np.ndarray]]:
    for canvas, (_buffers, slot) in rendered.slots.items():
        assert slot.frame == rendered.frame
        yield canvas, slot.array


def test_scene_canvases_render_through_the_plugin(spec: NodeSpec) -> None:
    renderer = renderer_for(spec, scene="tests.engine.scene_plugin:build")
    try:
        assert renderer.scene is not None
        for frame in range(5):  # more frames than host slots: released slots are reused
            job = scene_job(spec.revision, frame=frame)
            result = renderer.render(job, ThumbnailRequest(request=7, canvases=("front",), max_width=192,
                                                           max_bytes=1 << 20))
            try:
                assert result.errors == {} and job.tracking_time_ns == 5 and result.frame == frame
                shown = dict(pictures(result))
                front = shown["front"]
                assert front.shape == (64, 192, 4)
                assert tuple(front[10, 20]) == (0, 200, 50, 255) and not front[40, 100, :3].any()
                assert shown["side"][..., :3].any()
                # a full-width thumbnail of a scene canvas is the picture itself
                (thumbnail,) = result.thumbnails
                assert (thumbnail.request, thumbnail.canvas, thumbnail.frame) == (7, "front", frame)
                assert (thumbnail.width, thumbnail.height) == (192, 64)
                np.testing.assert_array_equal(np.frombuffer(thumbnail.pixels, np.uint8).reshape(64, 192, 4), front)
            finally:
                result.release()
    finally:
        renderer.close()


def test_a_frame_whose_splat_layer_overflowed_is_rendered_again(spec: NodeSpec) -> None:
    """Deferred pair checks run once the frame is in host memory; an overflow renders it again."""
    renderer = renderer_for(spec, scene="tests.engine.scene_plugin:overflowing")
    try:
        first = renderer.render(scene_job(spec.revision, frame=1))
        assert renderer.scene.renders == 2 and first.errors == {}  # type: ignore[union-attr]
        assert tuple(first.slots["front"][1].array[10, 20]) == (0, 200, 50, 255)
        first.release()
        renderer.render(scene_job(spec.revision, frame=2)).release()
        assert renderer.scene.renders == 3  # type: ignore[union-attr]  # no overflow: once
        assert renderer.scene.begun == [("frame", 1), ("retry", 1), ("frame", 2)]  # type: ignore[union-attr]
    finally:
        renderer.close()


def test_without_a_scene_renderer_scene_canvases_show_why(spec: NodeSpec) -> None:
    renderer = renderer_for(spec)
    try:
        assert renderer.scene is None and "no scene renderer" in renderer.scene_error
        result = renderer.render(scene_job(spec.revision))
        assert "no scene renderer" in result.errors["front"] and "side" not in result.errors
        front = result.slots["front"][1].array
        assert tuple(front[0, 0]) in {(0, 0, 140, 255), (0, 0, 90, 255)}  # the red error card
        result.release()
    finally:
        renderer.close()


def test_a_scene_that_fails_to_load_or_a_stale_plan_shows_the_error_card(spec: NodeSpec) -> None:
    broken = renderer_for(spec, scene="tests.engine.scene_plugin:broken")
    try:
        assert broken.scene is None and "garden.ply" in broken.scene_error
        assert "garden.ply" in str(broken.info()["scene"])
        result = broken.render(scene_job(spec.revision))
        assert "scene failed to load" in result.errors["front"] and "garden.ply" in result.errors["front"]
        assert tuple(result.slots["front"][1].array[0, 0]) in {(0, 0, 140, 255), (0, 0, 90, 255)}
        result.release()
    finally:
        broken.close()
    working = renderer_for(spec, scene="tests.engine.scene_plugin:build")
    try:
        stale = working.render(scene_job("0123456789abcdef"))
        assert "another revision of the stage" in stale.errors["front"] and "side" not in stale.errors
        stale.release()
        wrong_size = working.render(FrameJob(node="n1", frame=0, timecode=TC, frame_time_ns=0, deadline_ns=1,
                                             canvases=(CanvasJob("front", 100, 100, PatternSpec(name="grid")),)))
        assert "not on this node's stage" in wrong_size.errors["front"]
        card = wrong_size.slots["front"][1].array
        assert card.shape == (64, 192, 4) and np.all(card[..., 3] == 255) and card[..., 2].mean() > 60
        wrong_size.release()
    finally:
        working.close()


@pytest.mark.parametrize("fourcc", ["BGRX", "UYVY"])
def test_patterns_are_the_painters_pictures_byte_for_byte(stage: Stage, spec: NodeSpec, fourcc: FourCC) -> None:
    painter = PatternPainter(stage.layout)
    renderer = renderer_for(spec, fourcc)
    patterns = {"front": PatternSpec(name="sync"), "side": PatternSpec(name="bars", sync_overlay=True)}
    try:
        for frame in (0, 1, 2, 31, 64, 1001):
            result = renderer.render(pattern_job(patterns, frame))
            try:
                assert result.errors == {}
                for canvas, picture in pictures(result):
                    expected = painter.paint(canvas, patterns[canvas], frame)
                    if fourcc == "UYVY":
                        expected = bgrx_to_uyvy(expected)
                    assert picture.dtype == np.uint8 and picture.shape == expected.shape, canvas
                    np.testing.assert_array_equal(picture, expected, err_msg=f"{canvas} at frame {frame}")
            finally:
                result.release()
    finally:
        renderer.close()


def test_a_still_pattern_is_unchanged_after_a_moving_one(stage: Stage, spec: NodeSpec) -> None:
    painter = PatternPainter(stage.layout)
    renderer = renderer_for(spec)
    try:
        for frame, pattern in enumerate([PatternSpec(name="grid"), PatternSpec(name="sync"), PatternSpec(name="grid")]):
            result = renderer.render(pattern_job({"front": pattern}, frame))
            picture = result.slots["front"][1].array.copy()
            result.release()
            np.testing.assert_array_equal(picture, painter.paint("front", pattern, frame), err_msg=str(frame))
    finally:
        renderer.close()


def test_thumbnails_come_within_the_byte_budget(spec: NodeSpec) -> None:
    renderer = renderer_for(spec, "UYVY")
    solid = PatternSpec(name="solid", color=(200, 40, 10))
    try:
        roomy = ThumbnailRequest(request=1, canvases=("front", "side", "nowhere"), max_width=64, max_bytes=1 << 20)
        result = renderer.render(pattern_job({"front": solid, "side": solid}, 12), roomy)
        result.release()
        by_canvas = {t.canvas: t for t in result.thumbnails}
        assert set(by_canvas) == {"front", "side"}  # a canvas this frame did not render is not answered
        assert [(t.width, t.height) for t in (by_canvas["front"], by_canvas["side"])] == [(64, 21), (64, 64)]
        for thumbnail in result.thumbnails:
            assert thumbnail.request == 1 and thumbnail.frame == 12
            pixels = np.frombuffer(thumbnail.pixels, np.uint8).reshape(thumbnail.height, thumbnail.width, 4)
            assert np.all(pixels == (10, 40, 200, 255))  # BGRX of the solid colour

        tight = ThumbnailRequest(request=2, canvases=("front", "side"), max_width=96, max_bytes=5000)
        result = renderer.render(pattern_job({"front": solid, "side": PatternSpec(name="grid")}, 13), tight)
        result.release()
        assert {t.canvas for t in result.thumbnails} == {"front", "side"} and result.errors == {}
        assert sum(len(t.pixels) for t in result.thumbnails) <= tight.max_bytes
        for thumbnail in result.thumbnails:
            full_width, full_height = SIZES[thumbnail.canvas]
            assert 1 <= thumbnail.width <= tight.max_width and len(thumbnail.pixels) == thumbnail.width * \
                thumbnail.height * 4
            assert abs(thumbnail.height - full_height * thumbnail.width / full_width) <= 1  # aspect kept
    finally:
        renderer.close()


def test_the_build_cuts_a_thumbnail_of_each_own_canvas(spec: NodeSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    cut: list[tuple[str, int]] = []
    real = NodeFrameRenderer._thumbnail

    def counted(self: NodeFrameRenderer, request: int, canvas: str, frame: int, max_width: int, budget: int
                ) -> Thumbnail:
        cut.append((canvas, frame))
        return real(self, request, canvas, frame, max_width, budget)

    monkeypatch.setattr(NodeFrameRenderer, "_thumbnail", counted)
    renderer = renderer_for(spec)
    try:  # the preview's downscaling ran once per canvas of the node before its first frame
        assert sorted(cut) == sorted((c, -1) for c in renderer.own_canvases()) and cut
    finally:
        renderer.close()


def test_a_canvas_the_stage_does_not_know_is_reported_and_the_others_render() -> None:
    stage = tiny_stage()
    renderer = NodeFrameRenderer(node_specs(stage)["n1"], {"front": "BGRX"})
    timecode = Timecode(hours=0, minutes=0, seconds=0, frames=0, rate=stage.project.frame_rate)
    job = FrameJob(node="n1", frame=0, timecode=timecode, frame_time_ns=0, deadline_ns=0,
                   canvases=(CanvasJob("nowhere", 0, 0, PatternSpec(name="grid")),
                             CanvasJob("front", 192, 64, PatternSpec(name="grid"))))
    rendered = renderer.render(job)
    assert set(rendered.slots) == {"front"} and "nowhere" in rendered.errors["nowhere"]
    rendered.release()
    renderer.close()
