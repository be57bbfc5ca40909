"""Take records: one :class:`FrameRecord` per frame, one :class:`TakeInfo` per take.

Plain frozen dataclasses (no Qt, no torch, no numpy in the fields) so the frame loop can build
them cheaply on its own thread and hand them to the recorder, and post tools can read them back.

Frames of reference and units (see ``docs/takes.md``):

* raw camera state: what the tracker sent, in the *tracker* frame, before alignment and lens
  profile: metres and degrees (FreeD/OpenTrackIO pan/tilt/roll), focus/iris/zoom as received;
* calibrated camera state: the render camera in the *stage* frame (metres, Z up): ``eye_m`` is the
  entrance pupil, ``rotation_wxyz`` the OpenCV-camera -> stage rotation (columns of its matrix:
  image right, image down, optical axis), lens values in mm / m / f-number;
* timing: milliseconds; ``monotonic_ns`` is the process's monotonic clock at the frame tick;
* several cameras: per camera and frame its draw ``priority``, whether it was the ``active``
  camera, whether its inner frustum was ``on_wall`` and its ``interleave`` (every, phase); None in
  takes recorded before record schema 2;
* colour regions: the enabled ones the nodes applied (canvas pixels of the stage as it ran, grade
  values), none in takes recorded before record schema 3.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from vpstage.colour.grading import RegionGrade
from vpstage.geometry.rotations import CV_FROM_BODY, matrix_to_quat, pan_tilt_roll_from_rotation, quat_to_matrix
from vpstage.stage.model import Placement
from vpstage.tracking.camera import CameraState
from vpstage.tracking.distortion import NO_DISTORTION, LensDistortion
from vpstage.tracking.sample import EncoderCount

Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
TakeStatus = Literal["recording", "complete", "recovered"]
TAKE_STATUSES: tuple[TakeStatus, ...] = ("recording", "complete", "recovered")


def format_rate_nd(rate: Fraction) -> str:
    """Always ``N/D`` (``60/1``, ``24000/1001``), the form used in records and exports."""
    return f"{rate.numerator}/{rate.denominator}"


def parse_rate_nd(text: str) -> Fraction:
    num, _, den = text.partition("/")
    return Fraction(int(num), int(den or 1))


@dataclass(frozen=True, slots=True, kw_only=True)
class RawCameraState:
    """The tracker's sample as received, in the tracker frame (before alignment and lens profile).

    ``x_m``/``y_m``/``z_m`` metres; angles in degrees (FreeD/OpenTrackIO pan, tilt, roll);
    ``focus_raw``/``iris_raw``/``zoom_raw`` are raw encoder counts (FreeD, OpenTrackIO
    ``rawEncoders``), ``focus_norm``/``iris_norm``/``zoom_norm`` normalised 0..1 encoder values
    (OpenTrackIO ``encoders``, OSC), as the protocol sent them; None when the source does not send
    one.
    """

    protocol: str
    """``freed``, ``opentrackio`` or ``osc``."""
    source: str
    """Tracking source name from the project."""
    x_m: float
    y_m: float
    z_m: float
    pan_deg: float
    tilt_deg: float
    roll_deg: float
    focus_raw: EncoderCount | None = None
    iris_raw: EncoderCount | None = None
    zoom_raw: EncoderCount | None = None
    focus_norm: float | None = None
    iris_norm: float | None = None
    zoom_norm: float | None = None

    def encoder(self, name: str) -> float | None:
        """What the protocol sent for encoder ``name`` (``focus``, ``iris``, ``zoom``): its raw count
        when it sent one, else its normalised value."""
        raw = getattr(self, f"{name}_raw")
        norm = getattr(self, f"{name}_norm")
        return float(raw) if raw is not None else None if norm is None else float(norm)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> RawCameraState:
        return RawCameraState(**data)


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibratedCameraState:
    """The render camera in the stage frame after alignment, lens profile and nodal offset.

    ``eye_m`` is the entrance pupil (stage metres). ``rotation_wxyz`` is the unit quaternion of
    the OpenCV-camera -> stage rotation (as ``CameraState.rotation``). ``distortion`` is the lens
    distortion kept whole (model, k1..k6, p1, p2, overscan, centre offset; takes of record schema 1
    kept k1, k2, p1, p2 only and read as Brown-Conrady D-U). ``principal_offset_mm`` shifts the
    optical centre on the sensor (+x right, +y down). ``entrance_pupil_offset_m`` is the offset along
    the optical axis that was applied to reach ``eye_m``.
    """

    eye_m: Vec3
    rotation_wxyz: Quat
    focal_length_mm: float
    sensor_width_mm: float
    sensor_height_mm: float
    focus_distance_m: float | None = None
    f_stop: float | None = None
    image_width: int = 3840
    image_height: int = 2160
    principal_offset_mm: Vec2 = (0.0, 0.0)
    distortion: LensDistortion = NO_DISTORTION
    entrance_pupil_offset_m: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.distortion, LensDistortion):  # a legacy (k1, k2, p1, p2) tuple
            object.__setattr__(self, "distortion", LensDistortion.coerce(self.distortion))

    @staticmethod
    def from_camera_state(state: CameraState, entrance_pupil_offset_m: float = 0.0) -> CalibratedCameraState:
        """Record a planner camera (copies plain floats; the arrays are not kept)."""
        eye = tuple(float(v) for v in state.eye)
        quat = tuple(float(v) for v in matrix_to_quat(state.rotation))
        return CalibratedCameraState(
            eye_m=eye, rotation_wxyz=quat,  # type: ignore[arg-type]
            focal_length_mm=float(state.focal_length_mm), sensor_width_mm=float(state.sensor_width_mm),
            sensor_height_mm=float(state.sensor_height_mm), focus_distance_m=state.focus_distance_m,
            f_stop=state.f_stop, image_width=state.image_width, image_height=state.image_height,
            principal_offset_mm=state.principal_offset_mm, distortion=state.distortion,
            entrance_pupil_offset_m=entrance_pupil_offset_m)

    def rotation_matrix(self) -> np.ndarray:
        """3x3 OpenCV-camera -> stage rotation (float64)."""
        return quat_to_matrix(np.asarray(self.rotation_wxyz, dtype=np.float64))

    def pan_tilt_roll(self) -> Vec3:
        """The orientation as FreeD/OpenTrackIO pan, tilt, roll (degrees) in the stage frame."""
        body = self.rotation_matrix() @ CV_FROM_BODY.T
        return pan_tilt_roll_from_rotation(body)

    def to_camera_state(self, time_ns: int = 0) -> CameraState:
        """The planner/renderer camera this record describes."""
        return CameraState(eye=np.asarray(self.eye_m, dtype=np.float64), rotation=self.rotation_matrix(),
                           focal_length_mm=self.focal_length_mm, sensor_width_mm=self.sensor_width_mm,
                           sensor_height_mm=self.sensor_height_mm, image_width=self.image_width,
                           image_height=self.image_height, principal_offset_mm=self.principal_offset_mm,
                           distortion=self.distortion, focus_distance_m=self.focus_distance_m, f_stop=self.f_stop,
                           time_ns=time_ns)

    def to_dict(self) -> dict[str, Any]:
        out = {name: _jsonable(getattr(self, name)) for name in self.__slots__}
        out["distortion"] = self.distortion.to_dict()
        return out

    @staticmethod
    def from_dict(data: dict[str, Any]) -> CalibratedCameraState:
        """Inverse of :meth:`to_dict`; also reads ``distortion`` as the [k1, k2, p1, p2] list of
        exports written before the whole model was kept."""
        fields = dict(data)
        for key in ("eye_m", "rotation_wxyz", "principal_offset_mm"):
            fields[key] = tuple(fields[key])
        fields["distortion"] = LensDistortion.from_dict(fields.get("distortion", NO_DISTORTION.to_dict()))
        return CalibratedCameraState(**fields)


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraRecord:
    """One tracked camera in one frame. ``tracking_age_ms`` is how old the newest tracking sample was
    at the frame's sampling time; None (and ``calibrated`` None) when the camera had no sample.

    Several cameras: ``priority`` (higher drawn on top where inner frusta overlap), ``active``
    (the operator's active camera, drawn over all others), ``on_wall`` (its inner frustum was
    rendered this frame: False on frames its interleave gives to other cameras or without a
    state), ``interleave`` ((every, phase): on the wall when the timecode count % every == phase;
    None: every frame). All four are None in takes recorded before they were kept.
    """

    camera: str
    raw: RawCameraState | None
    calibrated: CalibratedCameraState | None
    tracking_age_ms: float | None
    priority: int | None = None
    active: bool | None = None
    on_wall: bool | None = None
    interleave: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"camera": self.camera, "raw": None if self.raw is None else self.raw.to_dict(),
                "calibrated": None if self.calibrated is None else self.calibrated.to_dict(),
                "tracking_age_ms": self.tracking_age_ms, "priority": self.priority, "active": self.active,
                "on_wall": self.on_wall, "interleave": None if self.interleave is None else list(self.interleave)}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> CameraRecord:
        raw, cal = data["raw"], data["calibrated"]
        interleave = data.get("interleave")
        return CameraRecord(camera=data["camera"], raw=None if raw is None else RawCameraState.from_dict(raw),
                            calibrated=None if cal is None else CalibratedCameraState.from_dict(cal),
                            tracking_age_ms=data["tracking_age_ms"], priority=data.get("priority"),
                            active=data.get("active"), on_wall=data.get("on_wall"),
                            interleave=None if interleave is None else (int(interleave[0]), int(interleave[1])))


@dataclass(frozen=True, slots=True, kw_only=True)
class SceneAssetState:
    """A scene asset as shown in this frame: its content hash and its stage -> scene placement
    (``p_scene = scale * R(yaw, pitch, roll) @ p_stage + translation``; translation in scene units)."""

    name: str
    content_hash: str
    translation: Vec3 = (0.0, 0.0, 0.0)
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    scale: float = 1.0
    enabled: bool = True

    @staticmethod
    def from_placement(name: str, placement: Placement, content_hash: str, enabled: bool = True) -> SceneAssetState:
        return SceneAssetState(name=name, content_hash=content_hash,
                               translation=tuple(placement.translation),  # type: ignore[arg-type]
                               yaw_deg=placement.yaw_deg, pitch_deg=placement.pitch_deg, roll_deg=placement.roll_deg,
                               scale=placement.scale, enabled=enabled)

    def placement(self) -> Placement:
        return Placement(translation=self.translation, yaw_deg=self.yaw_deg, pitch_deg=self.pitch_deg,
                         roll_deg=self.roll_deg, scale=self.scale)

    def to_dict(self) -> dict[str, Any]:
        return {name: _jsonable(getattr(self, name)) for name in self.__slots__}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> SceneAssetState:
        return SceneAssetState(**{**data, "translation": tuple(data["translation"])})


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeTiming:
    """One render node's timing for one frame (milliseconds). ``late``: presented after the
    deadline; ``dropped``: missed the frame and repeated its previous one."""

    node: str
    plan_ms: float
    render_ms: float
    present_ms: float
    late: bool = False
    dropped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> NodeTiming:
        return NodeTiming(**data)


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameRecord:
    """Everything recorded about one frame.

    ``frame`` is the frame loop's frame number (strictly increasing within a take); ``timecode`` the
    SMPTE label (``;`` before the frames field marks drop-frame), ``timecode_frames`` its frame count
    since midnight at ``rate`` (frames per second, exact).
    """

    frame: int
    timecode: str
    timecode_frames: int
    rate: Fraction
    monotonic_ns: int
    cameras: tuple[CameraRecord, ...] = ()
    scene: tuple[SceneAssetState, ...] = ()
    nodes: tuple[NodeTiming, ...] = ()
    colour_regions: tuple[RegionGrade, ...] = ()
    """The enabled colour regions the nodes applied this frame (none in takes before record schema 3)."""

    def camera(self, name: str) -> CameraRecord | None:
        return next((c for c in self.cameras if c.camera == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {"frame": self.frame, "timecode": self.timecode, "timecode_frames": self.timecode_frames,
                "rate": format_rate_nd(self.rate), "monotonic_ns": self.monotonic_ns,
                "cameras": [c.to_dict() for c in self.cameras], "scene": [s.to_dict() for s in self.scene],
                "nodes": [n.to_dict() for n in self.nodes],
                "colour_regions": [region_dict(r) for r in self.colour_regions]}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> FrameRecord:
        return FrameRecord(frame=data["frame"], timecode=data["timecode"], timecode_frames=data["timecode_frames"],
                           rate=parse_rate_nd(data["rate"]), monotonic_ns=data["monotonic_ns"],
                           cameras=tuple(CameraRecord.from_dict(c) for c in data["cameras"]),
                           scene=tuple(SceneAssetState.from_dict(s) for s in data["scene"]),
                           nodes=tuple(NodeTiming.from_dict(n) for n in data["nodes"]),
                           colour_regions=tuple(region_from_dict(r) for r in data.get("colour_regions", ())))


def region_dict(region: RegionGrade) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in dataclasses.asdict(region).items()}


def region_from_dict(data: dict[str, Any]) -> RegionGrade:
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return RegionGrade(**fields)


# ----------------------------------------------------------------------------- takes

_TAKE_NAME_RE = re.compile(r"^(?P<slate>.+)_T(?P<number>\d+)$")
_SLATE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


class TakeRefError(ValueError):
    """A take reference or slate that cannot be parsed."""


def take_name(slate: str, take_number: int) -> str:
    """``A001`` and 3 -> ``A001_T03``."""
    return f"{slate}_T{take_number:02d}"


def check_slate(slate: str) -> str:
    if not _SLATE_RE.match(slate):
        raise TakeRefError(f"slate {slate!r}: use letters, digits, '_', '-', '.' (start with a letter or digit, "
                           "at most 64 characters)")
    return slate


def parse_take_ref(ref: str | int) -> int | tuple[str, int]:
    """A take id (``7``) or a ``SLATE_TNN`` name (``A001_T03`` -> ``("A001", 3)``)."""
    if isinstance(ref, int):
        return ref
    text = ref.strip()
    if text.isdigit():
        return int(text)
    name = split_take_name(text)
    if name is None:
        raise TakeRefError(f"{ref!r} is not a take: use SLATE_TNN (e.g. A001_T03) or a take id")
    return name


def split_take_name(text: str) -> tuple[str, int] | None:
    """``A001_T03`` -> ``("A001", 3)``; None when ``text`` is not of the form SLATE_TNN."""
    match = _TAKE_NAME_RE.match(text.strip())
    if not match:
        return None
    return check_slate(match["slate"]), int(match["number"])


@dataclass(frozen=True, kw_only=True)
class TakeInfo:
    """One take's metadata (a row of the ``takes`` table).

    Times (``created_at``, ``closed_at``) are UTC ISO 8601 wall-clock strings. ``stage_hash`` is
    the SHA-256 of the canonical project YAML (``vpstage.stage.dump_project_yaml``). ``frames_lost``
    counts frames the recorder could not journal (queue full or out of order), known only for takes
    stopped normally.
    """

    id: int
    uuid: str
    slate: str
    take_number: int
    rate: Fraction
    status: TakeStatus
    created_at: str
    scene: str = ""
    camera_roll: str = ""
    notes: str = ""
    circled: bool = False
    start_timecode: str | None = None
    end_timecode: str | None = None
    stage_hash: str | None = None
    project_name: str | None = None
    closed_at: str | None = None
    deleted: bool = False
    frame_count: int = 0
    frames_lost: int = 0

    @property
    def name(self) -> str:
        return take_name(self.slate, self.take_number)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        for key in self.__dataclass_fields__:
            value = getattr(self, key)
            out[key] = format_rate_nd(value) if key == "rate" else value
        return out


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
