"""A render node turns its frame order into the job it renders (node side, on its render thread).

The master sends what every node needs to know about the frame (tracked cameras with their
launch rectangles on this node's canvases, scene state, test patterns); the node rebuilds each
camera's inner view with its frustum settings from the project (overscan, soft edge) and the
planner's far distance and DoD margin, then computes the exact per-pixel frustum itself.

Several cameras: each canvas's inner views are listed in blend order, bottom first
(:func:`blend_order`): lower-priority cameras first, the active camera last, so a renderer that
blends them in turn, each with its own soft-edge weights, leaves the higher camera's inner pixels
on top where frusta overlap, its soft edge fading into the camera below. Cameras whose interleave
keeps them off the wall this frame (``CameraOrder.on_wall`` False) get no view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from vpstage.frustum.frustum import CameraFrustum, FrustumSettings
from vpstage.nodes.jobs import CanvasJob, Content, FrameJob, InnerView, RaysHandle, SceneContent, TileJob
from vpstage.nodes.messages import CameraOrder, FrameOrder, SceneOrder, TileOrder
from vpstage.patterns import PatternSpec
from vpstage.stage.model import Project
from vpstage.timing import Timecode, default_drop_frame


def blend_order(cameras: Sequence[CameraOrder]) -> list[CameraOrder]:
    """``cameras`` (in project order) bottom to top: by (active, priority) ascending; of equal
    priority the camera listed first ends on top."""
    ranked = sorted(enumerate(cameras), key=lambda item: (item[1].active, item[1].priority, -item[0]))
    return [camera for _, camera in ranked]


class OrderReader:
    """Builds FrameJobs from orders for one node of ``project``."""

    def __init__(self, node: str, project: Project, revision: str, far_m: float, dod_margin_px: float) -> None:
        self.node, self.revision = node, revision
        self.rate = project.frame_rate
        self.sizes = {c.name: (c.width, c.height) for c in project.canvases}
        self.settings = {c.name: FrustumSettings.for_camera(c, far_m=far_m, dod_margin_px=dod_margin_px)
                         for c in project.cameras}

    def job(self, order: FrameOrder) -> FrameJob:
        """The job of ``order``; canvases this stage does not know show the error card."""
        views = self._views(order.cameras)
        canvases = []
        for canvas in order.canvases:
            width, height = self.sizes.get(canvas, (0, 0))
            content = self._content(canvas, order.patterns, views, order.scene)
            canvases.append(CanvasJob(canvas, width, height, content))
        timecode = Timecode.from_count(order.count, self.rate, default_drop_frame(self.rate))
        return FrameJob(node=self.node, frame=order.frame, timecode=timecode, frame_time_ns=order.time_ns,
                        deadline_ns=order.deadline_ns, canvases=tuple(canvases), tiles=self._tiles(order))

    def _tiles(self, order: FrameOrder) -> tuple[TileJob, ...]:
        """The order's tile orders this node takes part in, with the camera view and placement a
        helper needs to render the owner's view (``render.scene.shared_views``)."""
        if not order.tiles:
            return ()
        cameras = {c.name: c for c in order.cameras}
        placements = {} if order.scene is None else {p.asset: p for p in order.scene.placements}
        inner_scale = 1.0 if order.scene is None else order.scene.quality.inner_scale
        return tuple(TileJob(owner=t.owner, helper=t.helper, camera=t.camera, asset=t.asset, canvases=t.canvases,
                             index=t.index, count=t.count, wait_ns=t.wait_ns, view=self._tile_view(cameras, t),
                             placement=placements.get(t.asset), inner_scale=inner_scale)
                     for t in order.tiles if self.node in (t.owner, t.helper))

    def _tile_view(self, cameras: Mapping[str, CameraOrder], tile: TileOrder) -> InnerView | None:
        camera = cameras.get(tile.camera)
        if camera is None or camera.state is None or not camera.on_wall:
            return None
        return self._view(camera, (0, 0, 0, 0))

    def _content(self, canvas: str, patterns: Mapping[str, PatternSpec], views: Mapping[str, list[InnerView]],
                 scene: SceneOrder | None) -> Content:
        pattern = patterns.get(canvas)
        if pattern is not None:
            return pattern
        if scene is None:
            return PatternSpec(name="error", text="no scene in this frame's order")
        regions = tuple(r for r in scene.regions if r.canvas == canvas)
        return SceneContent(rays=RaysHandle(canvas, self.revision), inner=tuple(views.get(canvas, ())),
                            outer=scene.outer, placements=scene.placements, quality=scene.quality, regions=regions)

    def _views(self, cameras: tuple[CameraOrder, ...]) -> dict[str, list[InnerView]]:
        """Canvas -> its inner views in blend order (bottom first)."""
        views: dict[str, list[InnerView]] = {}
        for camera in blend_order(cameras):
            if camera.state is None or not camera.rects or not camera.on_wall:
                continue
            view = self._view(camera, (0, 0, 0, 0))
            for canvas, rect in camera.rects.items():
                views.setdefault(canvas, []).append(replace(view, launch_rects=(rect,)))
        return views

    def _view(self, camera: CameraOrder, rect: tuple[int, int, int, int]) -> InnerView:
        """``camera``'s inner view (it has a state) with launch rectangle ``rect``."""
        state = camera.state
        assert state is not None
        settings = self.settings.get(camera.name, FrustumSettings())
        frustum = CameraFrustum.from_camera(state, settings)
        intrinsics = state.intrinsics()
        xl, xr = frustum.window[:2]
        soft_px = frustum.soft_edge * (xr - xl) * intrinsics.fx
        used_ns = camera.data_time_ns if camera.data_time_ns is not None else state.time_ns
        return InnerView(camera=camera.name, world_to_camera=state.world_to_camera(), intrinsics=intrinsics,
                         launch_rects=(rect,), dod_crop=None, tracking_time_ns=used_ns, tracking_lost=camera.lost,
                         soft_edge_px=soft_px, state=state, settings=settings, window=frustum.window)
