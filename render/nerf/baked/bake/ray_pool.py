"""Distillation targets: rays with what the baked field must reproduce, precomputed once.

The texture is fixed while the field trains, so each ray's hit point and coarse opacity are
marched once when the ray joins the pool; a training step then only queries the field. Targets
are premultiplied colour (the colour over black) and opacity, from the source NeRF's render
(``teacher_pool``) or from a dataset's RGBA images (``image_pool``). Rays without a hit are
dropped (the baked render is empty there whatever the field says); how many of them the target
saw as opaque is counted (``missed_opaque``: what the texture lost).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from render.nerf.baked.model import BakedNerfModel
from render.nerf.model import NerfModel
from render.nerf.model_components.renderers import RenderBackend

TEACHER_CHUNK = 1 << 20
"""Rays per teacher render call."""


@dataclass(kw_only=True)
class RayPool:
    """N rays that hit the texture: field inputs and targets (all on one device, float32)."""

    x: torch.Tensor
    """(N, 3) hit points in the field's unit cube."""
    dirs: torch.Tensor
    """(N, 3) unit directions, normalised frame."""
    alpha_c: torch.Tensor
    """(N,) coarse opacity."""
    rgb: torch.Tensor
    """(N, 3) target colour over black (premultiplied)."""
    alpha: torch.Tensor
    """(N,) target opacity."""
    rays: int = 0
    """Rays drawn (hits and misses)."""
    missed_opaque: int = 0
    """Rays without a hit whose target opacity was above one half."""

    def __len__(self) -> int:
        return int(self.x.shape[0])


def pool_from_targets(baked: BakedNerfModel, origins: torch.Tensor, dirs: torch.Tensor, rgb: torch.Tensor,
                      alpha: torch.Tensor) -> RayPool:
    """March asset-frame rays (N, 3) through the texture and keep those that hit, with their targets."""
    o, d = baked.rays_to_field(origins, dirs)
    with torch.no_grad():
        hits = baked.hits(o, d)
    keep = hits.hit
    x = baked.unit_coords(o[keep] + hits.t_hit[keep, None] * d[keep])
    missed = int(((~keep) & (alpha > 0.5)).sum())
    return RayPool(x=x, dirs=d[keep], alpha_c=hits.alpha[keep], rgb=rgb[keep].float(), alpha=alpha[keep].float(),
                   rays=int(o.shape[0]), missed_opaque=missed)


def teacher_targets(source: NerfModel, backend: RenderBackend, origins: torch.Tensor,
                    dirs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The source's colour over black (N, 3) and opacity (N,) for asset-frame rays."""
    rgb, alpha = [], []
    with torch.no_grad():
        for start in range(0, origins.shape[0], TEACHER_CHUNK):
            out = source.render_rays(origins[start:start + TEACHER_CHUNK], dirs[start:start + TEACHER_CHUNK], backend)
            rgb.append(out.rgb)
            alpha.append(out.alpha)
    return torch.cat(rgb), torch.cat(alpha)


def teacher_pool(source: NerfModel, backend: RenderBackend, baked: BakedNerfModel, origins: torch.Tensor,
                 dirs: torch.Tensor) -> RayPool:
    """Rays whose targets are the source NeRF's render."""
    rgb, alpha = teacher_targets(source, backend, origins, dirs)
    return pool_from_targets(baked, origins, dirs, rgb, alpha)
