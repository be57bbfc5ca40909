"""OSC address maps: which OSC messages carry which camera-sample fields.

There is no standard OSC schema for camera tracking (protocol reference §3.2), so a map is
configurable: each ``OscRoute`` names an address (with an optional ``{id}`` path segment that
becomes the camera id) and the sample field each argument fills. Built-in presets:

``vp`` (our proposal, the default)
    ``/vp/cam/<id>/pose ffffff``: x, y, z (m), pan, tilt, roll (deg), stage conventions; emits.
    ``/vp/cam/<id>/lens fff``: focal length (mm), focus distance (m), f-stop; held for the next pose.
``loled`` (LOLED Reality Field)
    ``/tracker/position/<name> fffffffff``: position X Y Z, orientation X Y Z, focus, iris, zoom.
    Assumes Reality Field's output axes are set to the stage convention (metres, Z up, degrees):
    orientation X = tilt, Y = roll, Z = pan; focus/iris/zoom are taken as normalised 0..1.
    Use ``scales`` on a custom route to flip signs if your output preset differs.
``zigsim`` (ZIG SIM Pro, ARKit DEVICE mode)
    ``/<deviceUUID>/arkitposition fff`` and ``/<deviceUUID>/arkitrotation ffff`` (quaternion x y z w)
    in ARKit's frame (metres, Y up, the camera looking along -Z), converted to the stage frame
    (stage X = x, Y = -z, Z = y). The rotation message emits.

Messages in one OSC bundle are merged and produce one sample per camera id; outside bundles a
sample is emitted by a route with ``emits=True`` once x, y, z and an orientation are known.
Numeric ids (``/vp/cam/1/pose``) become integers.

This module is pure: ``OscSampleAssembler`` turns (address, arguments) into ``CameraSample``s
(for at most ``max_cameras`` camera ids); the receiver in ``devices/`` checks datagrams
(``osc_wire``), parses them with python-osc and matches addresses with ``OscAddressMap.match``
(each route's regular expression compiled once, never one per incoming address).
``write_message`` / ``write_bundle`` encode with python-osc's builders.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from vpstage.geometry.rotations import pan_tilt_roll_from_rotation, quat_to_matrix
from vpstage.protocols.errors import CodecError
from vpstage.stage.types import OscFieldName
from vpstage.tracking.sample import CameraId, CameraSample

Axes = Literal["stage", "arkit"]

POSITION_FIELDS = ("x_m", "y_m", "z_m")
EULER_FIELDS = ("pan_deg", "tilt_deg", "roll_deg")
QUATERNION_FIELDS = ("qx", "qy", "qz", "qw")
INTEGER_FIELDS = ("focus_raw", "iris_raw", "zoom_raw")
LENS_FIELDS = ("focus_norm", "iris_norm", "zoom_norm", "focal_length_mm", "focus_distance_m", "f_stop")
FIELDS = frozenset(name for name in get_args(OscFieldName) if name)
assert frozenset((*POSITION_FIELDS, *EULER_FIELDS, *QUATERNION_FIELDS, *INTEGER_FIELDS, *LENS_FIELDS)) == FIELDS

DEFAULT_PORT = 8000
# ARKit world (x right, y up, z toward the viewer) -> stage (X right, Y forward, Z up)
_STAGE_FROM_ARKIT = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


class ParseError(CodecError):
    """An OSC message whose arguments do not fit its route."""


@dataclass(frozen=True, kw_only=True)
class OscRoute:
    """One address and the sample field each of its arguments fills."""

    address: str
    args: tuple[str, ...]
    axes: Axes = "stage"
    scales: tuple[float, ...] | None = None
    """Optional multiplier per argument (e.g. -1 to flip a sign, 0.001 for millimetres)."""
    emits: bool = True
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = [a for a in self.args if a and a not in FIELDS]
        if unknown:
            raise ValueError(f"{self.address}: unknown field(s) {unknown}; use {sorted(FIELDS)}")
        if not self.address.startswith("/") or self.address.count("{id}") > 1:
            raise ValueError(f"{self.address!r}: an address starts with '/' and has at most one {{id}}")
        if self.scales is not None and len(self.scales) != len(self.args):
            raise ValueError(f"{self.address}: scales must have one entry per argument")
        literal = [re.escape(part) for part in self.address.split("{id}")]
        object.__setattr__(self, "_regex", re.compile("^" + "([^/]+)".join(literal) + "$"))

    @property
    def dispatcher_pattern(self) -> str:
        """The address as an OSC pattern for python-osc's ``Dispatcher.map`` (``{id}`` -> ``*``)."""
        return self.address.replace("{id}", "*")

    def camera_id(self, address: str) -> CameraId | None:
        """The id captured from ``address`` (0 when the route has no ``{id}``); None if no match."""
        match = self._regex.fullmatch(address)
        if match is None:
            return None
        if not match.groups():
            return 0
        text = match.group(1)
        return int(text) if text.isdigit() and len(text) < 10 else text


@dataclass(frozen=True)
class OscAddressMap:
    name: str
    routes: tuple[OscRoute, ...]

    def match(self, address: str) -> tuple[OscRoute, CameraId] | None:
        for route in self.routes:
            cam = route.camera_id(address)
            if cam is not None:
                return route, cam
        return None


PRESETS: dict[str, OscAddressMap] = {
    "vp": OscAddressMap("vp", (
        OscRoute(address="/vp/cam/{id}/pose", args=(*POSITION_FIELDS, *EULER_FIELDS)),
        OscRoute(address="/vp/cam/{id}/lens", args=("focal_length_mm", "focus_distance_m", "f_stop"), emits=False),
    )),
    "loled": OscAddressMap("loled", (
        OscRoute(address="/tracker/position/{id}", args=(*POSITION_FIELDS, "tilt_deg", "roll_deg", "pan_deg",
                                                         "focus_norm", "iris_norm", "zoom_norm")),
    )),
    "zigsim": OscAddressMap("zigsim", (
        OscRoute(address="/{id}/arkitposition", args=POSITION_FIELDS, axes="arkit", emits=False),
        OscRoute(address="/{id}/arkitrotation", args=QUATERNION_FIELDS, axes="arkit"),
    )),
}


def _argument(value: Any, name: str, scale: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParseError(f"argument for {name} is {type(value).__name__}, not a number", "wrong_type")
    result = float(value) * scale
    if not math.isfinite(result):
        raise ParseError(f"argument for {name} is not finite", "non_finite")
    return result


def route_values(route: OscRoute, args: Sequence[Any]) -> dict[str, float]:
    """Arguments -> {field: value}, checked and scaled. Raises ParseError."""
    if len(args) < len(route.args):
        raise ParseError(f"{route.address} needs {len(route.args)} arguments, got {len(args)}", "arguments")
    scales = route.scales or (1.0,) * len(route.args)
    values = {name: _argument(value, name, scale)
              for name, value, scale in zip(route.args, args, scales, strict=False) if name}
    if route.axes == "arkit" and all(f in values for f in POSITION_FIELDS):
        x, y, z = (values[f] for f in POSITION_FIELDS)
        values.update(x_m=x, y_m=-z, z_m=y)
    return values


def _orientation(state: dict[str, float], axes: Axes) -> tuple[float, float, float] | None:
    if all(f in state for f in QUATERNION_FIELDS):
        qx, qy, qz, qw = (state[f] for f in QUATERNION_FIELDS)
        if qx * qx + qy * qy + qz * qz + qw * qw < 1e-12:
            raise ParseError("zero-length quaternion", "bad_value")
        rot = quat_to_matrix(np.array([qw, qx, qy, qz]))
        if axes == "arkit":  # camera right, up, back (ARKit) -> body right, forward, up (stage)
            right, up, back = rot[:, 0], rot[:, 1], rot[:, 2]
            rot = _STAGE_FROM_ARKIT @ np.stack([right, -back, up], axis=1)
        return pan_tilt_roll_from_rotation(rot)
    if all(f in state for f in EULER_FIELDS):
        return state["pan_deg"], state["tilt_deg"], state["roll_deg"]
    return None


@dataclass
class _CameraState:
    values: dict[str, float] = field(default_factory=dict)
    axes: Axes = "stage"
    last_ns: int = 0


DEFAULT_MAX_CAMERAS = 64
DEFAULT_STALE_AFTER_NS = 10 * 10**9


class OscSampleAssembler:
    """Merges routed OSC messages into ``CameraSample``s, per camera id. One per receiver thread.

    It keeps the latest values of at most ``max_cameras`` camera ids; a new id beyond that takes
    the place of the one silent longest if it has been silent for ``stale_after_ns``, else it is
    refused (``ParseError`` reason ``stream_limit``)."""

    def __init__(self, address_map: OscAddressMap, max_cameras: int = DEFAULT_MAX_CAMERAS,
                 stale_after_ns: int = DEFAULT_STALE_AFTER_NS) -> None:
        self.address_map = address_map
        self.max_cameras = max_cameras
        self.stale_after_ns = stale_after_ns
        self._cameras: dict[CameraId, _CameraState] = {}

    @property
    def cameras(self) -> int:
        return len(self._cameras)

    def _state(self, camera_id: CameraId, arrival_ns: int) -> _CameraState:
        state = self._cameras.get(camera_id)
        if state is None:
            if len(self._cameras) >= self.max_cameras and not self._evict_stale(arrival_ns):
                raise ParseError(f"more than {self.max_cameras} camera ids", "stream_limit")
            state = self._cameras[camera_id] = _CameraState()
        state.last_ns = arrival_ns
        return state

    def _evict_stale(self, now_ns: int) -> bool:
        oldest = min(self._cameras, key=lambda cam: self._cameras[cam].last_ns)
        if now_ns - self._cameras[oldest].last_ns < self.stale_after_ns:
            return False
        del self._cameras[oldest]
        return True

    def apply(self, route: OscRoute, camera_id: CameraId, args: Sequence[Any], arrival_ns: int = 0) -> None:
        """Fold one message's arguments into the camera's latest values. Raises ParseError."""
        values = route_values(route, args)
        state = self._state(camera_id, arrival_ns)
        if any(f in values for f in QUATERNION_FIELDS):
            for name in EULER_FIELDS:
                state.values.pop(name, None)
        elif any(f in values for f in EULER_FIELDS):
            for name in QUATERNION_FIELDS:
                state.values.pop(name, None)
        state.values.update(values)
        if route.axes == "arkit":
            state.axes = "arkit"

    def sample(self, camera_id: CameraId, source: str, arrival_ns: int) -> CameraSample | None:
        """The camera's current sample, or None while position or orientation is unknown."""
        state = self._cameras.get(camera_id)
        if state is None or not all(f in state.values for f in POSITION_FIELDS):
            return None
        angles = _orientation(state.values, state.axes)
        if angles is None:
            return None
        v = state.values
        extra: dict[str, Any] = {name: int(v[name]) for name in INTEGER_FIELDS if name in v}
        extra.update({name: v[name] for name in LENS_FIELDS if name in v})
        pan, tilt, roll = angles
        return CameraSample(protocol="osc", source=source, camera_id=camera_id, arrival_ns=arrival_ns, x_m=v["x_m"],
                            y_m=v["y_m"], z_m=v["z_m"], pan_deg=pan, tilt_deg=tilt, roll_deg=roll, **extra)

    def apply_matched(self, matched: Iterable[tuple[OscRoute, CameraId, Sequence[Any]]], source: str,
                      arrival_ns: int, bundled: bool) -> list[CameraSample]:
        """Apply messages already matched to routes (route, camera id, arguments), all from one
        datagram, and return the samples they complete. Raises ParseError on bad arguments."""
        touched: list[CameraId] = []
        for route, cam, args in matched:
            self.apply(route, cam, args, arrival_ns)
            if (bundled or route.emits) and cam not in touched:
                touched.append(cam)
        return [s for cam in touched if (s := self.sample(cam, source, arrival_ns)) is not None]

    def messages(self, messages: Iterable[tuple[str, Sequence[Any]]], source: str, arrival_ns: int,
                 bundled: bool) -> list[CameraSample]:
        """Match (address, arguments) pairs against the map, then ``apply_matched``."""
        matched = [(found[0], found[1], args) for address, args in messages
                   if (found := self.address_map.match(address)) is not None]
        return self.apply_matched(matched, source, arrival_ns, bundled)


def vp_messages(sample: CameraSample, camera_id: CameraId | None = None) -> list[tuple[str, list[float]]]:
    """The ``vp`` preset's pose (and lens, when known) messages for a sample."""
    cam = sample.camera_id if camera_id is None else camera_id
    out = [(f"/vp/cam/{cam}/pose", [sample.x_m, sample.y_m, sample.z_m,
                                    sample.pan_deg, sample.tilt_deg, sample.roll_deg])]
    if sample.focal_length_mm is not None:
        out.insert(0, (f"/vp/cam/{cam}/lens", [sample.focal_length_mm, sample.focus_distance_m or 0.0,
                                               sample.f_stop or 0.0]))
    return out


def _message(address: str, args: Sequence[float | int | str]) -> Any:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build()


def write_message(address: str, args: Sequence[float | int | str]) -> bytes:
    """One OSC message (floats as ``f``, ints as ``i``, strings as ``s``) via python-osc's builder."""
    return bytes(_message(address, args).dgram)


def write_bundle(messages: Sequence[tuple[str, Sequence[float | int | str]]]) -> bytes:
    """Several messages in one bundle with the "immediately" time tag."""
    bundle = OscBundleBuilder(IMMEDIATELY)
    for address, args in messages:
        bundle.add_content(_message(address, args))
    return bytes(bundle.build().dgram)
