"""What a render node is asked to do for one frame, and what it hands back.

One :class:`FrameJob` per node per frame: the frame's number, timecode and present deadline, and
per canvas what to show. A canvas shows either a test pattern (:class:`PatternSpec`) or the scene
(:class:`SceneContent`), which the planner fills from tracking and the frustum module:

* inner views: per tracked camera that may see the canvas, its pose and intrinsics (OpenCV
  convention, stage frame), the calibrated camera state with its frustum settings (from which
  the worker rebuilds the exact inner pixels, UV and per-asset DoD crops of its canvases), the
  canvas rectangles that may hold its inner pixels (launch rectangles), and optionally a DoD
  crop (stage frame) that bounds what can appear there;
* the outer view: the stage viewpoint the remaining pixels are rendered from, and a cache key
  that changes only when the scene, a placement or the viewpoint changes;
* the rays handle: which canvas's LED pixel positions (held by the worker since start-up, from
  ``Stage.canvas_pixels``) the rays are cast through; jobs never carry pixel arrays;
* placements (stage -> scene, per asset) and quality settings;
* the canvas's colour regions (``vpstage.colour.grading``), applied after its output transform.

Everything here is plain data: picklable (Ray ships jobs to actors) and immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from vpstage.colour.grading import RegionGrade
from vpstage.frustum.frustum import CameraFrustum, FrustumSettings
from vpstage.geometry import OrientedBox
from vpstage.geometry.pinhole import Intrinsics
from vpstage.patterns import PatternSpec
from vpstage.timing import Timecode
from vpstage.tracking.camera import CameraState
from vpstage.tracking.image_window import Window

Rect = tuple[int, int, int, int]
"""(x0, y0, x1, y1) in canvas pixels, inclusive-exclusive."""

CanvasImage = NDArray[np.uint8]
"""A rendered canvas: (height, width, 4) uint8, B G R X (X = 255), C-contiguous."""


@dataclass(frozen=True)
class RaysHandle:
    """Names per-canvas pixel data the worker already holds: the LED pixel centres (stage metres),
    normals and validity of ``canvas`` as built from the stage whose revision is ``stage_revision``.
    A worker refuses a job whose revision differs from the stage it loaded."""

    canvas: str
    stage_revision: str


@dataclass(frozen=True, kw_only=True)
class InnerView:
    """One tracked camera's inner frustum on one canvas."""

    camera: str
    world_to_camera: NDArray[np.float64]
    """(4, 4) stage -> OpenCV camera (x right, y down, z forward); the eye is the entrance pupil."""
    intrinsics: Intrinsics
    """Of the camera's full image (pixels); inner pixels are rendered by projecting LED pixels."""
    launch_rects: tuple[Rect, ...]
    """Canvas rectangles holding every inner pixel of this camera (render only these). The
    planner sends conservative ones (footprints of the cabinets its cull could not rule out);
    the exact inner pixels follow from ``state`` and ``settings``."""
    dod_crop: OrientedBox | None
    """Stage-frame box outside which nothing can appear in these pixels (None: not computed by
    the planner; a renderer derives exact per-asset crops from ``frustum()``)."""
    tracking_time_ns: int
    """Monotonic time of the tracking state used (for tracking-to-present latency)."""
    tracking_lost: bool = False
    """True when the tracker went silent and the last pose is being held."""
    soft_edge_px: float = 0.0
    """Width of the soft-edge band in camera-image pixels (informative; ``settings`` rules)."""
    state: CameraState | None = None
    """The calibrated camera (stage frame, eye = entrance pupil) this view was planned from."""
    settings: FrustumSettings | None = None
    """Overscan, FOV multiplier, soft edge, far distance and DoD margin of the inner frustum."""
    window: Window | None = None
    """The overscanned inner window (x_left, x_right, y_top, y_bottom) in image-plane tangent
    units (x = c_x / c_z, y = c_y / c_z): inner-window UV is measured in it."""

    def frustum(self) -> CameraFrustum:
        """The exact inner frustum (``vpstage.frustum``) of this view; needs ``state``."""
        if self.state is None:
            raise ValueError(f"inner view of camera {self.camera} carries no camera state")
        return CameraFrustum.from_camera(self.state, self.settings)


@dataclass(frozen=True)
class OuterView:
    """The outer frustum: pixels lit from a fixed stage viewpoint, cacheable while nothing changes."""

    viewpoint: tuple[float, float, float]
    """Stage metres."""
    cache_key: str
    """Changes whenever the outer picture must be re-rendered (scene, placement, viewpoint)."""


@dataclass(frozen=True)
class AssetPlacement:
    """One scene asset and where it sits: ``p_scene = stage_to_scene @ p_stage`` (4x4 similarity)."""

    asset: str
    stage_to_scene: NDArray[np.float64]
    enabled: bool = True


@dataclass(frozen=True)
class RenderQuality:
    inner_scale: float = 1.0
    """Resolution factor of inner pixels (1 = every LED pixel)."""
    outer_scale: float = 1.0
    """Resolution factor of outer pixels (e.g. 0.5 renders them at half resolution and upsamples)."""
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Linear RGB 0..1 behind the scene content."""


@dataclass(frozen=True, kw_only=True)
class SceneContent:
    """The scene on one canvas (see the module docstring)."""

    rays: RaysHandle
    inner: tuple[InnerView, ...]
    outer: OuterView | None
    placements: tuple[AssetPlacement, ...]
    quality: RenderQuality = field(default_factory=RenderQuality)
    regions: tuple[RegionGrade, ...] = ()
    """This canvas's colour regions, in the order they apply."""

    @property
    def tracking_time_ns(self) -> int | None:
        """Oldest tracking state used on this canvas (None without inner views)."""
        return min((v.tracking_time_ns for v in self.inner), default=None)


Content = PatternSpec | SceneContent


@dataclass(frozen=True)
class CanvasJob:
    canvas: str
    width: int
    height: int
    content: Content


@dataclass(frozen=True, kw_only=True)
class TileJob:
    """Band ``index`` of ``count`` of ``owner``'s camera view of ``asset`` through ``camera`` (the
    view its canvases ``canvases`` share), rendered by ``helper`` (``vpstage.nodes.tiles``)."""

    owner: str
    helper: str
    camera: str
    asset: str
    canvases: tuple[str, ...]
    index: int
    count: int
    wait_ns: int
    """Until when (master clock) the owner waits for the band."""
    view: InnerView | None
    """The camera's inner view (any canvas: only its camera state and settings are used); None
    when the order carries no state for it."""
    placement: AssetPlacement | None
    """The asset's placement this frame (None: not in the order)."""
    inner_scale: float = 1.0


@dataclass(frozen=True, kw_only=True)
class FrameJob:
    """Everything one node renders for one frame."""

    node: str
    frame: int
    """Run frame index (FrameTick.index)."""
    timecode: Timecode
    frame_time_ns: int
    deadline_ns: int
    """Present deadline on the console's monotonic clock (workers on other hosts use it only for
    logging; lateness is judged where the replies arrive)."""
    canvases: tuple[CanvasJob, ...]
    tiles: tuple[TileJob, ...] = ()
    """Bands of camera views this node renders for another, or another renders for it."""

    @property
    def tracking_time_ns(self) -> int | None:
        times = [c.content.tracking_time_ns for c in self.canvases if isinstance(c.content, SceneContent)]
        return min((t for t in times if t is not None), default=None)


@dataclass(kw_only=True)
class NodeFrame:
    """A worker's answer to a FrameJob. Images are never modified after they are handed over."""

    node: str
    frame: int
    images: dict[str, CanvasImage]
    render_ms: float
    """Wall time the worker spent on the job."""
    errors: dict[str, str] = field(default_factory=dict)
    """Canvas -> why it shows the error card instead of its content."""
