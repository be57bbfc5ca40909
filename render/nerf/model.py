"""A trained NeRF: field, occupancy grid, training aabb and the map from the asset frame.

``NerfModel`` is what the snapshot importer, our ``.nerf`` format and the trainer produce, and what
``NerfAsset`` renders. It renders rays given in the asset frame: they are mapped into the
normalised frame (see render/nerf/conventions.py), clipped to the training aabb, the model's own
render box and the caller's crop box, marched and composited there; distances come back in
asset-frame units.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from render.nerf.conventions import similarity_scale
from render.nerf.fields.ngp_field import NgpField
from render.nerf.model_components.marching import Box, MarchParams, clip_rays
from render.nerf.model_components.occupancy import OccupancyGrid
from render.nerf.model_components.renderers import (
    FieldInputs,
    RenderBackend,
    RenderStats,
    RoundSchedule,
    render_normalised,
)
from vpstage.geometry import OrientedBox

DEFAULT_MIN_TRANSMITTANCE = 0.01
"""instant-ngp's ``render_min_transmittance`` default."""


def default_cone_angle(aabb_scale: float) -> float:
    """instant-ngp: cone stepping (1/256) for unbounded-ish scenes (aabb_scale > 1), fixed steps otherwise."""
    return 1.0 / 256.0 if aabb_scale > 1 else 0.0


def hash_frame(h: Any, aabb_min: np.ndarray, aabb_max: np.ndarray, asset_to_field: np.ndarray,
               render_box: OrientedBox | None) -> None:
    """Feed a NeRF's frame (training box, asset -> field map, render box) into the content hash ``h``."""
    h.update(np.asarray([*aabb_min, *aabb_max], dtype=np.float64).tobytes())
    h.update(np.asarray(asset_to_field, dtype=np.float64).tobytes())
    if render_box is not None:
        h.update(np.concatenate([render_box.center, render_box.rotation.ravel(),
                                 render_box.half_extents]).tobytes())


@dataclass
class RayRender:
    """Results for N rays: rgb (N, 3) over the background, alpha (N,), distance (N,) in asset units."""

    rgb: torch.Tensor
    alpha: torch.Tensor
    distance: torch.Tensor
    stats: RenderStats


@dataclass(kw_only=True)
class NerfModel:
    field: NgpField
    grid: OccupancyGrid
    aabb_min: np.ndarray
    """(3,) training aabb minimum, normalised frame."""
    aabb_max: np.ndarray
    asset_to_field: np.ndarray
    """(4, 4) similarity: asset frame -> normalised frame."""
    render_box: OrientedBox | None = None
    """The model's own crop (instant-ngp ``render_aabb``), asset frame; None: the training aabb."""
    cone_angle: float = 1.0 / 256.0
    min_transmittance: float = DEFAULT_MIN_TRANSMITTANCE
    metadata: dict[str, Any] = field(default_factory=dict)
    rounds: RoundSchedule = field(default_factory=RoundSchedule)
    """Samples marched per ray and round while rendering (a speed setting, not saved)."""

    @property
    def device(self) -> torch.device:
        return self.grid.device

    @property
    def aabb_scale(self) -> float:
        return float(np.max(self.aabb_max - self.aabb_min))

    @property
    def scale(self) -> float:
        """Normalised-frame units per asset-frame unit."""
        return similarity_scale(self.asset_to_field)

    def march_params(self) -> MarchParams:
        return MarchParams.for_grid(self.grid.n_cascades, self.grid.resolution, self.cone_angle, self.grid.min_step)

    def to(self, device: torch.device | str) -> NerfModel:
        self.field.to(device)
        self.grid = self.grid.to(device)
        return self

    def field_inputs(self) -> FieldInputs:
        dev = self.device
        lo = torch.as_tensor(self.aabb_min, dtype=torch.float32, device=dev)
        size = torch.as_tensor(self.aabb_max - self.aabb_min, dtype=torch.float32, device=dev)
        return FieldInputs(self.field, lo, size)

    # ------------------------------------------------------------------ frames
    def box_to_field(self, box: OrientedBox) -> OrientedBox:
        return box.transformed(self.asset_to_field)

    def box_to_asset(self, box: OrientedBox) -> OrientedBox:
        return box.transformed(np.linalg.inv(self.asset_to_field))

    def clip_boxes(self, crop: OrientedBox | None) -> list[Box]:
        """The training aabb, the render box and ``crop``, in the normalised frame on the model's device."""
        boxes = [OrientedBox.from_aabb(self.aabb_min, self.aabb_max)]
        for extra in (self.render_box, crop):
            if extra is not None:
                boxes.append(self.box_to_field(extra))
        dev = self.device
        return [Box(torch.as_tensor(b.center, dtype=torch.float32, device=dev),
                    torch.as_tensor(b.rotation, dtype=torch.float32, device=dev),
                    torch.as_tensor(b.half_extents, dtype=torch.float32, device=dev)) for b in boxes]

    def rays_to_field(self, origins: torch.Tensor, dirs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Asset-frame rays (N, 3) -> normalised-frame origins and unit directions (float32)."""
        m = torch.as_tensor(self.asset_to_field, dtype=torch.float32, device=origins.device)
        o = origins.float() @ m[:3, :3].T + m[:3, 3]
        d = dirs.float() @ m[:3, :3].T
        return o, d / d.norm(dim=-1, keepdim=True).clamp(min=1e-12)

    # ------------------------------------------------------------------ rendering
    def render_rays(self, origins: torch.Tensor, dirs: torch.Tensor, backend: RenderBackend,
                    crop: OrientedBox | None = None,
                    background: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> RayRender:
        """Render asset-frame rays (N, 3); ``dirs`` need not be unit length (distances are per unit length)."""
        o, d = self.rays_to_field(origins.to(self.device), dirs.to(self.device))
        length = dirs.to(self.device).float().norm(dim=-1).clamp(min=1e-12)
        t_start, t_end = clip_rays(o, d, self.clip_boxes(crop))
        stats = RenderStats()
        state = render_normalised(self.field_inputs(), self.grid, self.march_params(), o, d, t_start, t_end,
                                  backend, self.min_transmittance, stats, self.rounds)
        alpha = 1.0 - state.transmittance
        bg = torch.tensor(background, dtype=torch.float32, device=o.device)
        rgb = state.rgb + state.transmittance[:, None] * bg
        t_field = torch.where(alpha > 0, state.depth / alpha.clamp(min=1e-12), 0.0)
        distance = t_field / self.scale / length
        return RayRender(rgb.clamp(0.0, 1.0), alpha.clamp(0.0, 1.0), distance, stats)

    # ------------------------------------------------------------------ identity
    def content_hash(self) -> str:
        h = hashlib.sha256()
        h.update(json.dumps(self.field.config.to_json(), sort_keys=True).encode())
        h.update(self.field.flat_params().to(torch.float16).cpu().numpy().tobytes())
        h.update(self.grid.density.to(torch.float16).cpu().numpy().tobytes())
        hash_frame(h, self.aabb_min, self.aabb_max, self.asset_to_field, self.render_box)
        return h.hexdigest()

    def occupied_points(self) -> np.ndarray:
        """(M, 3) asset-frame centres of occupied cells, each region from the finest cascade covering it."""
        points = []
        for m in range(self.grid.n_cascades):
            occ = self.grid.occupied_cells(m)
            centers = self.grid.cell_centers(m)
            if m > 0:  # the centre of this cascade is described by the finer one
                inner = ((centers - 0.5).abs() < 2.0 ** (m - 2)).all(dim=-1)
                occ = occ & ~inner
            points.append(centers[occ])
        pts = torch.cat(points).double().cpu().numpy()
        inv = np.linalg.inv(self.asset_to_field)
        return np.asarray(pts @ inv[:3, :3].T + inv[:3, 3])
