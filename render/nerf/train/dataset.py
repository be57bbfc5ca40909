"""Posed image sets in instant-ngp / nerfstudio ``transforms.json`` form.

Global intrinsics (``fl_x``/``fl_y`` or ``camera_angle_x``/``camera_angle_y``, ``cx``, ``cy``,
``w``, ``h``, OpenCV distortion ``k1 k2 p1 p2``) may be overridden per frame (nerfstudio). Frame
matrices are OpenGL camera-to-world in the file's world frame, which becomes the asset frame.
``aabb_scale``, ``scale`` and ``offset`` set instant-ngp's normalisation (defaults 1, 0.33 and
(0.5, 0.5, 0.5)). Frames whose image file is missing are skipped with one ``DatasetWarning``.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from render.nerf.conventions import NGP_DEFAULT_OFFSET, NGP_DEFAULT_SCALE, OPENGL_TO_OPENCV

DISTORTION_KEYS = ("k1", "k2", "p1", "p2")
UNDISTORT_ITERATIONS = 10


class DatasetError(ValueError):
    """A transforms.json that cannot be used; the message names the file and the field."""


class DatasetWarning(UserWarning):
    """Something in a dataset was skipped (for example frames whose images are missing)."""


@dataclass(frozen=True, kw_only=True)
class Frame:
    """One posed image: OpenGL camera-to-world (asset frame) and OpenCV intrinsics in pixels."""

    image_path: Path
    file_path: str
    """As written in transforms.json."""
    c2w: np.ndarray
    """(4, 4) float64, OpenGL camera axes (x right, y up, z back)."""
    fl_x: float
    fl_y: float
    cx: float
    cy: float
    w: int
    h: int
    distortion: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def c2w_opencv(self) -> np.ndarray:
        return self.c2w @ OPENGL_TO_OPENCV

    def scaled(self, factor: float) -> Frame:
        """The same camera for an image resized by ``factor`` (pixel centres preserved)."""
        w, h = max(1, round(self.w * factor)), max(1, round(self.h * factor))
        sx, sy = w / self.w, h / self.h
        return Frame(image_path=self.image_path, file_path=self.file_path, c2w=self.c2w, fl_x=self.fl_x * sx,
                     fl_y=self.fl_y * sy, cx=self.cx * sx, cy=self.cy * sy, w=w, h=h, distortion=self.distortion)

    def to_json(self) -> dict[str, Any]:
        """transforms.json-style record (kept in the asset's metadata for snapshot export)."""
        return {"file_path": self.file_path, "transform_matrix": self.c2w.tolist(), "fl_x": self.fl_x,
                "fl_y": self.fl_y, "cx": self.cx, "cy": self.cy, "w": self.w, "h": self.h,
                **dict(zip(DISTORTION_KEYS, self.distortion, strict=True))}


@dataclass(kw_only=True)
class PosedImageSet:
    source: Path
    frames: list[Frame]
    aabb_scale: int = 1
    scale: float = NGP_DEFAULT_SCALE
    offset: tuple[float, float, float] = NGP_DEFAULT_OFFSET
    missing: list[str] = field(default_factory=list)


def _number(data: dict[str, Any], key: str, where: str) -> float | None:
    if key not in data:
        return None
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DatasetError(f"{where}: '{key}' must be a finite number, got {value!r}")
    return float(value)


def _intrinsics(data: dict[str, Any], base: dict[str, float], where: str) -> dict[str, float]:
    out = dict(base)
    for key in ("w", "h", "fl_x", "fl_y", "cx", "cy", "camera_angle_x", "camera_angle_y", *DISTORTION_KEYS):
        value = _number(data, key, where)
        if value is not None:
            out[key] = value
    model = data.get("camera_model", "OPENCV")
    if model not in ("OPENCV", "PINHOLE", "SIMPLE_PINHOLE"):
        raise DatasetError(f"{where}: camera_model {model!r} is not supported (OPENCV distortion only)")
    return out


def _image_size(path: Path) -> tuple[int, int]:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DatasetError(f"{path}: cannot decode image")
    return image.shape[1], image.shape[0]


def _make_frame(record: dict[str, Any], intr: dict[str, float], image_path: Path, where: str) -> Frame:
    matrix = np.asarray(record.get("transform_matrix"), dtype=np.float64)
    if matrix.shape not in ((4, 4), (3, 4)) or not np.all(np.isfinite(matrix)):
        raise DatasetError(f"{where}: transform_matrix must be a finite 4x4 (or 3x4) matrix")
    c2w = np.eye(4)
    c2w[: matrix.shape[0]] = matrix
    if "w" not in intr or "h" not in intr:
        intr["w"], intr["h"] = _image_size(image_path)
    w, h = intr["w"], intr["h"]
    fl_x = intr.get("fl_x")
    if fl_x is None and "camera_angle_x" in intr:
        fl_x = 0.5 * w / math.tan(0.5 * intr["camera_angle_x"])
    fl_y = intr.get("fl_y")
    if fl_y is None and "camera_angle_y" in intr:
        fl_y = 0.5 * h / math.tan(0.5 * intr["camera_angle_y"])
    if fl_x is None and fl_y is None:
        raise DatasetError(f"{where}: no focal length (fl_x / fl_y or camera_angle_x / camera_angle_y)")
    fl_x = fl_x if fl_x is not None else fl_y
    fl_y = fl_y if fl_y is not None else fl_x
    dist = tuple(float(intr.get(k, 0.0)) for k in DISTORTION_KEYS)
    return Frame(image_path=image_path, file_path=str(record.get("file_path", "")), c2w=c2w,
                 fl_x=float(fl_x), fl_y=float(fl_y),  # type: ignore[arg-type]
                 cx=float(intr.get("cx", w / 2)), cy=float(intr.get("cy", h / 2)), w=int(w), h=int(h),
                 distortion=dist)  # type: ignore[arg-type]


def _resolve_image(root: Path, file_path: str) -> Path | None:
    candidate = root / file_path
    if candidate.is_file():
        return candidate
    for ext in (".png", ".jpg", ".jpeg", ".JPG", ".PNG"):  # instant-ngp / Blender files omit the suffix
        with_ext = candidate.with_name(candidate.name + ext)
        if with_ext.is_file():
            return with_ext
    return None


def load_transforms(path: str | Path) -> PosedImageSet:
    """Parse ``transforms.json`` (or a directory holding it); images are checked for existence, not read."""
    p = Path(path)
    if p.is_dir():
        p = p / "transforms.json"
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError(f"{p}: cannot read ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{p}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    records = data.get("frames")
    if not isinstance(records, list) or not records:
        raise DatasetError(f"{p}: 'frames' must be a non-empty list")
    base = _intrinsics(data, {}, str(p))
    frames, missing = [], []
    for i, record in enumerate(records):
        where = f"{p}: frames[{i}]"
        if not isinstance(record, dict) or "file_path" not in record:
            raise DatasetError(f"{where}: each frame needs a 'file_path'")
        image = _resolve_image(p.parent, str(record["file_path"]))
        if image is None:
            missing.append(str(record["file_path"]))
            continue
        frames.append(_make_frame(record, _intrinsics(record, base, where), image, where))
    if missing:
        warnings.warn(f"{p}: skipped {len(missing)} of {len(records)} frames whose images are missing "
                      f"(first: {missing[0]})", DatasetWarning, stacklevel=2)
    if not frames:
        raise DatasetError(f"{p}: none of the {len(records)} frames has an image")
    aabb_scale = int(data.get("aabb_scale", 1))
    if aabb_scale < 1 or aabb_scale > 128 or aabb_scale & (aabb_scale - 1):
        raise DatasetError(f"{p}: aabb_scale must be a power of two in 1..128, got {aabb_scale}")
    offset = data.get("offset", NGP_DEFAULT_OFFSET)
    return PosedImageSet(source=p, frames=frames, aabb_scale=aabb_scale,
                         scale=float(data.get("scale", NGP_DEFAULT_SCALE)),
                         offset=(float(offset[0]), float(offset[1]), float(offset[2])), missing=missing)


def load_image(frame: Frame) -> np.ndarray:
    """(h, w, 4) float32 RGBA in 0..1 at the frame's resolution (alpha 1 when the file has none)."""
    image = cv2.imread(str(frame.image_path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DatasetError(f"{frame.image_path}: cannot decode image")
    scale = 65535.0 if image.dtype == np.uint16 else 255.0
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    conversion = cv2.COLOR_BGR2RGBA if image.shape[2] == 3 else cv2.COLOR_BGRA2RGBA
    image = cv2.cvtColor(image, conversion)
    if (image.shape[1], image.shape[0]) != (frame.w, frame.h):
        image = cv2.resize(image, (frame.w, frame.h), interpolation=cv2.INTER_AREA)
    return image.astype(np.float32) / scale


def undistort(xd: torch.Tensor, yd: torch.Tensor, dist: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Invert OpenCV's radial-tangential model (k1, k2, p1, p2) on normalised image coordinates.

    ``dist`` (N, 4) or (4,). Fixed-point iteration, as instant-ngp's iterative undistortion does.
    """
    k1, k2, p1, p2 = dist.unbind(-1)
    x, y = xd.clone(), yd.clone()
    for _ in range(UNDISTORT_ITERATIONS):
        r2 = x * x + y * y
        radial = 1.0 + r2 * (k1 + r2 * k2)
        dx = 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
        dy = p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
        x = (xd - dx) / radial
        y = (yd - dy) / radial
    return x, y


def distort(x: torch.Tensor, y: torch.Tensor, dist: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """OpenCV's forward model (used by tests of :func:`undistort`)."""
    k1, k2, p1, p2 = dist.unbind(-1)
    r2 = x * x + y * y
    radial = 1.0 + r2 * (k1 + r2 * k2)
    return (x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x),
            y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y)
