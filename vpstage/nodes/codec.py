"""Node messages to bytes and back: a 12-byte header, then a MessagePack payload.

Header (big-endian): magic ``b"VPND"``, version (u8, :data:`VERSION`), kind (u8, :class:`Kind`),
flags (u16, 0), payload length (u32). Every kind has a payload size limit, checked from the
header before the payload is read. Payloads are MessagePack maps with short keys; decoding
checks every field (type, length, finiteness) and raises :class:`WireError` with a ``reason``
for the receiver's counters: ``bad_magic``, ``bad_version``, ``unknown_kind``, ``too_large``,
``truncated``, ``bad_payload`` (not MessagePack, or not a map) or ``bad_field``. The header layout
never changes between versions, so a receiver skips a message it cannot accept and stays in
step (:class:`SkippableError`); only a header it cannot trust (wrong magic, an absurd length)
ends the connection.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from typing import Any

import msgpack
import numpy as np

from vpstage.colour.grading import RegionGrade
from vpstage.nodes.jobs import AssetPlacement, OuterView, RenderQuality
from vpstage.nodes.messages import (
    MAX_PRIORITY,
    CameraOrder,
    Configure,
    Failed,
    FrameOrder,
    FrameReport,
    Hello,
    Message,
    OutputSettings,
    Ping,
    Pong,
    Progress,
    Ready,
    SceneOrder,
    Stop,
    Thumbnail,
    ThumbnailRequest,
    TileOrder,
    TileResult,
)
from vpstage.nodes.tiles import MAX_TILES
from vpstage.nodes.wire_fields import MAX_NAME, MAX_TEXT, Fields, WireError
from vpstage.patterns import PATTERN_NAMES, PatternSpec
from vpstage.tracking.camera import CameraState
from vpstage.tracking.distortion import MAX_MODEL_NAME, LensDistortion

MAGIC = b"VPND"
VERSION = 1
HEADER = struct.Struct(">4sBBHI")
HEADER_SIZE = HEADER.size


class Kind(enum.IntEnum):
    HELLO = 1
    CONFIGURE = 2
    READY = 3
    FAILED = 4
    FRAME = 5
    REPORT = 6
    THUMBNAIL_REQUEST = 7
    THUMBNAIL = 8
    PING = 9
    PONG = 10
    STOP = 11
    PROGRESS = 12
    TILE = 13


MAX_TILE_BYTES = 16 << 20
"""Pixels (rgb, alpha, depth as float32) one tile result may carry: a band, never a canvas."""
MAX_PAYLOAD = {Kind.HELLO: 4096, Kind.CONFIGURE: 64 << 20, Kind.READY: 1 << 20, Kind.FAILED: 64 << 10,
               Kind.FRAME: 1 << 20, Kind.REPORT: 256 << 10, Kind.THUMBNAIL_REQUEST: 64 << 10,
               Kind.THUMBNAIL: (1 << 20) + 4096, Kind.PING: 64, Kind.PONG: 64, Kind.STOP: 4096,
               Kind.PROGRESS: 4096, Kind.TILE: MAX_TILE_BYTES + 4096}
"""Largest payload accepted per kind (bytes). A thumbnail carries at most 1 MiB of pixels, a tile
result :data:`MAX_TILE_BYTES`."""
MAX_WIRE_TILES = 256
"""Tile orders a frame order may carry."""
MAX_WIRE_REGIONS = 256
"""Colour regions a frame order may carry (a project holds at most 64)."""
MAX_FEATHER, MAX_SATURATION, MAX_GAMMA, MAX_GAIN = 4096.0, 4.0, 10.0, 8.0
"""Ranges a region's values are accepted in (those of ``vpstage.colour.settings.ColourRegion``)."""
MAX_SKIP = max(MAX_PAYLOAD.values())
"""A header announcing more than this is not trusted at all (the connection closes)."""


class SkippableError(WireError):
    """A message whose header is intact but that cannot be accepted (another protocol version, an
    unknown kind, a payload over its kind's limit): ``length`` payload bytes follow and can be
    skipped, so the stream stays in step."""

    def __init__(self, reason: str, detail: str, length: int) -> None:
        super().__init__(reason, detail)
        self.length = length


def decode_header(data: bytes) -> tuple[Kind, int]:
    """(kind, payload length) from the first :data:`HEADER_SIZE` bytes. Raises WireError, or
    SkippableError when the header's frame is sound but its message cannot be accepted. The
    header's layout is the same in every version, so a message of another version can be skipped."""
    if len(data) < HEADER_SIZE:
        raise WireError("truncated", f"header of {len(data)} bytes")
    magic, version, kind, _flags, length = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise WireError("bad_magic", f"{magic!r} is not {MAGIC!r}")
    if length > MAX_SKIP:
        raise WireError("too_large", f"a payload of {length} bytes (no message is larger than {MAX_SKIP})")
    if version != VERSION:
        raise SkippableError("bad_version", f"version {version}, this build speaks {VERSION}", length)
    try:
        known = Kind(kind)
    except ValueError:
        raise SkippableError("unknown_kind", f"message kind {kind}", length) from None
    if length > MAX_PAYLOAD[known]:
        raise SkippableError("too_large", f"{known.name} payload of {length} bytes (limit {MAX_PAYLOAD[known]})",
                             length)
    return known, length


def encode(message: Message) -> bytes:
    """Header and payload of ``message``."""
    kind, writer = _WRITERS[type(message)]
    payload: bytes = msgpack.packb(writer(message), use_bin_type=True)
    if len(payload) > MAX_PAYLOAD[kind]:
        raise WireError("too_large", f"{kind.name} payload of {len(payload)} bytes (limit {MAX_PAYLOAD[kind]})")
    return HEADER.pack(MAGIC, VERSION, kind, 0, len(payload)) + payload


def decode_payload(kind: Kind, payload: bytes) -> Message:
    try:
        fields = msgpack.unpackb(payload, raw=False, strict_map_key=True, max_bin_len=MAX_PAYLOAD[kind],
                                 max_str_len=MAX_PAYLOAD[kind], max_array_len=1 << 16, max_map_len=1 << 16)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, TypeError) as exc:
        raise WireError("bad_payload", f"{kind.name}: {exc}") from None
    if not isinstance(fields, dict):
        raise WireError("bad_payload", f"{kind.name}: payload is not a map")
    return _READERS[kind](Fields(kind.name, fields))


def decode(data: bytes) -> Message:
    """One whole message (header and payload, nothing more)."""
    kind, length = decode_header(data)
    if len(data) != HEADER_SIZE + length:
        raise WireError("truncated", f"{kind.name}: {len(data) - HEADER_SIZE} payload bytes, header says {length}")
    return decode_payload(kind, data[HEADER_SIZE:])


# ---------------------------------------------------------------------------- per message


def _w_hello(m: Hello) -> dict[str, Any]:
    return {"node": m.node, "gen": m.generation, "token": m.token, "pid": m.pid, "host": m.host, "boot": m.boot_id}


def _r_hello(f: Fields) -> Hello:
    return Hello(node=f.text("node"), generation=f.integer("gen", 0), token=f.text("token"), pid=f.integer("pid", 0),
                 host=f.text("host"), boot_id=f.text("boot"))


def _w_outputs(o: OutputSettings) -> dict[str, Any]:
    return {"kind": o.kind, "fourcc": o.fourcc, "prefix": o.prefix, "mode": o.network_mode, "groups": o.ndi_groups,
            "sdi": dict(o.sdi_devices)}


def _r_outputs(f: Fields) -> OutputSettings:
    kind, fourcc, mode = f.text("kind"), f.text("fourcc"), f.text("mode")
    if kind not in ("ndi", "none") or fourcc not in ("BGRX", "UYVY") or mode not in ("loopback", "studio"):
        raise f.fail("kind", f"unknown output settings {kind}/{fourcc}/{mode}")
    sdi = Fields(f"{f.where}.sdi", f.mapping("sdi"))
    return OutputSettings(kind=kind, fourcc=fourcc, prefix=f.text("prefix"), network_mode=mode,  # type: ignore[arg-type]
                          ndi_groups=f.opt_text("groups"), sdi_devices={sdi.str_key(k): sdi.integer(k, 0, 255)
                                                                        for k in sdi.data})


def _w_configure(m: Configure) -> dict[str, Any]:
    return {"node": m.node, "device": m.device, "project": m.project_json, "base": m.base_dir,
            "scene": m.scene_renderer, "outputs": _w_outputs(m.outputs), "far": m.far_m, "margin": m.dod_margin_px,
            "boot": m.boot_id, "slots": m.ring_slots}


def _r_configure(f: Fields) -> Configure:
    outputs = _r_outputs(Fields(f"{f.where}.outputs", f.mapping("outputs")))
    return Configure(node=f.text("node"), device=f.text("device"),
                     project_json=f.text("project", MAX_PAYLOAD[Kind.CONFIGURE]), base_dir=f.text("base", MAX_TEXT),
                     scene_renderer=f.opt_text("scene"), outputs=outputs, far_m=f.number("far"),
                     dod_margin_px=f.number("margin"), boot_id=f.text("boot"), ring_slots=f.integer("slots", 2, 16))


def _r_ready(f: Fields) -> Ready:
    return Ready(f.mapping("info"))


def _w_camera_state(s: CameraState) -> dict[str, Any]:
    d = s.distortion
    return {"eye": [float(v) for v in s.eye], "rot": [float(v) for v in np.asarray(s.rotation).reshape(9)],
            "f": s.focal_length_mm, "sw": s.sensor_width_mm, "sh": s.sensor_height_mm, "w": s.image_width,
            "h": s.image_height, "pp": list(s.principal_offset_mm), "dist": list(d.legacy),
            "distx": {"model": d.model, "k": list(d.radial[2:]), "overscan": d.overscan, "offset": list(d.offset_mm)},
            "focus": s.focus_distance_m, "fstop": s.f_stop, "t": s.time_ns,
            "extra": {k: float(v) for k, v in s.extra.items()}}


def _r_distortion(f: Fields) -> LensDistortion:
    """``dist`` (k1, k2, p1, p2) and ``distx`` (model, k3..k6, overscan, centre offset)."""
    k1, k2, p1, p2 = f.numbers("dist", 4)
    x = Fields(f"{f.where}.distx", f.mapping("distx"))
    k3, k4, k5, k6 = x.numbers("k", 4)
    offset = x.numbers("offset", 2)
    try:
        return LensDistortion(model=x.text("model", MAX_MODEL_NAME), radial=(k1, k2, k3, k4, k5, k6),
                              tangential=(p1, p2), overscan=x.number("overscan"), offset_mm=(offset[0], offset[1]))
    except ValueError as exc:
        raise f.fail("distx", str(exc)) from None


def _r_camera_state(f: Fields) -> CameraState:
    extra = Fields(f"{f.where}.extra", f.mapping("extra"))
    pp = f.numbers("pp", 2)
    return CameraState(eye=np.array(f.numbers("eye", 3)), rotation=np.array(f.numbers("rot", 9)).reshape(3, 3),
                       focal_length_mm=f.number("f"), sensor_width_mm=f.number("sw"), sensor_height_mm=f.number("sh"),
                       image_width=f.integer("w", 1, 1 << 16), image_height=f.integer("h", 1, 1 << 16),
                       principal_offset_mm=(pp[0], pp[1]), distortion=_r_distortion(f),
                       focus_distance_m=f.opt_number("focus"), f_stop=f.opt_number("fstop"), time_ns=f.integer("t"),
                       extra={extra.str_key(k): extra.number(k) for k in extra.data})


def _w_camera(c: CameraOrder) -> dict[str, Any]:
    return {"name": c.name, "state": None if c.state is None else _w_camera_state(c.state), "t": c.data_time_ns,
            "lost": c.lost, "rects": {k: list(v) for k, v in c.rects.items()}, "priority": c.priority,
            "active": c.active, "on_wall": c.on_wall}


def _r_rect(f: Fields, key: str) -> tuple[int, int, int, int]:
    value = f.raw(key)
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise f.fail(key, "expected 4 integers")
    sub = Fields(f"{f.where}.{key}", {str(i): v for i, v in enumerate(value)})
    x0, y0, x1, y1 = (sub.integer(str(i), 0, 1 << 20) for i in range(4))
    return x0, y0, x1, y1


def _r_camera(f: Fields) -> CameraOrder:
    state = None if f.data.get("state") is None else _r_camera_state(Fields(f"{f.where}.state", f.mapping("state")))
    rects = Fields(f"{f.where}.rects", f.mapping("rects"))
    return CameraOrder(name=f.text("name"), state=state, data_time_ns=f.opt_integer("t"), lost=f.flag("lost"),
                       rects={rects.str_key(k): _r_rect(rects, k) for k in rects.data},
                       priority=f.integer("priority", -MAX_PRIORITY, MAX_PRIORITY), active=f.flag("active"),
                       on_wall=f.flag("on_wall"))


def _w_pattern(p: PatternSpec) -> dict[str, Any]:
    return {"name": p.name, "color": list(p.color), "grid": p.grid_px, "text": p.text, "sync": p.sync_overlay}


def _r_pattern(f: Fields) -> PatternSpec:
    name = f.text("name")
    if name not in PATTERN_NAMES:
        raise f.fail("name", f"unknown pattern {name!r}")
    color = Fields(f"{f.where}.color", {str(i): v for i, v in enumerate(f.raw("color"))}) \
        if isinstance(f.raw("color"), list) and len(f.raw("color")) == 3 else None
    if color is None:
        raise f.fail("color", "expected 3 integers")
    rgb = tuple(color.integer(str(i), 0, 255) for i in range(3))
    return PatternSpec(name, color=(rgb[0], rgb[1], rgb[2]), grid_px=f.integer("grid", 2, 1 << 14),  # type: ignore[arg-type]
                       text=f.text("text", MAX_TEXT), sync_overlay=f.flag("sync"))


def _w_scene(s: SceneOrder) -> dict[str, Any]:
    q = s.quality
    return {"placements": [{"asset": p.asset, "m": [float(v) for v in np.asarray(p.stage_to_scene).reshape(16)],
                            "on": p.enabled} for p in s.placements],
            "viewpoint": list(s.outer.viewpoint), "key": s.outer.cache_key,
            "quality": [q.inner_scale, q.outer_scale, *q.background],
            "regions": [_w_region(r) for r in s.regions]}


def _w_region(r: RegionGrade) -> dict[str, Any]:
    return {"canvas": r.canvas, "rect": list(r.rect), "feather": r.feather_px, "lift": list(r.lift),
            "gamma": list(r.gamma), "gain": list(r.gain), "sat": r.saturation}


def _rgb(f: Fields, key: str, lo: float, hi: float, low_open: bool = False) -> tuple[float, float, float]:
    r, g, b = f.numbers(key, 3)
    if not all((lo < v if low_open else lo <= v) and v <= hi for v in (r, g, b)):
        raise f.fail(key, f"({r}, {g}, {b}) out of range {'(' if low_open else '['}{lo}, {hi}]")
    return r, g, b


def _r_region(f: Fields) -> RegionGrade:
    x0, y0, x1, y1 = _r_rect(f, "rect")
    if x1 <= x0 or y1 <= y0:
        raise f.fail("rect", f"empty rectangle ({x0}, {y0}, {x1}, {y1})")
    feather, saturation = f.number("feather"), f.number("sat")
    if not (0.0 <= feather <= MAX_FEATHER and 0.0 <= saturation <= MAX_SATURATION):
        raise f.fail("feather", f"feather {feather} or saturation {saturation} out of range")
    return RegionGrade(canvas=f.text("canvas"), rect=(x0, y0, x1, y1), feather_px=feather,
                       lift=_rgb(f, "lift", -1.0, 1.0), gamma=_rgb(f, "gamma", 0.0, MAX_GAMMA, low_open=True),
                       gain=_rgb(f, "gain", 0.0, MAX_GAIN), saturation=saturation)


def _r_regions(f: Fields) -> tuple[RegionGrade, ...]:
    """Absent from orders of builds before colour regions: none."""
    if f.data.get("regions") is None:
        return ()
    regions = f.each("regions", _r_region)
    if len(regions) > MAX_WIRE_REGIONS:
        raise f.fail("regions", f"{len(regions)} colour regions (at most {MAX_WIRE_REGIONS})")
    return regions


def _r_placement(f: Fields) -> AssetPlacement:
    matrix: np.ndarray = np.array(f.numbers("m", 16)).reshape(4, 4)
    matrix.flags.writeable = False
    return AssetPlacement(f.text("asset"), matrix, f.flag("on"))


def _r_scene(f: Fields) -> SceneOrder:
    q = f.numbers("quality", 5)
    if not (0 < q[0] <= 16 and 0 < q[1] <= 16):
        raise f.fail("quality", f"scales {q[0]}, {q[1]} out of range")
    v = f.numbers("viewpoint", 3)
    return SceneOrder(f.each("placements", _r_placement), OuterView((v[0], v[1], v[2]), f.text("key")),
                      RenderQuality(q[0], q[1], (q[2], q[3], q[4])), _r_regions(f))


def _w_frame(m: FrameOrder) -> dict[str, Any]:
    return {"frame": m.frame, "count": m.count, "t": m.time_ns, "deadline": m.deadline_ns, "sent": m.sent_ns,
            "canvases": list(m.canvases), "patterns": {k: _w_pattern(v) for k, v in m.patterns.items()},
            "cameras": [_w_camera(c) for c in m.cameras], "scene": None if m.scene is None else _w_scene(m.scene),
            **({"tiles": [_w_tile_order(t) for t in m.tiles]} if m.tiles else {})}


def _w_tile_order(t: TileOrder) -> dict[str, Any]:
    return {"owner": t.owner, "helper": t.helper, "camera": t.camera, "asset": t.asset, "canvases": list(t.canvases),
            "i": t.index, "n": t.count, "wait": t.wait_ns}


def _r_tile_order(f: Fields) -> TileOrder:
    count = f.integer("n", 1, MAX_TILES)
    return TileOrder(owner=f.text("owner"), helper=f.text("helper"), camera=f.text("camera"), asset=f.text("asset"),
                     canvases=f.texts("canvases"), index=f.integer("i", 0, count - 1), count=count,
                     wait_ns=f.integer("wait"))


def _r_tiles(f: Fields) -> tuple[TileOrder, ...]:
    """Absent from orders of builds before tiles: none."""
    if f.data.get("tiles") is None:
        return ()
    tiles = f.each("tiles", _r_tile_order)
    if len(tiles) > MAX_WIRE_TILES:
        raise f.fail("tiles", f"{len(tiles)} tile orders (at most {MAX_WIRE_TILES})")
    return tiles


def _r_frame(f: Fields) -> FrameOrder:
    patterns = Fields(f"{f.where}.patterns", f.mapping("patterns"))
    scene = None if f.data.get("scene") is None else _r_scene(Fields(f"{f.where}.scene", f.mapping("scene")))
    return FrameOrder(frame=f.integer("frame", 0), count=f.integer("count", 0), time_ns=f.integer("t"),
                      deadline_ns=f.integer("deadline"), sent_ns=f.integer("sent"), canvases=f.texts("canvases"),
                      patterns={patterns.str_key(k): _r_pattern(Fields(f"{patterns.where}.{k}", patterns.mapping(k)))
                                for k in patterns.data},
                      cameras=f.each("cameras", _r_camera), scene=scene, tiles=_r_tiles(f))


def _w_report(m: FrameReport) -> dict[str, Any]:
    return {"frame": m.frame, "status": m.status, "present": m.present_ns, "present_ms": m.present_ms,
            "render_ms": m.render_ms, "gpu_ms": m.gpu_ms, "cpu_ms": m.cpu_ms, "skipped": m.skipped,
            "late": [list(x) for x in m.late_renders], "errors": dict(m.errors), "outputs": list(m.outputs),
            "output_info": None if m.output_info is None else [dict(i) for i in m.output_info],
            "output_errors": dict(m.output_errors), "offset": m.clock_offset_ns, "rtt": m.clock_rtt_ns,
            "refused": dict(m.refused), **({"tiles": dict(m.tiles)} if m.tiles else {})}


def _r_late(f: Fields) -> tuple[tuple[int, float], ...]:
    value = f.raw("late")
    if not isinstance(value, list) or len(value) > 4096:
        raise f.fail("late", "expected a list of [frame, ms]")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, list) or len(item) != 2:
            raise f.fail(f"late[{i}]", "expected [frame, ms]")
        sub = Fields(f"{f.where}.late[{i}]", {"frame": item[0], "ms": item[1]})
        out.append((sub.integer("frame", 0), sub.number("ms")))
    return tuple(out)


def _r_report(f: Fields) -> FrameReport:
    status = f.text("status")
    if status not in ("fresh", "repeat", "black", "none"):
        raise f.fail("status", f"unknown status {status!r}")
    return FrameReport(frame=f.integer("frame", 0), status=status, present_ns=f.integer("present"),  # type: ignore[arg-type]
                       present_ms=f.number("present_ms"), render_ms=f.number("render_ms", allow_nan=True),
                       gpu_ms=f.number("gpu_ms", allow_nan=True), cpu_ms=f.number("cpu_ms", allow_nan=True),
                       skipped=f.integer("skipped", 0), late_renders=_r_late(f), errors=f.str_map("errors"),
                       outputs=f.texts("outputs"), output_info=_r_output_info(f),
                       output_errors=f.str_map("output_errors"), clock_offset_ns=f.integer("offset"),
                       clock_rtt_ns=f.integer("rtt", 0), refused=_r_counts(f, "refused"),
                       tiles=_r_counts(f, "tiles") if f.data.get("tiles") is not None else {})


def _r_counts(f: Fields, key: str) -> dict[str, int]:
    sub = Fields(f"{f.where}.{key}", f.mapping(key))
    return {sub.str_key(k): sub.integer(k, 0) for k in sub.data}


def _r_output_info(f: Fields) -> tuple[dict[str, object], ...] | None:
    if f.data.get("output_info") is None:
        return None
    return f.each("output_info", lambda item: {k: v for k, v in item.data.items()
                                               if isinstance(k, str) and isinstance(v, str | int | float | None)})


def _w_thumb_request(m: ThumbnailRequest) -> dict[str, Any]:
    return {"request": m.request, "canvases": list(m.canvases), "width": m.max_width, "bytes": m.max_bytes,
            "scene": m.scene_referred}


def _r_thumb_request(f: Fields) -> ThumbnailRequest:
    return ThumbnailRequest(request=f.integer("request", 0), canvases=f.texts("canvases"),
                            max_width=f.integer("width", 1, 1 << 14), max_bytes=f.integer("bytes", 1, 1 << 20),
                            scene_referred="scene" in f.data and f.flag("scene"))


def _w_thumbnail(m: Thumbnail) -> dict[str, Any]:
    return {"request": m.request, "canvas": m.canvas, "frame": m.frame, "w": m.width, "h": m.height,
            "pixels": m.pixels}


def _r_thumbnail(f: Fields) -> Thumbnail:
    width, height, pixels = f.integer("w", 1, 1 << 14), f.integer("h", 1, 1 << 14), f.blob("pixels")
    if len(pixels) != width * height * 4:
        raise f.fail("pixels", f"{len(pixels)} bytes for {width}x{height} BGRX")
    return Thumbnail(request=f.integer("request", 0), canvas=f.text("canvas"), frame=f.integer("frame", 0), width=width,
                     height=height, pixels=pixels)


def _w_tile(m: TileResult) -> dict[str, Any]:
    return {"frame": m.frame, "owner": m.owner, "helper": m.helper, "camera": m.camera, "asset": m.asset,
            "i": m.index, "n": m.count, "rect": list(m.rect), "rgb": m.rgb, "alpha": m.alpha, "depth": m.depth,
            "ms": m.render_ms}


def _r_tile(f: Fields) -> TileResult:
    count = f.integer("n", 1, MAX_TILES)
    x0, y0, x1, y1 = _r_rect(f, "rect")
    if x1 <= x0 or y1 <= y0:
        raise f.fail("rect", f"empty band ({x0}, {y0}, {x1}, {y1})")
    pixels = (x1 - x0) * (y1 - y0)
    rgb, alpha, depth = f.blob("rgb"), f.blob("alpha"), f.blob("depth")
    if (len(rgb), len(alpha), len(depth)) != (12 * pixels, 4 * pixels, 4 * pixels):
        raise f.fail("rgb", f"{len(rgb)}, {len(alpha)}, {len(depth)} bytes for a {x1 - x0}x{y1 - y0} band")
    return TileResult(frame=f.integer("frame", 0), owner=f.text("owner"), helper=f.text("helper"),
                      camera=f.text("camera"), asset=f.text("asset"), index=f.integer("i", 0, count - 1), count=count,
                      rect=(x0, y0, x1, y1), rgb=rgb, alpha=alpha, depth=depth, render_ms=f.number("ms"))


_WRITERS: dict[type, tuple[Kind, Callable[[Any], dict[str, Any]]]] = {
    Hello: (Kind.HELLO, _w_hello),
    Configure: (Kind.CONFIGURE, _w_configure),
    Ready: (Kind.READY, lambda m: {"info": m.info}),
    Failed: (Kind.FAILED, lambda m: {"error": m.error[:MAX_TEXT]}),
    FrameOrder: (Kind.FRAME, _w_frame),
    FrameReport: (Kind.REPORT, _w_report),
    ThumbnailRequest: (Kind.THUMBNAIL_REQUEST, _w_thumb_request),
    Thumbnail: (Kind.THUMBNAIL, _w_thumbnail),
    Ping: (Kind.PING, lambda m: {"node": m.node_ns}),
    Pong: (Kind.PONG, lambda m: {"node": m.node_ns, "master": m.master_ns}),
    Stop: (Kind.STOP, lambda m: {"reason": m.reason[:MAX_TEXT]}),
    Progress: (Kind.PROGRESS, lambda m: {"step": m.step[:MAX_NAME]}),
    TileResult: (Kind.TILE, _w_tile),
}

_READERS: dict[Kind, Callable[[Fields], Message]] = {
    Kind.HELLO: _r_hello,
    Kind.CONFIGURE: _r_configure,
    Kind.READY: _r_ready,
    Kind.FAILED: lambda f: Failed(f.text("error", MAX_TEXT)),
    Kind.FRAME: _r_frame,
    Kind.REPORT: _r_report,
    Kind.THUMBNAIL_REQUEST: _r_thumb_request,
    Kind.THUMBNAIL: _r_thumbnail,
    Kind.PING: lambda f: Ping(f.integer("node")),
    Kind.PONG: lambda f: Pong(f.integer("node"), f.integer("master")),
    Kind.STOP: lambda f: Stop(f.text("reason", MAX_TEXT)),
    Kind.PROGRESS: lambda f: Progress(f.text("step")),
    Kind.TILE: _r_tile,
}

__all__ = ["HEADER_SIZE", "MAGIC", "MAX_PAYLOAD", "MAX_TILE_BYTES", "VERSION", "Kind", "SkippableError", "WireError",
           "decode", "decode_header", "decode_payload", "encode"]
