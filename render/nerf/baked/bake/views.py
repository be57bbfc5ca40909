"""Where the distillation looks from: the source's training cameras and random views around the content.

All in the asset frame. The training cameras come from the source's metadata (the
``transforms.json`` records a trained ``.nerf`` keeps). "Around the content" means eyes at the
training cameras' typical distance from the content centre, in directions near a random training
camera's (jittered by about 30 degrees, so views between and beyond the capture are covered), or
uniformly on the sphere when the source has no cameras; each orbit ray aims at a random point of
the content box, each evaluation camera at its centre.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from render.assets import PinholeCamera
from render.nerf.train.camera_rays import FrameCameras
from render.nerf.train.dataset import DISTORTION_KEYS, Frame
from vpstage.geometry.rotations import look_at_rotation

DIRECTION_JITTER = 0.5
"""Std of the Gaussian added to a unit training direction for orbit eyes (about 30 degrees)."""
DEFAULT_DISTANCE_RADII = 2.5
"""Eye distance in content radii when the source has no training cameras."""


def frame_from_record(record: dict[str, Any]) -> Frame:
    """A ``Frame`` from a transforms.json-style record (the image itself is not needed)."""
    dist = tuple(float(record.get(k, 0.0)) for k in DISTORTION_KEYS)
    return Frame(image_path=Path(str(record.get("file_path", ""))), file_path=str(record.get("file_path", "")),
                 c2w=np.asarray(record["transform_matrix"], dtype=np.float64).reshape(4, 4),
                 fl_x=float(record["fl_x"]), fl_y=float(record["fl_y"]), cx=float(record["cx"]),
                 cy=float(record["cy"]), w=int(record["w"]), h=int(record["h"]),
                 distortion=dist)  # type: ignore[arg-type]


def training_frames(metadata: dict[str, Any]) -> list[Frame]:
    """The source's training cameras (records that cannot be read are skipped)."""
    frames = []
    for record in metadata.get("frames", []):
        try:
            frames.append(frame_from_record(record))
        except (KeyError, TypeError, ValueError):
            continue
    return frames


@dataclass(frozen=True, kw_only=True)
class ViewSphere:
    """Content box and eye distribution (asset frame)."""

    lo: np.ndarray
    hi: np.ndarray
    distance: float
    """Eye distance from the content centre."""
    directions: np.ndarray
    """(K, 3) unit directions from the centre to the training eyes (K = 0: none)."""
    up: np.ndarray
    focal_per_width: float
    """Focal length over image width of the evaluation cameras."""

    @property
    def center(self) -> np.ndarray:
        return np.asarray((self.lo + self.hi) / 2)

    @staticmethod
    def around(lo: np.ndarray, hi: np.ndarray, frames: list[Frame]) -> ViewSphere:
        center = (lo + hi) / 2
        radius = max(float(np.linalg.norm(hi - lo)) / 2, 1e-6)
        if not frames:
            return ViewSphere(lo=lo, hi=hi, distance=DEFAULT_DISTANCE_RADII * radius, directions=np.zeros((0, 3)),
                              up=np.array([0.0, 0.0, 1.0]), focal_per_width=0.9)
        eyes = np.stack([f.c2w[:3, 3] for f in frames]) - center
        dist = np.linalg.norm(eyes, axis=1)
        ups = np.stack([f.c2w[:3, 1] for f in frames]).mean(axis=0)
        up = ups / max(float(np.linalg.norm(ups)), 1e-9)
        focal = float(np.median([f.fl_x / f.w for f in frames]))
        directions = eyes / np.maximum(dist[:, None], 1e-9)
        return ViewSphere(lo=lo, hi=hi, distance=float(np.median(dist)), directions=directions, up=up,
                          focal_per_width=focal)

    def eyes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, 3) random eye positions."""
        if len(self.directions):
            d = self.directions[rng.integers(0, len(self.directions), n)] + DIRECTION_JITTER * rng.normal(size=(n, 3))
        else:
            d = rng.normal(size=(n, 3))
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
        return np.asarray(self.center + d * self.distance * rng.uniform(0.8, 1.2, size=(n, 1)))

    def orbit_rays(self, n: int, rng: np.random.Generator, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """n rays from random eyes towards random points of the content box: origins, unit dirs (n, 3)."""
        eyes = self.eyes(n, rng)
        targets = self.lo + rng.uniform(size=(n, 3)) * (self.hi - self.lo)
        d = targets - eyes
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
        return (torch.as_tensor(eyes, dtype=torch.float32, device=device),
                torch.as_tensor(d, dtype=torch.float32, device=device))

    def cameras(self, n: int, width: int, height: int, rng: np.random.Generator) -> list[PinholeCamera]:
        """n pinhole cameras at random eyes looking at the content centre."""
        cams = []
        for eye in self.eyes(n, rng):
            c2w = np.eye(4)
            c2w[:3, :3] = look_at_rotation(eye, self.center, self.up)
            c2w[:3, 3] = eye
            f = self.focal_per_width * width
            w2c = np.asarray(np.linalg.inv(c2w), dtype=np.float64)
            cams.append(PinholeCamera(world_to_camera=w2c, fx=f, fy=f, cx=width / 2, cy=height / 2, width=width,
                                      height=height))
        return cams


def training_rays(cameras: FrameCameras, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n rays through random points of random training images (with their distortion)."""
    dev = cameras.c2w.device
    index = torch.randint(0, len(cameras), (n,), device=dev, generator=generator)
    size = cameras.size[index].float()
    px = torch.rand(n, device=dev, generator=generator) * size[:, 0]
    py = torch.rand(n, device=dev, generator=generator) * size[:, 1]
    return cameras.rays(index, px, py)
