"""A baked NeRF: density texture + baked field + the source NeRF's frames, rendering rays.

Rays in the asset frame are mapped to the source's normalised frame (render/nerf/conventions.py),
clipped to the source's training aabb, the texture's box, the model's render box and the caller's
crop, marched through the texture (coarse opacity and hit point), and the rays that hit query the
field once. Outputs: colour over the background, opacity, and the hit distance in asset units.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from render.nerf.baked.config import MarchConfig
from render.nerf.baked.density_texture import DensityTexture
from render.nerf.baked.field import BakedField
from render.nerf.baked.texture_march import TextureHits, march_texture
from render.nerf.conventions import similarity_scale
from render.nerf.model import hash_frame
from render.nerf.model_components.marching import Box, clip_rays
from vpstage.geometry import OrientedBox

QUERY_CHUNK = 1 << 20
"""Rays per field query."""
MARCH_CHUNK = 1 << 21
"""Rays marched together (bounds the per-round sample tensors)."""


@dataclass
class BakedStats:
    live_rays: int = 0
    """Rays that entered the clipped region."""
    samples: int = 0
    """Density-texture lookups."""
    queries: int = 0
    """Field queries (rays with a hit)."""
    rounds: int = 0


@dataclass
class BakedRender:
    """N rays: ``rgb`` (N, 3) over the background, ``alpha`` (N,), ``distance`` (N,) asset units to
    the hit point (0 where alpha is 0)."""

    rgb: torch.Tensor
    alpha: torch.Tensor
    distance: torch.Tensor
    stats: BakedStats


@dataclass(kw_only=True)
class BakedNerfModel:
    texture: DensityTexture
    field: BakedField
    aabb_min: np.ndarray
    """(3,) the source's training aabb, normalised frame."""
    aabb_max: np.ndarray
    asset_to_field: np.ndarray
    """(4, 4) similarity: asset frame -> normalised frame (the source's)."""
    render_box: OrientedBox | None = None
    """The model's own crop (asset frame); None: none."""
    march: MarchConfig = field(default_factory=MarchConfig)
    metadata: dict[str, Any] = field(default_factory=dict)
    accelerate: Literal["auto", "torch", "triton"] = "auto"
    """The texture marcher: the Triton kernel where it runs ("auto"), always ("triton": RuntimeError
    where it cannot), or the torch reference. A speed setting, not saved."""
    _kernel_buffers: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def device(self) -> torch.device:
        return self.texture.device

    @property
    def scale(self) -> float:
        """Normalised-frame units per asset-frame unit."""
        return similarity_scale(self.asset_to_field)

    def to(self, device: torch.device | str) -> BakedNerfModel:
        self.texture = self.texture.to(device)
        self.field.to(device)
        self._kernel_buffers = None
        return self

    def _march_kernel(self) -> Any:
        """The Triton marcher's buffers when it is to be used here, else None."""
        if self.accelerate == "torch":
            return None
        from render.nerf.baked.kernels import march_kernel_unavailable_reason

        reason = march_kernel_unavailable_reason(self.device)
        if reason is not None:
            if self.accelerate == "triton":
                raise RuntimeError(f"Triton texture marcher unavailable: {reason}")
            return None
        if self._kernel_buffers is None:
            from render.nerf.baked.kernels.triton_texture_march import TextureBuffers

            self._kernel_buffers = TextureBuffers(self.texture)
        return self._kernel_buffers

    # ------------------------------------------------------------------ frames
    def box_to_field(self, box: OrientedBox) -> OrientedBox:
        return box.transformed(self.asset_to_field)

    def box_to_asset(self, box: OrientedBox) -> OrientedBox:
        return box.transformed(np.linalg.inv(self.asset_to_field))

    def texture_box_asset(self) -> OrientedBox:
        """The texture's box in the asset frame (everything renderable lies in it)."""
        lo = self.texture.origin.double().cpu().numpy()
        hi = lo + self.texture.extent().double().cpu().numpy()
        return self.box_to_asset(OrientedBox.from_aabb(lo, hi))

    def clip_boxes(self, crop: OrientedBox | None) -> list[Box]:
        """Training aabb, texture box, render box and ``crop``, normalised frame, on the device."""
        boxes = [OrientedBox.from_aabb(self.aabb_min, self.aabb_max)]
        boxes += [self.box_to_field(b) for b in (self.render_box, crop) if b is not None]
        dev = self.device
        out = [Box(torch.as_tensor(b.center, dtype=torch.float32, device=dev),
                   torch.as_tensor(b.rotation, dtype=torch.float32, device=dev),
                   torch.as_tensor(b.half_extents, dtype=torch.float32, device=dev)) for b in boxes]
        return [*out, self.texture.box()]

    def rays_to_field(self, origins: torch.Tensor, dirs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Asset-frame rays (N, 3) -> normalised-frame origins and unit directions (float32)."""
        m = torch.as_tensor(self.asset_to_field, dtype=torch.float32, device=origins.device)
        o = origins.float() @ m[:3, :3].T + m[:3, 3]
        d = dirs.float() @ m[:3, :3].T
        return o, d / d.norm(dim=-1, keepdim=True).clamp(min=1e-12)

    def unit_coords(self, points: torch.Tensor) -> torch.Tensor:
        """Normalised-frame points (N, 3) -> the field's [0, 1]^3 coordinates."""
        lo, side = self.texture.unit_cube()
        return ((points - lo) / side).clamp(0.0, 1.0)

    # ------------------------------------------------------------------ rendering
    def hits(self, o: torch.Tensor, d: torch.Tensor, crop: OrientedBox | None = None) -> TextureHits:
        """Coarse opacity and hit points of normalised-frame rays (unit ``d``)."""
        t_start, t_end = clip_rays(o, d, self.clip_boxes(crop))
        buffers = self._march_kernel()
        if buffers is not None:
            from render.nerf.baked.kernels import triton_texture_march

            return triton_texture_march.march_texture(self.texture, buffers, o, d, t_start, t_end, self.march)
        parts = [march_texture(self.texture, o[s:s + MARCH_CHUNK], d[s:s + MARCH_CHUNK], t_start[s:s + MARCH_CHUNK],
                               t_end[s:s + MARCH_CHUNK], self.march) for s in range(0, max(o.shape[0], 1), MARCH_CHUNK)]
        if len(parts) == 1:
            return parts[0]
        return TextureHits(t_hit=torch.cat([p.t_hit for p in parts]), alpha=torch.cat([p.alpha for p in parts]),
                           hit=torch.cat([p.hit for p in parts]), live=sum(p.live for p in parts),
                           samples=sum(p.samples for p in parts), rounds=sum(p.rounds for p in parts))

    def query(self, o: torch.Tensor, d: torch.Tensor, hits: TextureHits) -> tuple[torch.Tensor, torch.Tensor]:
        """Radiance (N, 3, clamped to 0..1) and opacity (N,) of every ray; 0 for rays without a hit."""
        n = o.shape[0]
        rgb = torch.zeros(n, 3, device=o.device)
        alpha = torch.zeros(n, device=o.device)
        rows = torch.nonzero(hits.hit).squeeze(1)
        for start in range(0, rows.numel(), QUERY_CHUNK):
            r = rows[start:start + QUERY_CHUNK]
            x = self.unit_coords(o[r] + hits.t_hit[r, None] * d[r])
            with torch.no_grad():
                c, a = self.field(x, d[r], hits.alpha[r])
            rgb[r], alpha[r] = c.float().clamp(0.0, 1.0), a.float()
        return rgb, alpha

    def render_rays(self, origins: torch.Tensor, dirs: torch.Tensor, crop: OrientedBox | None = None,
                    background: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> BakedRender:
        """Render asset-frame rays (N, 3); ``dirs`` need not be unit length (distances are per unit length)."""
        dirs = dirs.to(self.device)
        o, d = self.rays_to_field(origins.to(self.device), dirs)
        length = dirs.float().norm(dim=-1).clamp(min=1e-12)
        with torch.no_grad():
            hits = self.hits(o, d, crop)
            radiance, alpha = self.query(o, d, hits)
        bg = torch.tensor(background, dtype=torch.float32, device=o.device)
        rgb = alpha[:, None] * radiance + (1.0 - alpha[:, None]) * bg
        distance = torch.where(alpha > 0, hits.t_hit / self.scale / length, 0.0)
        stats = BakedStats(hits.live, hits.samples, int(hits.hit.sum()), hits.rounds)
        return BakedRender(rgb.clamp(0.0, 1.0), alpha.clamp(0.0, 1.0), distance, stats)

    # ------------------------------------------------------------------ identity
    def content_hash(self) -> str:
        h = hashlib.sha256()
        h.update(json.dumps({"field": self.field.config.to_json(), "march": self.march.to_json()},
                            sort_keys=True).encode())
        for tensor in self.field.state_tensors().values():
            h.update(tensor.to(torch.float16).numpy().tobytes())
        h.update(self.texture.occupancy.cpu().numpy().tobytes())
        h.update(self.texture.bricks.cpu().numpy().tobytes())
        hash_frame(h, self.aabb_min, self.aabb_max, self.asset_to_field, self.render_box)
        return h.hexdigest()
