"""The outer picture: a cube map around the outer viewpoint, sampled by each LED's direction.

Outer pixels are lit from a fixed stage point (the project's ``outer_viewpoint``), so what they
show depends only on the scene, the placements and that point. A node renders six 90° pinhole
faces around the viewpoint (stage-frame axes; each asset posed in its own frame by its
placement), composites its assets per face pixel by depth (face z in stage metres), and samples
the faces by the unit stage direction from the viewpoint to every LED pixel.

Only what the node's canvases need is rendered: per face, the pixel rectangle covering the
directions of those canvases' LEDs (most walls need five faces, none of them whole). Faces
carry a ``PAD``-pixel border beyond 90° so bilinear samples at a face edge have neighbours.
The face size follows the finest angular LED pitch seen from the viewpoint, times
``quality.outer_scale`` (0.5 renders the outer picture at half resolution).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from render.assets import PinholeCamera, SceneAsset
from render.cancel import check_cancelled
from render.scene.layers import Layer, composite
from vpstage.frustum.geometry import CanvasGeometry
from vpstage.frustum.rays import scene_rotation, to_scene

PAD = 2
MAX_FACE = 4096
MIN_FACE = 16
Rect = tuple[int, int, int, int]

# OpenCV camera -> stage rotation per face (columns: image right, image down, forward).
_FORWARD_DOWN = [((1, 0, 0), (0, 0, -1)), ((-1, 0, 0), (0, 0, -1)), ((0, 1, 0), (0, 0, -1)),
                 ((0, -1, 0), (0, 0, -1)), ((0, 0, 1), (0, -1, 0)), ((0, 0, -1), (0, 1, 0))]


def _face_rotation(forward: tuple[int, int, int], down: tuple[int, int, int]) -> np.ndarray:
    f, d = np.asarray(forward, dtype=np.float64), np.asarray(down, dtype=np.float64)
    return np.stack([np.cross(d, f), d, f], axis=1)


FACE_ROTATIONS = tuple(_face_rotation(f, d) for f, d in _FORWARD_DOWN)
"""+X, -X, +Y, -Y, +Z, -Z faces (stage frame)."""


def face_size(geometries: Sequence[CanvasGeometry], viewpoint: np.ndarray, outer_scale: float) -> int:
    """Face edge (pixels within 90°) matching the finest angular LED pitch from ``viewpoint``."""
    finest = math.inf
    for geometry in geometries:
        for block in geometry.blocks:
            pitch = np.minimum(np.linalg.norm(block.coef[:, 1], axis=1), np.linalg.norm(block.coef[:, 2], axis=1))
            distance = np.linalg.norm(block.centers - viewpoint, axis=1)
            if len(pitch):
                finest = min(finest, float((pitch / np.maximum(distance, 1e-6)).min()))
    if not math.isfinite(finest):
        return MIN_FACE
    return int(min(MAX_FACE, max(MIN_FACE, math.ceil(2.0 / finest * outer_scale))))


def face_coordinates(directions: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Face index (N,) and continuous pixel coordinates (N,) x, y of unit stage directions (N, 3)."""
    axis = directions.abs().argmax(dim=1)
    negative = torch.gather(directions, 1, axis[:, None])[:, 0] < 0
    face = axis * 2 + negative.to(axis.dtype)
    rotations = torch.as_tensor(np.stack(FACE_ROTATIONS), dtype=directions.dtype, device=directions.device)
    local = torch.einsum("nij,ni->nj", rotations[face], directions)     # R^T d per direction
    half = size / 2.0
    x = local[:, 0] / local[:, 2] * half + half + PAD
    y = local[:, 1] / local[:, 2] * half + half + PAD
    return face, x, y


@dataclass
class CubeMap:
    """Composited outer colour per face: face -> (rect, (h, w, 3) float32)."""

    size: int
    faces: dict[int, tuple[Rect, torch.Tensor]] = field(default_factory=dict)

    @property
    def full(self) -> int:
        return self.size + 2 * PAD

    def needed(self, face: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> dict[int, Rect]:
        """Per face, the rectangle holding every bilinear tap of these samples."""
        out = {}
        for f in torch.unique(face).tolist():
            sel = face == f
            x0 = max(0, math.floor(float(x[sel].min()) - 0.5))
            y0 = max(0, math.floor(float(y[sel].min()) - 0.5))
            x1 = min(self.full, math.floor(float(x[sel].max()) - 0.5) + 2)
            y1 = min(self.full, math.floor(float(y[sel].max()) - 0.5) + 2)
            out[int(f)] = (x0, y0, max(x0 + 1, x1), max(y0 + 1, y1))
        return out

    def missing(self, wanted: Mapping[int, Rect]) -> dict[int, Rect]:
        """Faces whose rendered rectangle does not hold the wanted one, with the union to render."""
        out = {}
        for f, (x0, y0, x1, y1) in wanted.items():
            have = self.faces.get(f)
            if have is None:
                out[f] = (x0, y0, x1, y1)
                continue
            hx0, hy0, hx1, hy1 = have[0]
            if not (hx0 <= x0 and hy0 <= y0 and x1 <= hx1 and y1 <= hy1):
                out[f] = (min(x0, hx0), min(y0, hy0), max(x1, hx1), max(y1, hy1))
        return out

    def sample(self, face: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(N, 3) bilinear colour at face pixel coordinates (every face must hold its samples)."""
        out = torch.zeros(face.shape[0], 3, device=x.device)
        for f, ((x0, y0, x1, y1), image) in self.faces.items():
            sel = face == f
            if not bool(sel.any()):
                continue
            gx = (x[sel] - x0) / (x1 - x0) * 2 - 1
            gy = (y[sel] - y0) / (y1 - y0) * 2 - 1
            grid = torch.stack([gx, gy], dim=1)[None, None]
            taps = F.grid_sample(image.permute(2, 0, 1)[None], grid, mode="bilinear", padding_mode="border",
                                 align_corners=False)
            out[sel] = taps[0, :, 0].T
        return out


def face_camera(face: int, size: int, viewpoint: np.ndarray, stage_to_scene: np.ndarray) -> PinholeCamera:
    """The pinhole of one face in the asset frame of ``stage_to_scene``."""
    rotation = scene_rotation(stage_to_scene) @ FACE_ROTATIONS[face]
    eye = to_scene(stage_to_scene, viewpoint)
    view = np.eye(4)
    view[:3, :3] = rotation.T
    view[:3, 3] = -rotation.T @ eye
    half = size / 2.0
    full = size + 2 * PAD
    return PinholeCamera(world_to_camera=view, fx=half, fy=half, cx=half + PAD, cy=half + PAD, width=full, height=full)


def render_face(assets: Sequence[tuple[SceneAsset, np.ndarray, float]], face: int, rect: Rect, size: int,
                viewpoint: np.ndarray, background: torch.Tensor) -> torch.Tensor:
    """(h, w, 3) one face's rectangle with every (asset, stage_to_scene, scale) composited by depth."""
    x0, y0, x1, y1 = rect
    count = (x1 - x0) * (y1 - y0)
    layers = []
    for asset, matrix, scale in assets:
        check_cancelled()
        out = asset.render_pinhole(face_camera(face, size, viewpoint, matrix), rect=rect,
                                   background=(0.0, 0.0, 0.0))
        device = background.device
        layers.append(Layer(out.rgb.to(device).reshape(count, 3), out.alpha.to(device).reshape(count),
                            out.depth.to(device).reshape(count) / scale))
    return composite(layers, background, count).reshape(y1 - y0, x1 - x0, 3)
