"""Scenes and cameras shared by the splat benchmarks (not product code)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from render.assets import PinholeCamera
from render.camera_poses import focal_for_fov, look_at_camera
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
    return PinholeCamera(world_to_camera=np.eye(4), fx=f, fy=f, cx=width / 2, cy=height / 2, width=width, height=height)


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
    return SplatModel(positions=positions.to(device), scales=scales.to(device), quats=quats.to(device),
                      opacities=opacities.to(device), sh=sh.to(device), source=f"synthetic:{n}",
                      source_format="synthetic")


def stage_camera(width: int = 1920, height: int = 1080, vertical_fov_deg: float = 40.0) -> PinholeCamera:
    """A film camera in the demo volume: 1.7 m high, 1.5 m behind centre, looking at the main wall (+y)."""
    eye, target = np.array([0.0, -1.5, 1.7]), np.array([0.0, 10.0, 1.9])
    return look_at_camera(eye, target, np.array([0.0, 0.0, 1.0]), width=width, height=height,
                          vertical_fov_deg=vertical_fov_deg)


@dataclass(frozen=True, kw_only=True)
class NodeTile:
    """One render node's part of a film camera's inner view on a stage (from ``vpstage.frustum``)."""

    label: str
    camera: PinholeCamera
    """The inner window as a pinhole (camera image size grown by the overscan)."""
    rect: tuple[int, int, int, int]
    """The node's launch rectangle: every bilinear tap of its inner pixels' UV window."""
    crop: OrientedBox
    """The node's DoD crop in the scene frame."""
    inner_pixels: int

    @property
    def fraction(self) -> float:
        """Share of the pinhole image the rectangle covers."""
        x0, y0, x1, y1 = self.rect
        return (x1 - x0) * (y1 - y0) / (self.camera.width * self.camera.height)


DEMO_STAGE = Path(__file__).resolve().parents[1] / "configs" / "stages" / "demo.yaml"
SENSOR_MM = (24.88, 13.99)
# (label, eye, pan, tilt, roll, focal mm) in the demo volume's stage frame (z up, main wall +y)
DEMO_SHOTS = [
    ("wide 14mm", (0.0, -1.0, 1.6), 0.0, 15.0, 0.0, 14.0),
    ("seam 24mm", (0.5, -1.0, 1.6), -30.0, 10.0, 0.0, 24.0),
    ("normal 35mm", (0.0, -1.5, 1.7), 0.0, 5.0, 0.0, 35.0),
]


def demo_node_tiles(scene_bounds: OrientedBox | None, width: int = 1920, height: int = 1080) -> list[NodeTile]:
    """Every node with inner pixels, for each of ``DEMO_SHOTS`` on the demo stage, 10 % overscan."""
    from vpstage.frustum import FrustumSettings, StageFrustum
    from vpstage.stage import Stage
    from vpstage.tracking.camera import CameraState

    stage = Stage.open(DEMO_STAGE)
    frusta = StageFrustum(stage)
    settings = FrustumSettings.uniform(10.0, soft_edge_pct=5.0)
    tiles = []
    for label, eye, pan, tilt, roll, focal in DEMO_SHOTS:
        state = CameraState.from_pan_tilt_roll(eye, pan, tilt, roll, focal, *SENSOR_MM, image_width=width,
                                               image_height=height)
        for node, nf in frusta.nodes(state, settings, scene_bounds).items():
            pinhole = nf.pinhole()
            if nf.dod is None or pinhole.rect is None:
                continue
            k = pinhole.intrinsics
            camera = PinholeCamera(world_to_camera=pinhole.world_to_camera, fx=k.fx, fy=k.fy, cx=k.cx, cy=k.cy,
                                   width=k.width, height=k.height)
            tiles.append(NodeTile(label=f"{label} {node}", camera=camera, rect=pinhole.rect, crop=nf.dod.box,
                                  inner_pixels=nf.inner_pixels))
            if len(nf.canvases) > 1:  # the engine renders canvas by canvas, each with its own crop
                tiles.extend(t for t in _canvas_tiles(f"{label} {node}", nf, pinhole, camera) if t.rect != pinhole.rect)
    return tiles


def _canvas_tiles(label: str, nf: Any, pinhole: Any, camera: PinholeCamera) -> list[NodeTile]:
    xl, xr, yt, yb = nf.frustum.window
    tiles = []
    for name, canvas in nf.canvases.items():
        crop = nf.canvas_crop(name)
        if crop is None or canvas.image_bounds is None:
            continue
        x0, x1, y0, y1 = canvas.image_bounds.window
        uv = ((x0 - xl) / (xr - xl), (y0 - yt) / (yb - yt), (x1 - xl) / (xr - xl), (y1 - yt) / (yb - yt))
        tiles.append(NodeTile(label=f"{label}/{name}", camera=camera, rect=pinhole.rect_for(uv), crop=crop.box,
                              inner_pixels=canvas.inner_pixels))
    return tiles
