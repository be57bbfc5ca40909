"""Asset preview videos: a smooth orbit around the asset, streamed into an H.264 MP4.

Two framings (``PreviewOptions.framing``; ``auto`` picks by the asset's frame):

* ``object`` (an object or a capture seen from outside): the camera circles the asset's robust
  centroid (the centre of its trimmed bounds) at a fixed elevation above the horizontal plane
  (default 35 degrees; 30..45 allowed) and always looks at the centroid; the orbit radius makes the
  trimmed bounding sphere fit the narrower field of view.
* ``stage`` (a set built around the LED volume, in the stage frame: metres, Z up, origin on the
  floor at the volume's centre, such as ``procedural:demo``, whose terrain and sky reach 90 m
  out): seen from outside it is a small sphere in the dark, so the camera stands where the
  console's rehearsal camera does, on the simulated tracker's orbit (``devices.tracking.paths.
  orbit``: 2 m around the subject at 1.7 m eye height), looking across the volume at the subject.

The arc (default 360 degrees, at least 270) is covered at constant angular speed over ``seconds``
at ``fps``. "Up" is the asset's recorded up axis (``asset.up_axis``) unless given. ``progress``
hears every frame rendered (frames done, total, seconds spent rendering), so a long CPU preview
can say how far it is and how long is left.

Outputs beside each other (``preview.mp4`` -> ``preview.path.json``, ``preview.thumbnail.png``):

* the video (H.264, yuv420p, CRF 23, index before media data; see ``devices.video``), written
  atomically: frames stream from the renderer into the encoder, nothing else touches the disk.
  NVENC when rendering on CUDA and it opens here, else libx264 (``render.preview_encoder``); the
  encoder opens on a worker thread while the first frames render;
* the camera path: ``centroid`` [x, y, z], ``up``, ``radius`` and per frame ``camera_to_world``
  (4x4 row-major, OpenCV camera: +x right, +y down, +z forward, in the asset frame) with the
  vertical field of view in degrees and the pinhole intrinsics;
* a thumbnail PNG of the first frame.

Works for any :class:`render.assets.SceneAsset` (splat or NeRF) through ``render_pinhole``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from devices.tracking import paths
from render.assets import PinholeCamera, SceneAsset
from render.camera_poses import axis_vector, focal_for_fov, world_to_camera_from_pose
from render.preview_encoder import PreviewEncoder
from vpstage.geometry import look_at_rotation

if TYPE_CHECKING:  # torch loads with the renderer, not with the options (the CLI checks them first)
    import torch

Framing = Literal["auto", "object", "stage"]
FRAMINGS: tuple[str, ...] = ("auto", "object", "stage")
STAGE_ORBIT_PERIOD_S = 12.0
"""The rehearsal orbit's period (``paths.orbit``'s default): the arc maps onto one turn of it."""
Progress = Callable[[int, int, float], None]
"""(frames done, frames in all, seconds spent rendering so far)."""


@dataclass(frozen=True, kw_only=True)
class PreviewOptions:
    seconds: float = 8.0
    fps: float = 30.0
    elevation_deg: float = 35.0
    arc_deg: float = 360.0
    width: int = 1280
    height: int = 720
    crf: int = 23
    up: str | None = None
    """Up axis ('x', '-y', ...); None uses the asset's own (``asset.up_axis``), else 'z'."""
    vertical_fov_deg: float = 45.0
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    codec: str = "auto"
    framing: Framing = "auto"
    """``object``, ``stage`` or ``auto`` (``stage`` for assets in the stage frame); see the module docstring."""

    def validate(self) -> None:
        checks = [
            (5.0 <= self.seconds <= 10.0, f"seconds must be 5..10, got {self.seconds}"),
            (1.0 <= self.fps <= 120.0, f"fps must be 1..120, got {self.fps}"),
            (30.0 <= self.elevation_deg <= 45.0, f"elevation must be 30..45 degrees, got {self.elevation_deg}"),
            (270.0 <= self.arc_deg <= 360.0, f"arc must be 270..360 degrees, got {self.arc_deg}"),
            (self.width > 0 and self.height > 0 and self.width % 2 == 0 and self.height % 2 == 0,
             f"size must be positive and even (yuv420p), got {self.width}x{self.height}"),
            (0 <= self.crf <= 51, f"crf must be 0..51, got {self.crf}"),
            (10.0 <= self.vertical_fov_deg <= 120.0, f"vertical fov must be 10..120, got {self.vertical_fov_deg}"),
            (self.framing in FRAMINGS, f"framing must be one of {', '.join(FRAMINGS)}, got {self.framing!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @property
    def frame_count(self) -> int:
        return round(self.seconds * self.fps)


@dataclass(kw_only=True)
class PreviewResult:
    video: Path
    path_json: Path
    thumbnail: Path
    frames: int
    codec: str
    codec_reason: str = ""
    """Why this encoder (e.g. "rendering on cpu", "this PyAV/FFmpeg build has no h264_nvenc")."""
    timings_s: dict[str, float] = field(default_factory=dict)
    """Seconds: ``total``, ``render`` (frames, GPU to host copies included), ``first_frame`` (kernel
    compilation included), ``encoder_ready`` (opening it, from its start), ``encoder_wait`` (frames
    waiting for it), ``finish`` (flush, index, thumbnail, path)."""


def horizontal_basis(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors spanning the plane perpendicular to ``up`` (right-handed with it)."""
    helper = np.roll(np.abs(up), 1)  # an axis other than up, chosen deterministically
    first = helper - np.dot(helper, up) * up
    first /= np.linalg.norm(first)
    return first, np.cross(up, first)


def orbit_radius(lo: np.ndarray, hi: np.ndarray, vertical_fov_deg: float, aspect: float, margin: float = 1.08) -> float:
    """Distance at which the sphere around the box [lo, hi] fits the narrower field of view."""
    sphere = 0.5 * float(np.linalg.norm(np.asarray(hi) - np.asarray(lo)))
    half_v = math.radians(vertical_fov_deg) / 2.0
    half_h = math.atan(math.tan(half_v) * aspect)
    return max(sphere, 1e-3) * margin / math.sin(min(half_v, half_h))


def orbit_poses(centroid: np.ndarray, up: np.ndarray, radius: float, elevation_deg: float, arc_deg: float,
                frames: int) -> list[np.ndarray]:
    """Camera-to-world 4x4 poses (OpenCV axes) on the orbit, looking at ``centroid``, image-up ~ ``up``."""
    e1, e2 = horizontal_basis(up)
    elevation = math.radians(elevation_deg)
    closed = abs(arc_deg - 360.0) < 1e-9  # a full circle must not repeat its first frame
    steps = frames if closed else max(frames - 1, 1)
    poses = []
    for i in range(frames):
        theta = math.radians(arc_deg) * i / steps
        direction = math.cos(elevation) * (math.cos(theta) * e1 + math.sin(theta) * e2) + math.sin(elevation) * up
        eye = centroid + radius * direction
        pose = np.eye(4)
        pose[:3, :3] = look_at_rotation(eye, centroid, up)
        pose[:3, 3] = eye
        poses.append(pose)
    return poses


def _camera_for(pose: np.ndarray, options: PreviewOptions) -> PinholeCamera:
    f = focal_for_fov(options.vertical_fov_deg, options.height)
    view = world_to_camera_from_pose(pose[:3, :3], pose[:3, 3])
    return PinholeCamera(world_to_camera=view, fx=f, fy=f, cx=options.width / 2.0, cy=options.height / 2.0,
                         width=options.width, height=options.height)


def _to_uint8(rgb: torch.Tensor) -> np.ndarray:
    import torch

    return (rgb.clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8).cpu().numpy()


def preview_outputs(video: Path) -> tuple[Path, Path]:
    """(path JSON, thumbnail PNG) written beside ``video``."""
    stem = video.name[: -len(video.suffix)] if video.suffix else video.name
    return video.with_name(stem + ".path.json"), video.with_name(stem + ".thumbnail.png")


def path_document(centroid: np.ndarray, up: np.ndarray, radius: float, poses: list[np.ndarray],
                  options: PreviewOptions, asset_name: str) -> dict[str, object]:
    f = focal_for_fov(options.vertical_fov_deg, options.height)
    intrinsics = {"fx": f, "fy": f, "cx": options.width / 2.0, "cy": options.height / 2.0,
                  "width": options.width, "height": options.height}
    return {
        "asset": asset_name, "convention": "OpenCV camera (+x right, +y down, +z forward), asset frame",
        "centroid": [float(v) for v in centroid], "up": [float(v) for v in up], "radius": radius,
        "elevation_deg": options.elevation_deg, "arc_deg": options.arc_deg, "fps": options.fps,
        "seconds": options.seconds, "options": asdict(options),
        "frames": [{"index": i, "time_s": i / options.fps, "camera_to_world": pose.tolist(),
                    "vertical_fov_deg": options.vertical_fov_deg, **intrinsics} for i, pose in enumerate(poses)],
    }


def asset_frame_convention(asset: SceneAsset) -> str | None:
    """The convention of the asset's coordinates when it records one (``stage``, ``RDF``, ...)."""
    frame = getattr(getattr(asset, "model", None), "frame", None)
    convention = getattr(frame, "convention", None)
    return convention if isinstance(convention, str) else None


def chosen_framing(asset: SceneAsset, options: PreviewOptions) -> Literal["object", "stage"]:
    if options.framing != "auto":
        return options.framing
    return "stage" if asset_frame_convention(asset) == "stage" else "object"


@dataclass(frozen=True, kw_only=True)
class Orbit:
    """The camera path of a preview: poses, and what they circle."""

    centre: np.ndarray
    up: np.ndarray
    radius: float
    poses: list[np.ndarray]
    framing: str


def object_orbit(asset: SceneAsset, up: np.ndarray, options: PreviewOptions) -> Orbit:
    lo, hi = asset.bounds()
    centroid = (np.asarray(lo, dtype=np.float64) + np.asarray(hi, dtype=np.float64)) / 2.0
    radius = orbit_radius(lo, hi, options.vertical_fov_deg, options.width / options.height)
    poses = orbit_poses(centroid, up, radius, options.elevation_deg, options.arc_deg, options.frame_count)
    return Orbit(centre=centroid, up=up, radius=radius, poses=poses, framing="object")


def stage_orbit(up: np.ndarray, options: PreviewOptions) -> Orbit:
    """The console's rehearsal orbit (``paths.orbit`` with its defaults), looking at the subject;
    ``options.arc_deg`` of its turn over the preview's frames."""
    path = paths.orbit(period_s=STAGE_ORBIT_PERIOD_S)
    target = np.asarray(paths.SUBJECT, dtype=np.float64)
    frames = options.frame_count
    closed = abs(options.arc_deg - 360.0) < 1e-9
    steps = frames if closed else max(frames - 1, 1)
    poses = []
    for i in range(frames):
        point = path(STAGE_ORBIT_PERIOD_S * options.arc_deg / 360.0 * i / steps)
        assert point is not None  # the orbit has no dropouts
        eye = np.array([point.x_m, point.y_m, point.z_m])
        pose = np.eye(4)
        pose[:3, :3] = look_at_rotation(eye, target, up)
        pose[:3, 3] = eye
        poses.append(pose)
    radius = float(np.linalg.norm(poses[0][:2, 3] - target[:2])) if poses else 0.0
    return Orbit(centre=target, up=up, radius=radius, poses=poses, framing="stage")


def preview_orbit(asset: SceneAsset, options: PreviewOptions) -> Orbit:
    up = axis_vector(options.up or getattr(asset, "up_axis", None) or "z")
    if chosen_framing(asset, options) == "stage":
        return stage_orbit(up, options)
    return object_orbit(asset, up, options)


def preview_encoder(video: str | Path, options: PreviewOptions, render_device: str) -> PreviewEncoder:
    """The encoder for ``options`` opening on a worker thread (start it before loading the asset to
    overlap the two)."""
    return PreviewEncoder(video, options.width, options.height, options.fps, crf=options.crf, codec=options.codec,
                          render_device=render_device)


def render_preview(asset: SceneAsset, video: str | Path, options: PreviewOptions = PreviewOptions(),
                   progress: Progress | None = None, encoder: PreviewEncoder | None = None) -> PreviewResult:
    """Render the orbit of ``asset`` into ``video`` (+ path JSON and thumbnail); see the module docstring.

    ``encoder``: one from ``preview_encoder(video, options, ...)`` started earlier, else one is
    started here. It is finished, or aborted on failure (no partial video is left).
    """
    from vpstage.config import atomic_write_bytes, atomic_write_text

    options.validate()
    started = time.perf_counter()
    video = Path(video)
    if encoder is None:
        encoder = preview_encoder(video, options, str(getattr(asset, "device", "cpu")))
    with encoder:
        orbit = preview_orbit(asset, options)
        render_s, first_s, thumbnail = 0.0, 0.0, None
        for done, pose in enumerate(orbit.poses, start=1):
            t0 = time.perf_counter()
            frame = _to_uint8(asset.render_pinhole(_camera_for(pose, options), background=options.background).rgb)
            render_s += time.perf_counter() - t0
            first_s = first_s or render_s
            thumbnail = frame if thumbnail is None else thumbnail
            encoder.write(frame)
            if progress is not None:
                progress(done, len(orbit.poses), render_s)
        finishing = time.perf_counter()
        encoded = encoder.close()
    path_json, thumb_png = preview_outputs(video)
    document = path_document(orbit.centre, orbit.up, orbit.radius, orbit.poses, options, getattr(asset, "name", ""))
    document["framing"] = orbit.framing
    atomic_write_text(path_json, json.dumps(document, indent=1), backup=False)
    atomic_write_bytes(thumb_png, _png_bytes(thumbnail), backup=False)
    ended = time.perf_counter()
    timings = {"total": ended - started, "render": render_s, "first_frame": first_s, **encoder.timings_s,
               "finish": ended - finishing}
    choice = encoder.choice
    return PreviewResult(video=video, path_json=path_json, thumbnail=thumb_png, frames=encoded.frames,
                         codec=encoded.codec, codec_reason=choice.reason if choice is not None else "",
                         timings_s=timings)


def _png_bytes(rgb: np.ndarray | None) -> bytes:
    import cv2

    if rgb is None:
        raise ValueError("no frame rendered")
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return bytes(buffer.tobytes())
