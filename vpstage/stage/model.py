"""The project document: everything about one stage, as edited by the operator.

One YAML file holds the LED sections, processors, canvases and their pixel map, render nodes,
cameras and tracking sources, scene assets with their placements, the frame rate, the
outer-frustum viewpoint and the colour pipeline (``vpstage.colour.settings``). See
``docs/project-format.md`` for a field-by-field guide.

Geometry conventions (stage frame: metres, +Z up, +Y toward the main wall):

* Section orientation uses the camera pan/tilt/roll convention for *a viewer facing the LEDs*:
  at yaw = pitch = roll = 0 the viewer looks along +Y, so the LEDs face -Y, cabinet columns run
  along +X (left to right as seen from the front) and rows run down from the top.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from vpstage.colour.settings import ColourSettings
from vpstage.config.endpoints import parse_endpoint
from vpstage.geometry.rotations import body_rotation
from vpstage.stage.limits import MAX_CANVAS_SIDE_PX, MAX_PORT_INDEX
from vpstage.stage.types import Finite, FrameRate, Name, OscFieldName, PositiveFinite, Vec2, Vec3

SCHEMA_VERSION = 1  # Project.schema_version

CanvasSide = Annotated[int, Field(gt=0, le=MAX_CANVAS_SIDE_PX)]
"""Canvas width or height, pixels (at most ``MAX_CANVAS_SIDE_PX``)."""
CanvasCoordinate = Annotated[int, Field(ge=0, le=MAX_CANVAS_SIDE_PX)]
PortIndex = Annotated[int, Field(ge=0, le=MAX_PORT_INDEX)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# ----------------------------------------------------------------------------- sections


class FlatSection(_Model):
    """A planar grid of ``columns`` x ``rows`` cabinets of one type."""

    kind: Literal["flat"]
    name: Name
    panel: str
    """Catalog id of the cabinet type."""
    origin: Vec3
    """Bottom-left corner of the LED area as seen from the front (metres, stage frame)."""
    yaw_deg: Finite = 0.0
    """Heading of a viewer facing the LEDs (pan convention: 0 = looking along +Y, 90 = along +X)."""
    pitch_deg: Finite = 0.0
    """Positive tilts the section so a viewer facing it looks up (its top leans back)."""
    roll_deg: Finite = 0.0
    columns: PositiveInt
    rows: PositiveInt
    omit: list[str] = Field(default_factory=list)
    """Cabinet ids left out of the grid (door gaps, trimmed corners)."""


class ArcSection(_Model):
    """A curved wall of flat cabinets whose vertical edges stand on a circle, facing its axis."""

    kind: Literal["arc"]
    name: Name
    panel: str
    center: Vec2
    """Axis of the arc (x, y), metres."""
    base_z: Finite = 0.0
    """Height of the bottom edge of the LED area, metres."""
    radius_m: PositiveFinite
    start_deg: Finite
    """Heading (pan convention, from +Y, clockwise seen from above) of column 0's left edge."""
    columns: PositiveInt | None = None
    sweep_deg: PositiveFinite | None = None
    """Alternative to ``columns``: the arc's angular extent; columns = round(sweep / step)."""
    rows: PositiveInt
    omit: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _columns_or_sweep(self) -> ArcSection:
        if (self.columns is None) == (self.sweep_deg is None):
            raise ValueError("give exactly one of 'columns' or 'sweep_deg'")
        return self


class CeilingSection(_Model):
    """A horizontal grid above the volume, LEDs facing down, optionally tilted."""

    kind: Literal["ceiling"]
    name: Name
    panel: str
    center: Vec3
    """Centre of the LED area (metres); z is the height."""
    yaw_deg: Finite = 0.0
    tilt_deg: Finite = 0.0
    """Positive lowers the edge nearest the main wall (+Y side at yaw 0)."""
    columns: PositiveInt
    rows: PositiveInt
    omit: list[str] = Field(default_factory=list)


class MeshSection(_Model):
    """Cabinets from an OBJ file: every face is one cabinet and must be a quad.

    Face vertices run counter-clockwise seen from the front (the OBJ convention), starting at
    the cabinet's bottom-left corner.
    """

    kind: Literal["mesh"]
    name: Name
    panel: str
    file: str
    """OBJ path, relative to the project file."""
    unit_scale: PositiveFinite = 1.0
    """Multiplier from file units to metres (0.001 for millimetres)."""
    up_axis: Literal["z", "y"] = "z"
    """'y' converts a Y-up file (x right, y up, z toward the viewer) into the stage frame."""
    origin: Vec3 = (0.0, 0.0, 0.0)
    yaw_deg: Finite = 0.0
    size_tolerance: PositiveFinite = 0.02
    """Allowed relative difference between a face's edge lengths and the cabinet size."""


Section = Annotated[FlatSection | ArcSection | CeilingSection | MeshSection, Field(discriminator="kind")]


# ----------------------------------------------------------------------------- processors, canvases


class Processor(_Model):
    """An LED processor: video inputs, and data ports each driving a chain of cabinets."""

    name: Name
    model: str
    inputs: PositiveInt = 1
    ports: PositiveInt
    port_capacity_px: PositiveInt
    """Pixels one port carries at ``capacity_rate`` and ``capacity_bit_depth``."""
    capacity_rate: FrameRate = Fraction(60)
    capacity_bit_depth: Literal[8, 10, 12] = 8
    bit_depth: Literal[8, 10, 12] = 8
    """Bit depth this stage runs the processor at."""

    def port_capacity_at(self, rate: Fraction) -> int:
        """Port capacity at the stage rate and bit depth (capacity scales with 1/rate, 1/depth)."""
        scale = (self.capacity_rate / rate) * Fraction(self.capacity_bit_depth, self.bit_depth)
        return int(self.port_capacity_px * scale)


class Canvas(_Model):
    """One output raster; every cabinet it feeds owns a rectangle of it (the pixel map)."""

    name: Name
    width: CanvasSide
    height: CanvasSide
    node: str
    transport: Literal["ndi", "sdi", "dp"] = "ndi"
    processor: str | None = None
    input: NonNegativeInt = 0
    """Processor input this canvas feeds (zero-based)."""
    sdi_device: NonNegativeInt | None = None
    """DeckLink device index (on the rendering node's host) of a ``transport: sdi`` canvas; default:
    the canvas's place among its home node's SDI canvases (0, 1, ...)."""


class BlockRef(_Model):
    """A rectangular block of one section's cabinet grid (inclusive column/row ranges)."""

    section: str
    columns: tuple[NonNegativeInt, NonNegativeInt]
    rows: tuple[NonNegativeInt, NonNegativeInt]

    @model_validator(mode="after")
    def _ordered(self) -> BlockRef:
        if self.columns[0] > self.columns[1] or self.rows[0] > self.rows[1]:
            raise ValueError("ranges are [first, last] with first <= last")
        return self


class MapEntry(_Model):
    """Where one cabinet (``cabinet``), or a block of a section's grid (``block``), sits on a canvas.

    A block places cabinet (column c, row r) at ``x + (c - c0) * w``, ``y + (r - r0) * h`` where
    w x h is the cabinet's footprint on the canvas. ``rotation`` turns the cabinet image clockwise
    on the canvas after ``flip`` mirrors it in cabinet space.
    """

    cabinet: str | None = None
    block: BlockRef | None = None
    canvas: str
    x: CanvasCoordinate
    y: CanvasCoordinate
    rotation: Literal[0, 90, 180, 270] = 0
    flip: Literal["none", "h", "v"] = "none"
    port: PortIndex | None = None
    """Processor data port (zero-based) whose chain carries this cabinet / block."""

    @model_validator(mode="after")
    def _one_target(self) -> MapEntry:
        if (self.cabinet is None) == (self.block is None):
            raise ValueError("give exactly one of 'cabinet' or 'block'")
        return self


class RenderNode(_Model):
    """One GPU (host + device index) that renders its canvases. ``gpu: null`` renders on the CPU."""

    name: Name
    host: str = "localhost"
    gpu: NonNegativeInt | None = None
    spare: bool = False
    """A spare takes over the canvases of a node that goes down."""


# ----------------------------------------------------------------------------- cameras, tracking


class OscRouteSpec(_Model):
    """One OSC address and the sample field each argument fills (see vpstage.protocols.osc_map)."""

    address: str
    """e.g. ``/rig/{id}/pose``; an optional ``{id}`` path segment names the camera."""
    args: list[OscFieldName]
    axes: Literal["stage", "arkit"] = "stage"
    scales: list[Finite] | None = None
    emits: bool = True

    @field_validator("address")
    @classmethod
    def _osc_address(cls, address: str) -> str:
        if not address.startswith("/") or address.count("{id}") > 1:
            raise ValueError("an OSC address starts with '/' and holds at most one {id}")
        return address

    @model_validator(mode="after")
    def _one_scale_per_arg(self) -> OscRouteSpec:
        if self.scales is not None and len(self.scales) != len(self.args):
            raise ValueError("scales needs one entry per argument")
        return self


class TrackingSource(_Model):
    """A tracker input. ``address`` is ``udp://HOST:PORT`` or ``serial:///dev/ttyX`` (FreeD only)."""

    name: Name
    protocol: Literal["freed", "opentrackio", "osc"]
    address: str
    camera_id: int | str | None = None
    """FreeD camera id / OpenTrackIO source number / OSC id to accept (None: any)."""
    multicast_group: str | None = None
    """OpenTrackIO only: join this group. Leave empty for unicast (the default)."""
    lost_after_ms: PositiveFloat = 500.0
    never_tracked_after_ms: PositiveFloat = 3000.0
    """Grace period after the receiver starts: a camera of this source that has had no sample by
    then raises NEVER TRACKED (an alarm distinct from a lost stream, which had samples)."""
    serial_baud: PositiveInt = 38400
    serial_parity: Literal["odd", "even", "none"] = "odd"
    """FreeD serial framing: 8 data bits, this parity, 1 stop bit (the free-d manual: 38400 8O1)."""
    osc_map: Literal["vp", "loled", "zigsim"] = "vp"
    """OSC address-map preset; ``osc_routes`` replaces it when given."""
    osc_routes: list[OscRouteSpec] = Field(default_factory=list)

    @field_validator("address")
    @classmethod
    def _valid_address(cls, address: str, info: ValidationInfo) -> str:
        endpoint = parse_endpoint(address)  # ValueError -> a problem located on this field
        if endpoint.kind == "serial" and info.data.get("protocol", "freed") != "freed":
            raise ValueError("only FreeD runs over serial; use udp://HOST:PORT")
        return address

    @field_validator("multicast_group")
    @classmethod
    def _multicast_for_opentrackio(cls, group: str | None, info: ValidationInfo) -> str | None:
        if group is not None and info.data.get("protocol") != "opentrackio":
            raise ValueError("multicast_group is for OpenTrackIO sources")
        return group


class Alignment(_Model):
    """Tracker -> stage transform: p_stage = scale * R(yaw, pitch, roll) @ p_tracker + translation."""

    translation: Vec3 = (0.0, 0.0, 0.0)
    yaw_deg: Finite = 0.0
    pitch_deg: Finite = 0.0
    roll_deg: Finite = 0.0
    scale: PositiveFinite = 1.0


class Smoothing(_Model):
    """One Euro filter settings (off unless a camera names them)."""

    min_cutoff_hz: PositiveFinite = 1.0
    beta: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 0.05
    derivative_cutoff_hz: PositiveFinite = 1.0


class CameraInterleave(_Model):
    """Frame interleaving: the camera's inner frustum is on the wall only on frames whose timecode
    frame count ``% every == phase`` (e.g. camera A ``{every: 2, phase: 0}``, B ``{every: 2,
    phase: 1}``: A on even frames, B on odd), for walls run at a multiple of the camera rate with
    each camera's shutter phased to its own frames."""

    every: Annotated[int, Field(ge=2, le=16)] = 2
    phase: Annotated[int, Field(ge=0, le=15)] = 0

    @model_validator(mode="after")
    def _phase_in_cycle(self) -> CameraInterleave:
        if self.phase >= self.every:
            raise ValueError(f"phase {self.phase} must be below every ({self.every})")
        return self


class Camera(_Model):
    """A tracked film camera."""

    name: Name
    tracker: str
    """Name of a tracking source."""
    camera_id: int | str | None = None
    """Which stream of the source drives this camera (None: the source's ``camera_id``, or any)."""
    sensor_width_mm: PositiveFinite
    sensor_height_mm: PositiveFinite
    image_width: PositiveInt = 3840
    image_height: PositiveInt = 2160
    lens: str = "physical"
    """Lens profile name (raw encoder -> focal length, focus, entrance pupil)."""
    delay_ms: Finite = 0.0
    """Tracking delay compensation: the pose is sampled this long before frame time."""
    delay_frames: Finite | None = None
    """The same delay in frames of the project rate (instead of ``delay_ms``)."""
    extrapolate_ms: Annotated[float, Field(ge=0.0, le=200.0)] = 0.0
    """How far past the newest sample the pose may be extrapolated (0: hold the last pose)."""
    smoothing: Smoothing | None = None
    alignment: Alignment = Field(default_factory=Alignment)
    overscan_pct: Annotated[float, Field(ge=0.0, le=200.0)] = 10.0
    soft_edge_pct: Annotated[float, Field(ge=0.0, le=50.0)] = 0.0
    priority: Annotated[int, Field(ge=-1000, le=1000)] | None = None
    """Where inner frusta overlap, the higher priority's inner pixels are drawn on top (None: by
    the list's order, the first camera highest)."""
    interleave: CameraInterleave | None = None
    """Frame interleaving (None: on the wall every frame)."""

    @model_validator(mode="after")
    def _one_delay(self) -> Camera:
        if self.delay_frames is not None and self.delay_ms != 0.0:
            raise ValueError("give the delay as delay_ms or delay_frames, not both")
        return self


# ----------------------------------------------------------------------------- scene


class Placement(_Model):
    """Stage -> scene transform: p_scene = scale * R(yaw, pitch, roll) @ p_stage + translation."""

    translation: Vec3 = (0.0, 0.0, 0.0)
    yaw_deg: Finite = 0.0
    pitch_deg: Finite = 0.0
    roll_deg: Finite = 0.0
    scale: PositiveFinite = 1.0

    def rotation(self) -> np.ndarray:
        return body_rotation(self.yaw_deg, self.pitch_deg, self.roll_deg)

    def stage_to_scene(self) -> np.ndarray:
        """4x4 similarity matrix taking stage points (metres) to scene points."""
        m = np.eye(4)
        m[:3, :3] = self.scale * self.rotation()
        m[:3, 3] = self.translation
        return m

    def scene_to_stage(self) -> np.ndarray:
        m = np.eye(4)
        m[:3, :3] = self.rotation().T / self.scale
        m[:3, 3] = -m[:3, :3] @ np.asarray(self.translation)
        return m


class SceneAsset(_Model):
    """A neural scene asset (splat or NeRF) placed in the stage."""

    name: Name
    path: str
    """File path relative to the project, or ``procedural:demo`` for the built-in demo scene."""
    placement: Placement = Field(default_factory=Placement)
    enabled: bool = True
    cost_factor: PositiveFinite = 1.0
    """Relative render cost per pixel, for load estimates."""
    bounds_min: Vec3 | None = None
    bounds_max: Vec3 | None = None
    """Scene bounds in the asset's frame; when absent the renderer measures them."""


# ----------------------------------------------------------------------------- project


class Network(_Model):
    mode: Literal["loopback", "studio"] = "loopback"
    """``loopback`` keeps NDI and tracking on 127.0.0.1 (rehearsal); ``studio`` uses the network."""
    ndi_groups: str | None = None


class Cluster(_Model):
    backend: Literal["local", "ray", "threads"] = "local"
    """``local``: one process per render node on this machine; ``ray``: one Ray actor per node, on
    the host its ``host`` names; ``threads``: nodes on threads of the console's process (tests).
    ``embedded`` (older files) reads as ``local``."""
    address: str | None = None
    """Ray cluster address (``ray://host:10001``); empty starts a local Ray."""
    auth_token_file: str | None = None
    """File holding the Ray cluster's authentication token (Ray's token mode, the token its nodes
    were started with; relative to the project). A local Ray always runs with a fresh token."""
    allow_unauthenticated: bool = False
    """Connect to a Ray cluster beyond this host without a token (refused unless this is set)."""
    listen: str | None = None
    """``HOST:PORT`` the frame master listens on for its render nodes (port 0: any free one).
    Default: 127.0.0.1 in loopback mode, every interface in studio mode."""
    deadline_ms: PositiveFinite | None = None
    """Per-frame present deadline after the frame's instant; default one frame period."""
    stall_frames: PositiveInt = 30
    """A node that has not reported for this many frames is marked down and restarted."""
    assign_tiles: bool = False
    """Move bands of an overloaded node's heavy camera views to nodes with time to spare, and
    compose them back by depth on the owner (``vpstage.frame_master.task_assigner``)."""

    @field_validator("backend", mode="before")
    @classmethod
    def _older_names(cls, value: object) -> object:
        return "local" if value == "embedded" else value

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None:
            return value
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            raise ValueError(f"{value!r} is not HOST:PORT")
        return value


class VideohubRoute(_Model):
    """One canvas through the router: ``input`` carries the render node's signal for ``canvas``,
    ``output`` feeds the canvas's LED processor input. Zero-based, as the Videohub protocol counts."""

    canvas: str
    input: NonNegativeInt
    output: NonNegativeInt


class Videohub(_Model):
    """A Blackmagic Videohub between the render nodes and the LED processors (TCP 9990)."""

    address: str
    """``host`` or ``host:port``."""
    routes: list[VideohubRoute] = Field(default_factory=list)
    retry_s: PositiveFinite = 2.0
    """Wait before reconnecting, or retrying a refused route."""


class LtcInputSettings(_Model):
    """Where the house LTC comes in (``timecode.master: ltc``)."""

    device: str | int | None = None
    """Sound input device, a PortAudio name (or part of one) or index as ``python -m sounddevice``
    lists them; None: the system's default input."""
    channel: NonNegativeInt = 0
    """Input channel carrying the LTC (zero-based)."""
    sample_rate: Annotated[int, Field(ge=8000, le=192000)] = 48000
    file: str | None = None
    """Replay this WAV file's LTC in real time instead of a device (rehearsal, tests); relative to
    the project."""


class TimecodeSettings(_Model):
    """What the frame clock follows: its own host clock, house LTC, or the tracker's timecode."""

    master: Literal["internal", "ltc", "tracker"] = "internal"
    """``internal``: the host's clock, labels from the time of day (or ``--timecode``); ``ltc``:
    disciplined to LTC (``ltc``); ``tracker``: to the timecode in the OpenTrackIO samples of
    ``tracker_camera`` (FreeD and OSC carry none)."""
    ltc: LtcInputSettings = Field(default_factory=LtcInputSettings)
    tracker_camera: str | None = None
    """Camera whose tracker's timecode is the master (default: the first camera)."""
    offset_ms: Annotated[float, Field(ge=-1000.0, le=1000.0, allow_inf_nan=False)] = 0.0
    """The master's latency (the input converter's, the tracker's send delay): frame instants are
    put this much earlier than the master's timecode arrives."""
    lock_tolerance_us: Annotated[float, Field(gt=0.0, le=100_000.0, allow_inf_nan=False)] = 500.0
    """LOCKED when the filtered phase error stays within this for a second."""
    holdover_ms: Annotated[float, Field(gt=0.0, le=60_000.0, allow_inf_nan=False)] = 500.0
    """Master silent this long: HOLDOVER (the last rate is held) and an alarm."""
    loop_bandwidth_hz: Annotated[float, Field(gt=0.0, le=2.0, allow_inf_nan=False)] = 0.1
    """Natural frequency of the clock's phase-locked loop (critically damped)."""


class Project(_Model):
    """The whole stage document."""

    schema_version: Literal[1] = 1
    name: str
    description: str | None = None
    frame_rate: FrameRate = Fraction(24000, 1001)
    catalog: str | None = None
    """Panel catalog path relative to the project; default: the shipped configs/panels.yaml."""
    sections: list[Section]
    processors: list[Processor] = Field(default_factory=list)
    canvases: list[Canvas] = Field(default_factory=list)
    pixel_map: list[MapEntry] = Field(default_factory=list)
    nodes: list[RenderNode] = Field(default_factory=list)
    tracking: list[TrackingSource] = Field(default_factory=list)
    cameras: list[Camera] = Field(default_factory=list)
    lens_library: str | None = None
    """Lens profile file relative to the project; default the shipped configs/lenses.yaml."""
    scene: list[SceneAsset] = Field(default_factory=list)
    outer_viewpoint: Vec3 = (0.0, 0.0, 1.7)
    """Where outer-frustum pixels are rendered from (metres, stage frame)."""
    network: Network = Field(default_factory=Network)
    cluster: Cluster = Field(default_factory=Cluster)
    videohub: Videohub | None = None
    """Optional SDI router: canvases are routed to processor inputs as declared."""
    timecode: TimecodeSettings = Field(default_factory=TimecodeSettings)
    """Timecode master and the frame clock's lock to it."""
    colour: ColourSettings | None = None
    """OCIO colour management of the wall (None: rendered values sent as they are, 8-bit)."""
