"""The planner: per frame, tracked cameras -> the frame's plan (a FrameSource).

Per frame, on the loop's thread:

1. sample every tracked camera at the frame's instant (:mod:`vpstage.frame_master.tracked_cameras`: tracking
   delay, lens and alignment applied; a silent tracker holds its last pose and is flagged);
2. per camera, build its inner frustum (overscan and soft edge from the project's camera, the
   planner's far distance and DoD margin) and cull every cabinet of the stage against it at once
   (:mod:`vpstage.frustum.cull`): the canvases that may hold inner pixels, with conservative
   launch rectangles;
3. the :class:`~vpstage.frame_master.plan.FramePlan`: per camera its calibrated state, data time, lost
   flag, launch rectangles, priority, whether it is the active camera and whether its interleave
   puts it on the wall this frame (:class:`~vpstage.frame_master.tracked_cameras.CameraLayering`; a camera off
   the wall gets no launch rectangles); the scene state (placements, outer view and cache key,
   quality); the canvases showing a test pattern. The loop cuts it into one small order per node,
   and each node blends its cameras' inner views lowest priority first, the active camera last.

The exact per-pixel work (inner spans, UV, soft-edge weights, per-asset DoD crops) is left to
the render nodes, in parallel on their own processes: it costs ~1-2 ms per canvas in view, far
more than a planning budget of 1 ms for 16 nodes allows (``docs/frameloop.md``, ``bench.planner``).

Control (any thread; takes effect at the next frame): ``set_pattern``, ``set_placement``,
``set_asset_enabled``, ``set_quality``, ``set_outer_viewpoint``, ``set_active_camera``,
``set_colour_regions``. Events (psygnal, fired on the
frame loop's thread): ``tracking_lost(camera)``, ``tracking_recovered(camera)``.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence

from psygnal import Signal

from vpstage.colour.grading import RegionGrade, region_grades
from vpstage.frame_master.plan import FramePlan, PlannedFrame
from vpstage.frame_master.scene_state import SceneState, Vec3
from vpstage.frame_master.tracked_cameras import CameraLayering, CameraSampler, CameraSource, TrackedCamera
from vpstage.frustum.cull import CabinetCull
from vpstage.frustum.frustum import CameraFrustum, FrustumSettings
from vpstage.frustum.geometry import Rect
from vpstage.frustum.node import StageFrustum
from vpstage.nodes.jobs import RenderQuality
from vpstage.nodes.messages import CameraOrder, SceneOrder
from vpstage.patterns import PatternSpec
from vpstage.stage import Stage
from vpstage.stage.model import Placement
from vpstage.timing import FrameTick

DEFAULT_FAR_M = 100.0


class Planner:
    """A ``FrameSource`` planning scene frames from tracked cameras (see the module docstring).

    ``cameras`` names the project cameras to plan (default: all of them). ``far_m`` is the DoD
    depth limit workers use; ``dod_margin_px`` grows each crop's cone by that many camera pixels.
    """

    tracking_lost = Signal(str)
    """(camera) its tracker went silent (held pose from now on); fires on the frame loop's thread."""
    tracking_recovered = Signal(str)
    """(camera) its tracker speaks again; fires on the frame loop's thread."""

    def __init__(self, stage: Stage, source: CameraSource, *, quality: RenderQuality | None = None,
                 cameras: Sequence[str] | None = None, far_m: float = DEFAULT_FAR_M,
                 dod_margin_px: float = 1.0) -> None:
        project = stage.project
        self.stage = stage
        self.sampler = CameraSampler(project, source, cameras)
        self.layering = CameraLayering(project, self.sampler.names)
        self.settings = {c.name: FrustumSettings.for_camera(c, far_m=far_m, dod_margin_px=dod_margin_px)
                         for c in project.cameras if c.name in self.sampler.names}
        self.frusta = StageFrustum(stage)
        self.cull = CabinetCull([self.frusta.geometry(c.name) for c in project.canvases])
        self._sizes = {c.name: (c.width, c.height) for c in project.canvases}
        self._lock = threading.Lock()
        self._placements: dict[str, Placement] = {}
        self._enabled: dict[str, bool] = {}
        self._viewpoint: Vec3 = project.outer_viewpoint
        self._quality = quality or RenderQuality()
        self._regions = region_grades(project.colour.regions) if project.colour is not None else ()
        self.scene = self._build_scene()
        self._all_pattern: PatternSpec | None = None
        self._patterns: dict[str, PatternSpec] = {}
        self._cull_cache: dict[str, tuple[bytes, dict[str, Rect]]] = {}
        self._active: str | None = None
        self.last: PlannedFrame | None = None
        """The most recent frame planned (replaced each frame; read it on the loop's thread)."""

    # ------------------------------------------------------------------ control (any thread)

    def set_pattern(self, canvas: str | None, spec: PatternSpec | None) -> None:
        """Show test pattern ``spec`` on ``canvas`` instead of the scene. ``canvas`` None: on every
        canvas (replacing per-canvas overrides); ``spec`` None: that canvas goes back to the
        all-canvas pattern if one is set, else to the scene; both None: the scene everywhere."""
        if canvas is not None and canvas not in self._sizes:
            raise KeyError(f"no canvas named {canvas!r}")
        with self._lock:
            if canvas is None:
                self._all_pattern, self._patterns = spec, {}
            elif spec is None:
                self._patterns = {c: s for c, s in self._patterns.items() if c != canvas}
            else:
                self._patterns = {**self._patterns, canvas: spec}

    def pattern_for(self, canvas: str) -> PatternSpec | None:
        """The pattern ``canvas`` shows instead of the scene, or None."""
        return self._patterns.get(canvas, self._all_pattern)

    def set_placement(self, asset: str, placement: Placement) -> None:
        """Move a scene asset (stage -> scene); the outer cache key changes with it."""
        self._check_asset(asset)
        with self._lock:
            self._placements[asset] = placement
            self.scene = self._build_scene()

    def set_asset_enabled(self, asset: str, enabled: bool) -> None:
        self._check_asset(asset)
        with self._lock:
            self._enabled[asset] = enabled
            self.scene = self._build_scene()

    def set_quality(self, quality: RenderQuality) -> None:
        with self._lock:
            self._quality = quality
            self.scene = self._build_scene()

    def set_outer_viewpoint(self, viewpoint: Vec3) -> None:
        """Stage metres; the outer pixels are re-rendered from there."""
        with self._lock:
            self._viewpoint = (float(viewpoint[0]), float(viewpoint[1]), float(viewpoint[2]))
            self.scene = self._build_scene()

    def set_colour_regions(self, regions: Sequence[RegionGrade]) -> None:
        """Grade the wall with ``regions`` (the enabled ones, in canvas pixels of this planner's
        stage) from the next frame on; regions of canvases the stage lacks are dropped."""
        known = tuple(r for r in regions if r.canvas in self._sizes)
        with self._lock:
            self._regions = known
            self.scene = self._build_scene()

    @property
    def colour_regions(self) -> tuple[RegionGrade, ...]:
        return self.scene.regions

    def set_active_camera(self, camera: str | None) -> None:
        """Make ``camera`` the active camera from the next frame on: its inner frustum is drawn over
        every other camera's, whatever their priorities (inactive cameras are still rendered, below
        it). None: back to the default, the highest-priority camera. KeyError for a camera this
        planner does not plan."""
        if camera is not None and camera not in self.sampler.names:
            raise KeyError(f"no planned camera named {camera!r}")
        with self._lock:
            self._active = camera

    @property
    def active_camera(self) -> str | None:
        """The active camera (the operator's choice, else the highest-priority camera)."""
        return self._active if self._active is not None else self.layering.default_active

    def _check_asset(self, asset: str) -> None:
        if asset not in {a.name for a in self.stage.project.scene}:
            raise KeyError(f"no scene asset named {asset!r}")

    def _build_scene(self) -> SceneState:
        return SceneState.build(self.stage.project.scene, self._viewpoint, self._quality, self._placements,
                                self._enabled, self._regions)

    # ------------------------------------------------------------------ per frame (loop thread)

    def plan(self, tick: FrameTick) -> FramePlan:
        start = time.perf_counter_ns()
        sampled, changes = self.sampler.sample(tick.time_ns)
        scene = self.scene
        with self._lock:
            patterns = dict(self._patterns)
            every = self._all_pattern
            active = self._active
        cameras = self.layering.apply(sampled, active, tick.count)
        orders = []
        visible: dict[str, Mapping[str, Rect]] = {}
        for camera in cameras:
            rects = self._camera_rects(camera) if camera.on_wall else {}
            visible[camera.name] = rects
            orders.append(CameraOrder(name=camera.name, state=camera.state, data_time_ns=camera.data_time_ns,
                                      lost=camera.tracking_lost, rects=dict(rects), priority=camera.priority,
                                      active=camera.active, on_wall=camera.on_wall))
        if every is not None:
            patterns = {c: patterns.get(c, every) for c in self._sizes}
        plan_ns = time.perf_counter_ns() - start
        planned = PlannedFrame(tick=tick, cameras=cameras, visible=visible, scene=scene, plan_ns=plan_ns)
        self.last = planned
        for name, lost in changes:
            (self.tracking_lost if lost else self.tracking_recovered).emit(name)
        order = SceneOrder(scene.placements, scene.outer, scene.quality, scene.regions)
        return FramePlan(tick=tick, patterns=patterns, cameras=tuple(orders), scene=order, planned=planned,
                         plan_ns=plan_ns)

    def _camera_rects(self, camera: TrackedCamera) -> Mapping[str, Rect]:
        """Cull the stage for one camera: canvas -> launch rectangle for every canvas it may see."""
        state = camera.state
        if state is None:
            return {}
        frustum = CameraFrustum.from_camera(state, self.settings[camera.name])
        return self._launch_rects(camera.name, frustum)

    def _launch_rects(self, camera: str, frustum: CameraFrustum) -> dict[str, Rect]:
        """The cull's result, reused while the camera has not moved (a held or static camera)."""
        key = (frustum.eye.tobytes() + frustum.rotation.tobytes()
               + repr(frustum.window).encode())
        cached = self._cull_cache.get(camera)
        if cached is not None and cached[0] == key:
            return cached[1]
        rects = self.cull.launch_rects(frustum)
        self._cull_cache[camera] = (key, rects)
        return rects
