"""The procedural demo scene rehearsal mode renders: terrain, trees, rocks and a sky dome of splats.

Asset frame: the stage frame of the demo volume — metres, right-handed, **Z up**, origin on the
floor at the centre of the LED volume. The virtual ground continues the stage floor at z = 0 inside
a flat 7 m radius (the 4.5 m volume sits in a clearing), rolls into hills further out, and a
90 m sky dome closes the view. Trees stand from 7 m outwards and rocks from 6 m, so a camera about
1.7 m high inside the volume sees parallax through every wall.

About 300,000 splats, SH degree 0, generated from a fixed seed in about a second on a CPU and
cached per process (the same seed always gives the same splats).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from render.splat.asset import SplatAsset
from render.splat.model import SH_C0, AssetFrame, SplatModel

Arrays = dict[str, np.ndarray]
DEMO_SEED = 20240601
CLEARING_RADIUS = 7.0
SKY_RADIUS = 90.0


def terrain_height(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ground height (m): flat inside the clearing, rolling hills rising towards the horizon."""
    r = np.hypot(x, y)
    t = np.clip((r - CLEARING_RADIUS) / 25.0, 0.0, 1.0)
    ramp = t * t * (3.0 - 2.0 * t)
    hills = (1.3 * np.sin(0.11 * x + 0.7) * np.cos(0.09 * y - 0.3) + 0.6 * np.sin(0.23 * x - 0.17 * y)
             + 0.35 * np.cos(0.41 * y + 0.29 * x) + 1.5)
    return np.asarray(ramp * hills * (1.0 + 0.06 * np.clip(r - 30.0, 0.0, None)), dtype=np.float64)


def _terrain_normals(x: np.ndarray, y: np.ndarray, step: float = 0.05) -> np.ndarray:
    dx = (terrain_height(x + step, y) - terrain_height(x - step, y)) / (2 * step)
    dy = (terrain_height(x, y + step) - terrain_height(x, y - step)) / (2 * step)
    n = np.stack([-dx, -dy, np.ones_like(x)], axis=1)
    return np.asarray(n / np.linalg.norm(n, axis=1, keepdims=True), dtype=np.float64)


def quats_aligning_z(normals: np.ndarray) -> np.ndarray:
    """Unit quaternions (w, x, y, z) rotating +z onto each unit normal (N, 3)."""
    w = 1.0 + normals[:, 2]
    q = np.stack([w, -normals[:, 1], normals[:, 0], np.zeros_like(w)], axis=1)  # cross(z, n) = (-ny, nx, 0)
    flipped = w < 1e-6  # n = -z: any half turn about a horizontal axis
    q[flipped] = [0.0, 1.0, 0.0, 0.0]
    return np.asarray(q / np.linalg.norm(q, axis=1, keepdims=True), dtype=np.float64)


def _discs(positions: np.ndarray, normals: np.ndarray, radius: np.ndarray, thickness: float,
           colours: np.ndarray, opacity: float) -> Arrays:
    n = positions.shape[0]
    scales = np.stack([radius, radius, np.full(n, thickness)], axis=1)
    return {"positions": positions, "scales": scales, "quats": quats_aligning_z(normals),
            "opacities": np.full(n, opacity), "colours": colours}


def _terrain(rng: np.random.Generator, count: int) -> Arrays:
    r0, r1 = 0.5, 75.0
    r = r0 * (r1 / r0) ** rng.random(count)  # log-uniform: dense near the stage, sparse far away
    theta = rng.uniform(0.0, 2.0 * math.pi, count)
    x, y = r * np.cos(theta), r * np.sin(theta)
    spacing = r * math.sqrt(2.0 * math.pi * math.log(r1 / r0) / count)
    positions = np.stack([x, y, terrain_height(x, y)], axis=1)
    grass = np.array([0.28, 0.42, 0.16]) + rng.normal(0.0, 0.04, (count, 3))
    dirt = np.array([0.45, 0.36, 0.25]) + rng.normal(0.0, 0.03, (count, 3))
    path = np.abs(y - 2.0 * np.sin(x / 6.0)) < 1.2  # a dirt track crossing the clearing
    shade = 0.85 + 0.3 * rng.random((count, 1))
    colours = np.where((path & (x > 0))[:, None], dirt, grass * shade)
    return _discs(positions, _terrain_normals(x, y), 0.75 * spacing, 0.02, colours, 0.98)


def _sky(count: int) -> Arrays:
    # Fibonacci points on the sphere, kept above 8 degrees below the horizon
    total = math.ceil(count / 0.57)  # the kept cap z > -0.14 is 57 % of the sphere
    i = np.arange(total)
    z = 1.0 - (i + 0.5) / total * 2.0
    keep = z > -0.14
    z = z[keep][:count]
    theta = (math.pi * (3.0 - math.sqrt(5.0)) * i[keep])[:count]
    ring = np.sqrt(1.0 - z * z)
    normals = np.stack([ring * np.cos(theta), ring * np.sin(theta), z], axis=1)
    elevation = np.clip(z, 0.0, 1.0)[:, None]
    horizon, zenith = np.array([0.80, 0.86, 0.92]), np.array([0.22, 0.42, 0.78])
    colours = horizon + (zenith - horizon) * np.sqrt(elevation)
    sun = np.array([0.6, -0.5, 0.62]) / np.linalg.norm([0.6, -0.5, 0.62])
    glow = np.clip(normals @ sun, 0.0, 1.0)[:, None] ** 24
    colours = np.clip(colours + glow * np.array([0.9, 0.7, 0.4]), 0.0, 1.0)
    spacing = SKY_RADIUS * math.sqrt(4.0 * math.pi * 0.57 / count)
    return _discs(normals * SKY_RADIUS, -normals, np.full(z.shape[0], 0.9 * spacing), 0.2, colours, 1.0)


def _placements(rng: np.random.Generator, count: int, r_min: float, r_max: float) -> np.ndarray:
    r = np.sqrt(rng.uniform(r_min * r_min, r_max * r_max, count))
    theta = rng.uniform(0.0, 2.0 * math.pi, count)
    x, y = r * np.cos(theta), r * np.sin(theta)
    return np.stack([x, y, terrain_height(x, y)], axis=1)


def _blobs(rng: np.random.Generator, centres: np.ndarray, radii: np.ndarray, per_blob: int,
           surface: bool) -> tuple[np.ndarray, np.ndarray]:
    """Points (per_blob per centre) on (surface) or in ellipsoids with (N, 3) radii; with owner ids."""
    owner = np.repeat(np.arange(centres.shape[0]), per_blob)
    d = rng.normal(size=(owner.shape[0], 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    depth = 1.0 if surface else rng.random(owner.shape[0])[:, None] ** (1.0 / 3.0)
    wobble = 1.0 + 0.15 * np.sin(5.0 * d[:, :1] + 3.0 * d[:, 1:2] + owner[:, None])
    return centres[owner] + d * radii[owner] * depth * wobble, owner


def _trees(rng: np.random.Generator, count: int, per_tree: int) -> Arrays:
    """Trunks (a few splats along a cylinder) under leafy crowns: splats on an ellipsoid shell."""
    bases = _placements(rng, count, CLEARING_RADIUS + 1.5, 45.0)
    height = rng.uniform(3.0, 6.5, count)
    crown = np.stack([height * 0.26, height * 0.26, height * 0.32], axis=1) * rng.uniform(0.8, 1.2, (count, 1))
    n_trunk = per_tree // 10
    trunk_owner = np.repeat(np.arange(count), n_trunk)
    t, angle = rng.random(trunk_owner.shape[0]), rng.uniform(0, 2 * math.pi, trunk_owner.shape[0])
    radius = 0.045 * height[trunk_owner]
    trunk = bases[trunk_owner] + np.stack([radius * np.cos(angle), radius * np.sin(angle),
                                           t * height[trunk_owner] * 0.7], axis=1)
    leaf_centres = bases + np.stack([np.zeros(count), np.zeros(count), height * 0.68], axis=1)
    leaves, owner = _blobs(rng, leaf_centres, crown, per_tree - n_trunk, surface=True)
    leaf_size = 0.7 * np.sqrt(4.0 * math.pi * (crown[owner] ** 2).mean(axis=1) / (per_tree - n_trunk))
    hue = rng.uniform(0.0, 1.0, count)[owner, None]
    lit = 0.75 + 0.35 * np.clip((leaves[:, 2:3] - leaf_centres[owner, 2:3]) / crown[owner, 2:3], -1, 1)
    leaf_colour = ((np.array([0.10, 0.30, 0.08]) * (1 - hue) + np.array([0.26, 0.42, 0.10]) * hue)
                   * lit * rng.uniform(0.75, 1.2, (leaves.shape[0], 1)))
    trunk_colour = np.array([0.30, 0.21, 0.13]) * rng.uniform(0.8, 1.2, (trunk.shape[0], 1))
    positions = np.concatenate([trunk, leaves])
    sizes = np.concatenate([0.7 * radius, leaf_size])
    n = positions.shape[0]
    quats = rng.normal(size=(n, 4))
    return {"positions": positions, "scales": sizes[:, None] * rng.uniform(0.5, 1.3, (n, 3)),
            "quats": quats / np.linalg.norm(quats, axis=1, keepdims=True),
            "opacities": rng.uniform(0.8, 1.0, n), "colours": np.concatenate([trunk_colour, leaf_colour])}


def _rocks(rng: np.random.Generator, count: int, per_rock: int) -> Arrays:
    bases = _placements(rng, count, 6.0, 35.0)
    radii = rng.uniform(0.3, 1.4, (count, 1)) * rng.uniform(0.6, 1.0, (count, 3))
    points, owner = _blobs(rng, bases, radii, per_rock, surface=True)
    normals = (points - bases[owner]) / np.linalg.norm(points - bases[owner], axis=1, keepdims=True)
    spacing = np.sqrt(4.0 * math.pi * (radii[owner] ** 2).mean(axis=1) / per_rock)
    grey = rng.uniform(0.35, 0.55, (count, 1))[owner] * rng.uniform(0.85, 1.15, (points.shape[0], 1))
    colours = grey * np.array([1.0, 0.97, 0.92])
    return _discs(points, normals, 0.8 * spacing, 0.02, colours, 1.0)


@functools.cache
def _demo_arrays(seed: int) -> Arrays:
    rng = np.random.default_rng(seed)
    parts = [_terrain(rng, 150_000), _sky(40_000), _trees(rng, 70, 1_400), _rocks(rng, 45, 420)]
    arrays = {key: np.concatenate([p[key] for p in parts]).astype(np.float32) for key in parts[0]}
    for value in arrays.values():
        value.flags.writeable = False  # shared by every model built from the cache (they copy)
    return arrays


def demo_model(seed: int = DEMO_SEED, device: str = "cpu") -> SplatModel:
    """The demo environment as a splat model in the stage frame (see the module docstring)."""
    arrays = _demo_arrays(seed)
    dc = (arrays["colours"] - 0.5) / SH_C0
    frame = AssetFrame("stage", "z", "procedural demo: metres, Z up, origin on the floor at the volume centre")
    return SplatModel.from_numpy(arrays["positions"], arrays["scales"], arrays["quats"], arrays["opacities"],
                                 dc[:, None, :], frame=frame, source="procedural:demo", source_format="procedural",
                                 device=device)


def load_demo_scene(path: str, device: str = "cpu") -> SplatAsset:
    """Loader for ``procedural:demo`` (registered in :data:`render.assets.LOADERS`)."""
    return SplatAsset(demo_model(device=device), name=path)
