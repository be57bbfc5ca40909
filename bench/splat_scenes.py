"""Scenes and cameras shared by the splat benchmarks (not product code)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch

from render.assets import PinholeCamera
from render.cameras import focal_for_fov, look_at_camera
from render.splat.io import load_splat
from render.splat.model import SplatModel
from vpstage.geometry import OrientedBox

RESOLUTIONS = {"360p": (640, 360), "1080p": (1920, 1080), "4K": (3840, 2160)}
DATA = Path(os.environ.get("VPSTAGE_SPLAT_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "splats"))


def load_biker(device: str = "cpu") -> SplatModel:
    """biker.spz, or biker.compressed.ply (the same splats) where only that one is available."""
    for name in ("biker.spz", "biker.compressed.ply"):
        if (DATA / name).is_file():
            return load_splat(DATA / name, device)
    raise FileNotFoundError(f"no biker splat in {DATA} (set VPSTAGE_SPLAT_DATA)")


def biker_camera(width: int, height: int) -> PinholeCamera:
    """Three-quarter view of the rider, head to boots in frame (RDF frame, up is -y)."""
    return look_at_camera(np.array([0.8, -2.2, -4.2]), np.array([-0.05, -1.6, 0.03]), np.array([0.0, -1.0, 0.0]),
                          width=width, height=height, vertical_fov_deg=45)


def frontal_camera(width: int, height: int, vertical_fov_deg: float = 50.0) -> PinholeCamera:
    """At the origin looking along +z (asset frame = OpenCV camera frame)."""
    f = focal_for_fov(vertical_fov_deg, height)
    return PinholeCamera(np.eye(4), f, f, width / 2, height / 2, width, height)


def synthetic_scene(n: int, camera: PinholeCamera, *, degree: int = 3, seed: int = 0,
                    device: str = "cpu") -> SplatModel:
    """``n`` random splats filling ``camera``'s frame between 2 and 10 units in front of it.

    Centres are uniform over the image and in depth; sizes log-uniform so that splats cover about
    0.3 to 4 pixels (sigma) at 1080p; random rotations and opacities; SH of ``degree``.
    """
    g = torch.Generator(device="cpu").manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g)

    depth = 2.0 + 8.0 * rand(n)
    u, v = rand(n) * camera.width, rand(n) * camera.height
    x = (u - camera.cx) / camera.fx * depth
    y = (v - camera.cy) / camera.fy * depth
    pose = torch.as_tensor(np.linalg.inv(camera.world_to_camera), dtype=torch.float32)
    positions = torch.stack([x, y, depth], dim=1) @ pose[:3, :3].T + pose[:3, 3]
    scale_base = torch.exp(math.log(0.0015) + rand(n, 1) * math.log(12.0))
    scales = scale_base * (0.5 + rand(n, 3))
    quats = torch.nn.functional.normalize(torch.randn(n, 4, generator=g), dim=1)
    k = (degree + 1) ** 2
    sh = torch.cat([3.0 * rand(n, 1, 3) - 1.5, 0.6 * rand(n, k - 1, 3) - 0.3], dim=1)
    opacities = 0.05 + 0.95 * rand(n)
    return SplatModel(positions.to(device), scales.to(device), quats.to(device), opacities.to(device),
                      sh.to(device), source=f"synthetic:{n}", source_format="synthetic")


def stage_camera(width: int = 1920, height: int = 1080, vertical_fov_deg: float = 40.0) -> PinholeCamera:
    """A film camera in the demo volume: 1.7 m high, 1.5 m behind centre, looking at the main wall (+y)."""
    eye, target = np.array([0.0, -1.5, 1.7]), np.array([0.0, 10.0, 1.9])
    return look_at_camera(eye, target, np.array([0.0, 0.0, 1.0]), width=width, height=height,
                          vertical_fov_deg=vertical_fov_deg)


def window_crop_box(camera: PinholeCamera, rect: tuple[int, int, int, int], near: float, far: float,
                    margin: float = 4.0) -> OrientedBox:
    """The camera-aligned box around the part of ``camera``'s frustum seen through ``rect``, grown by
    ``margin`` (scene units) so splats centred just outside but reaching in are kept.

    Stands in for a node's DoD crop (its inner pixels' frustum, cut to the scene), which the frustum
    module provides in the product.
    """
    x0, y0, x1, y1 = rect
    corners = []
    for depth in (near, far):
        for px, py in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
            corners.append([(px - camera.cx) / camera.fx * depth, (py - camera.cy) / camera.fy * depth, depth])
    local = np.array(corners)
    lo, hi = local.min(axis=0), local.max(axis=0)
    pose = np.linalg.inv(camera.world_to_camera)
    rotation = pose[:3, :3]
    centre_local = (lo + hi) / 2
    return OrientedBox(rotation @ centre_local + pose[:3, 3], rotation, (hi - lo) / 2 + margin)

