"""What the frame master and the render nodes tell each other: small, typed messages, no pixels
(except rate-limited preview thumbnails).

Master -> node: :class:`Configure` (once, after the node said :class:`Hello`), :class:`FrameOrder`
(every frame: frame number, timecode count, present deadline on the master's clock, the canvases
the node renders now, test patterns, tracked cameras, scene state), :class:`ThumbnailRequest`,
:class:`Pong` (clock sync) and :class:`Stop`.

Node -> master: :class:`Hello`, :class:`Progress` while it builds, :class:`Ready` or :class:`Failed`,
:class:`FrameReport` (every frame it was sent, right after its present), :class:`Thumbnail` and
:class:`Ping`.

Node -> master -> node: :class:`TileResult`, a band of a camera view one node rendered for another
(``cluster.assign_tiles``; the master relays it to the owner, ``vpstage.frame_master.task_assigner``).

Times named ``*_ns`` are monotonic nanoseconds on the master's clock unless a field says
otherwise. ``vpstage.nodelink.codec`` turns these into bytes and back, checking every field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from vpstage.colour.grading import RegionGrade
from vpstage.nodes.jobs import AssetPlacement, OuterView, RenderQuality
from vpstage.patterns import PatternSpec
from vpstage.tracking.camera import CameraState

Rect = tuple[int, int, int, int]
"""(x0, y0, x1, y1) canvas pixels, inclusive-exclusive."""
MAX_PRIORITY = 1_000_000
"""Camera priorities lie in [-MAX_PRIORITY, MAX_PRIORITY] (the project's are far smaller)."""
FourCC = Literal["BGRX", "UYVY"]


@dataclass(frozen=True, kw_only=True)
class Hello:
    """First message of a node process on a new connection."""

    node: str
    generation: int
    """Which launch of this node (the master refuses an older one)."""
    token: str
    """The cluster's shared secret, handed to the node by its launcher."""
    pid: int
    host: str
    boot_id: str = ""
    """The host's boot id: equal to the master's when both share one monotonic clock."""


@dataclass(frozen=True, kw_only=True)
class OutputSettings:
    """How a node sends its canvases."""

    kind: Literal["ndi", "none"] = "ndi"
    fourcc: FourCC = "UYVY"
    """Pixel format the senders get (UYVY is NDI's native one; BGRX costs NDI a conversion)."""
    prefix: str = "vpstage"
    """NDI source names are ``"{prefix} {canvas}"``."""
    network_mode: Literal["loopback", "studio"] = "loopback"
    ndi_groups: str | None = None
    sdi_devices: dict[str, int] = field(default_factory=dict)
    """Canvas -> DeckLink device index, for canvases with ``transport: sdi``."""


@dataclass(frozen=True, kw_only=True)
class Configure:
    """Everything a node needs to build itself (the master sends it once, after ``Hello``)."""

    node: str
    device: str
    """``"cpu"`` or ``"cuda:N"`` as the node process sees its devices."""
    project_json: str
    """The project document (``Project.model_dump_json()``): the stage as run."""
    base_dir: str
    """Directory the project's relative paths resolve against (on the node's host)."""
    scene_renderer: str | None
    """``"module:factory"`` of the scene engine, or None (test patterns only)."""
    outputs: OutputSettings
    far_m: float
    dod_margin_px: float
    boot_id: str = ""
    """The master's boot id (see ``Hello.boot_id``)."""
    ring_slots: int = 3
    """Host buffers per canvas: one on the output, one ready, one being filled (more when the
    deadline is longer than one frame period)."""


@dataclass(frozen=True)
class Ready:
    """The node is built (scene loaded, kernels warm) and waits for frames."""

    info: dict[str, object]
    """Device, pid, host, scene description (assets and their content hashes)."""


@dataclass(frozen=True)
class Failed:
    """The node could not be built; ``error`` says why."""

    error: str


@dataclass(frozen=True, kw_only=True)
class CameraOrder:
    """One tracked camera at this frame."""

    name: str
    state: CameraState | None
    """Calibrated camera (stage frame, eye = entrance pupil); None while never seen."""
    data_time_ns: int | None
    """When the tracking data used was current (master clock)."""
    lost: bool
    rects: dict[str, Rect]
    """Canvas -> conservative launch rectangle, for this node's canvases the camera may see (none
    when ``on_wall`` is False)."""
    priority: int = 0
    """Higher is drawn over lower where inner frusta overlap (the project camera's ``priority``,
    by default its place in the list: the first camera highest)."""
    active: bool = False
    """The operator's active camera: drawn over every other camera whatever the priorities."""
    on_wall: bool = True
    """False on frames its ``interleave`` gives to other cameras: its inner frustum is not rendered."""


@dataclass(frozen=True)
class SceneOrder:
    """The scene state of this frame."""

    placements: tuple[AssetPlacement, ...]
    outer: OuterView
    quality: RenderQuality
    regions: tuple[RegionGrade, ...] = ()
    """The enabled colour regions of every canvas, in the order they apply (each node applies those
    of its scene canvases after their output transform)."""


@dataclass(frozen=True, kw_only=True)
class TileOrder:
    """One band of one node's shared camera view of one asset, rendered by another node.

    The view is the one the owner's canvases ``canvases`` share for ``camera`` and ``asset``
    (``render.scene.shared_views``): both nodes compute its image, window and DoD crop from the
    same order content (camera state, placements, quality, the stage), and cut its pixel rectangle
    into ``count`` row bands (``vpstage.nodes.tiles.band_rects``); the helper renders band
    ``index`` and sends it back as a :class:`TileResult`. Only these identifiers travel."""

    owner: str
    helper: str
    camera: str
    asset: str
    canvases: tuple[str, ...]
    """The owner's canvases that share the view (those of its order that the camera sees)."""
    index: int
    count: int
    wait_ns: int
    """Until when (master clock) the owner waits for the band before rendering it itself."""


@dataclass(frozen=True, kw_only=True)
class TileResult:
    """Band ``index`` of ``count`` of the owner's camera view of ``asset`` through ``camera`` for
    ``frame``: ``rect`` (x0, y0, x1, y1) in that view's image pixels; ``rgb`` (h, w, 3), ``alpha``
    (h, w) and ``depth`` (h, w, asset units) as little-endian float32 bytes, rows first."""

    frame: int
    owner: str
    helper: str
    camera: str
    asset: str
    index: int
    count: int
    rect: Rect
    rgb: bytes
    alpha: bytes
    depth: bytes
    render_ms: float = 0.0

    @property
    def shape(self) -> tuple[int, int]:
        """(h, w) of the band."""
        x0, y0, x1, y1 = self.rect
        return y1 - y0, x1 - x0


@dataclass(frozen=True, kw_only=True)
class FrameOrder:
    """One frame for one node."""

    frame: int
    """Run frame index; increases from one order to the next."""
    count: int
    """Timecode frame count (frames since 00:00:00:00)."""
    time_ns: int
    """The frame's instant (master clock)."""
    deadline_ns: int
    """Present deadline (master clock): every node presents this frame then."""
    sent_ns: int
    canvases: tuple[str, ...]
    """Canvases this node renders and sends now (follows failover)."""
    patterns: dict[str, PatternSpec]
    """Canvases among them that show a test pattern instead of the scene."""
    cameras: tuple[CameraOrder, ...] = ()
    scene: SceneOrder | None = None
    tiles: tuple[TileOrder, ...] = ()
    """Bands of camera views this node renders for another node, or that another node renders for
    it (empty unless the master assigns tiles)."""


@dataclass(frozen=True, kw_only=True)
class FrameReport:
    """What a node did with one frame (sent right after its present)."""

    frame: int
    status: Literal["fresh", "repeat", "black", "none"]
    """``fresh``: this frame's own pictures; ``repeat``: the previous ones again (late);
    ``black``: nothing rendered yet; ``none``: the node had no canvases this frame."""
    present_ns: int
    """When its last canvas was handed to the outputs (master clock, offset applied)."""
    present_ms: float
    """Time the hand-over to the outputs took."""
    render_ms: float
    """Wall time from starting this frame's render to its pixels in host memory (NaN if not rendered)."""
    gpu_ms: float
    """GPU time of this frame's render (NaN on the CPU or when not rendered)."""
    cpu_ms: float
    """Process CPU time (all threads) since the previous report."""
    skipped: int = 0
    """Older orders the render thread skipped to catch up since the previous report."""
    late_renders: tuple[tuple[int, float], ...] = ()
    """(frame, render_ms) of renders that finished after their deadline since the previous report."""
    errors: dict[str, str] = field(default_factory=dict)
    """Canvas -> why it shows the error card (every canvas in that state now)."""
    outputs: tuple[str, ...] = ()
    """Canvases whose outputs are open on this node after this present."""
    output_info: tuple[dict[str, object], ...] | None = None
    """Each open output (canvas, kind, name, address, detail) when they changed, and now and
    then; None when unchanged."""
    output_errors: dict[str, str] = field(default_factory=dict)
    """Canvas -> an output's refusal during this present."""
    clock_offset_ns: int = 0
    """Master clock minus node clock, as the node estimates it."""
    clock_rtt_ns: int = 0
    """Round trip of the best clock sample."""
    refused: dict[str, int] = field(default_factory=dict)
    """Messages from the master this node refused since it started, by reason (bad payloads,
    other versions, out-of-order frames, ...); empty when none."""
    tiles: dict[str, int] = field(default_factory=dict)
    """Its tile counters since it started (``render.node.tiles.TileExchange.counters``: rendered,
    sent, used, local fallbacks, late and bad results, ...); empty when it never had tiles."""


@dataclass(frozen=True, kw_only=True)
class ThumbnailRequest:
    request: int
    canvases: tuple[str, ...]
    max_width: int
    max_bytes: int
    """Budget for all thumbnails answering this request together."""
    scene_referred: bool = False
    """Colour-managed canvases before their colour transform and regions (the scene's values),
    not the code values the wall gets."""


@dataclass(frozen=True, kw_only=True)
class Thumbnail:
    """A downscaled picture of one canvas as it was presented (BGRX, 8-bit)."""

    request: int
    canvas: str
    frame: int
    width: int
    height: int
    pixels: bytes
    """``height * width * 4`` bytes, B G R X."""


@dataclass(frozen=True)
class Ping:
    node_ns: int
    """The node's clock when sent."""


@dataclass(frozen=True)
class Pong:
    node_ns: int
    """Echo of ``Ping.node_ns``."""
    master_ns: int
    """The master's clock when answered."""


@dataclass(frozen=True)
class Stop:
    reason: str = ""


@dataclass(frozen=True)
class Progress:
    """What a node is doing while it builds itself (before ``Ready``), for the console."""

    step: str
    """e.g. ``loading the scene``, ``compiling kernels``, ``drawing test patterns``."""


Message = (Hello | Configure | Ready | Failed | FrameOrder | FrameReport | ThumbnailRequest | Thumbnail | Ping
           | Pong | Stop | Progress | TileResult)
