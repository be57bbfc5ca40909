"""A small analytic scene written as a real transforms.json dataset (for training tests).

Two opaque spheres (one coloured by its normal, one flat orange) seen from cameras on a ring
around them; transparent background (RGBA PNGs). Ground truth is exact ray-sphere intersection.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np

SPHERES = (  # centre, radius, flat colour (None: colour by normal)
    (np.array([0.0, 0.0, 0.0]), 0.55, None),
    (np.array([0.45, 0.35, 0.3]), 0.25, np.array([1.0, 0.55, 0.1])),
)


def look_at_opengl(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """OpenGL camera-to-world (x right, y up, looking along -z)."""
    back = eye - target
    back /= np.linalg.norm(back)
    right = np.cross(up, back)
    right /= np.linalg.norm(right)
    true_up = np.cross(back, right)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, true_up, back, eye
    return m


def render_truth(c2w_gl: np.ndarray, fl: float, size: int) -> np.ndarray:
    """(size, size, 4) float RGBA of the spheres from an OpenGL camera."""
    v, u = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5, indexing="ij")
    cam = np.stack([(u - size / 2) / fl, -(v - size / 2) / fl, -np.ones_like(u)], -1)
    d = cam @ c2w_gl[:3, :3].T
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    o = c2w_gl[:3, 3]
    best = np.full(u.shape, np.inf)
    rgba = np.zeros((*u.shape, 4))
    for center, radius, flat in SPHERES:
        oc = o - center
        b = d @ oc
        disc = b * b - (oc @ oc - radius * radius)
        t = -b - np.sqrt(np.maximum(disc, 0))
        hit = (disc > 0) & (t > 0) & (t < best)
        normal = (o + t[..., None] * d - center) / radius
        color = 0.5 + 0.5 * normal if flat is None else np.broadcast_to(flat, normal.shape)
        rgba[hit, :3] = color[hit]
        rgba[hit, 3] = 1.0
        best = np.where(hit, t, best)
    return rgba


def write_scene(root: Path, n_views: int = 24, size: int = 32, missing: int = 0) -> Path:
    """Write images/NNN.png and transforms.json under ``root``; the last ``missing`` images are not written."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    fl = 0.5 * size / math.tan(math.radians(25))
    frames = []
    for i in range(n_views):
        angle = 2 * math.pi * i / n_views
        height = 0.8 * math.sin(3 * angle)
        eye = np.array([2.6 * math.cos(angle), 2.6 * math.sin(angle), height])
        c2w = look_at_opengl(eye, np.zeros(3), np.array([0.0, 0.0, 1.0]))
        name = f"images/{i:03d}.png"
        if i < n_views - missing:
            rgba = render_truth(c2w, fl, size)
            bgra = (np.clip(rgba, 0, 1) * 255 + 0.5).astype(np.uint8)[..., [2, 1, 0, 3]]
            cv2.imwrite(str(root / name), bgra)
        frames.append({"file_path": name, "transform_matrix": c2w.tolist()})
    doc = {"fl_x": fl, "fl_y": fl, "cx": size / 2, "cy": size / 2, "w": size, "h": size,
           "aabb_scale": 1, "scale": 0.5, "offset": [0.5, 0.5, 0.5], "frames": frames}
    (root / "transforms.json").write_text(json.dumps(doc))
    return root / "transforms.json"
