"""Pure-torch projection of 3D Gaussians to screen space (the reference for the fast kernels).

For each splat: camera-space centre, EWA covariance ``J W Sigma W^T J^T`` plus the 0.3 px^2
low-pass, its inverse (the conic), SH colour along the view ray, and the exact pixel extent at which
its alpha falls below 1/255 (opacity aware). Splats behind the near plane, with a degenerate
covariance, too transparent to ever reach 1/255, or whose extent misses the window are culled
(frustum culling). Any device; float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from render.splat.raster_inputs import (
    ALPHA_MIN,
    FAR_PLANE,
    LOW_PASS,
    NEAR_PLANE,
    RasterCamera,
    quat_to_rotmat,
)
from render.splat.sh import sh_to_color


@dataclass(kw_only=True)
class ProjectedSplats:
    """The splats that survive culling, in screen space (M of them, in input order)."""

    ids: torch.Tensor
    """(M,) int64 index of each splat in the input arrays."""
    means2d: torch.Tensor
    """(M, 2) float32 image coordinates (pixels, full image, pixel centres at +0.5)."""
    conics: torch.Tensor
    """(M, 3) float32 (a, b, c) of the inverse 2D covariance: sigma = a dx^2 / 2 + b dx dy + c dy^2 / 2."""
    depths: torch.Tensor
    """(M,) float32 camera z."""
    opacities: torch.Tensor
    colors: torch.Tensor
    """(M, 3) float32 SH colour, >= 0."""
    tiles_min: torch.Tensor
    """(M, 2) int64 first (tile x, tile y) touched, in the window's tile grid."""
    tiles_max: torch.Tensor
    """(M, 2) int64 last (tile x, tile y) touched (inclusive)."""

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def tile_counts(self) -> torch.Tensor:
        span = self.tiles_max - self.tiles_min + 1
        return span[:, 0] * span[:, 1]


def projected_covariance(cam_points: torch.Tensor, cov_world: torch.Tensor, camera: RasterCamera) -> torch.Tensor:
    """(N, 2, 2) screen covariance (with the low-pass) for camera-space centres and world covariances."""
    rot = camera.viewmat[:3, :3]
    cov_cam = rot @ cov_world @ rot.T
    x, y, z = cam_points.unbind(-1)
    lim_xp, lim_xn, lim_yp, lim_yn = camera.clamp_limits()
    tx = z * (x / z).clamp(-lim_xn, lim_xp)
    ty = z * (y / z).clamp(-lim_yn, lim_yp)
    zeros = torch.zeros_like(z)
    jac = torch.stack([camera.fx / z, zeros, -camera.fx * tx / (z * z),
                       zeros, camera.fy / z, -camera.fy * ty / (z * z)], dim=-1).reshape(-1, 2, 3)
    cov2d = jac @ cov_cam @ jac.transpose(1, 2)
    eye = torch.eye(2, dtype=cov2d.dtype, device=cov2d.device)
    return cov2d + LOW_PASS * eye


def _pixel_span(center: torch.Tensor, radius: torch.Tensor, origin: int, size: int) -> tuple[torch.Tensor, ...]:
    """First and last pixel index (window coordinates) whose centre lies within center +- radius."""
    first = torch.ceil(center - radius - origin - 0.5)
    last = torch.floor(center + radius - origin - 0.5)
    hit = (last >= 0) & (first <= size - 1) & (first <= last)
    return first.clamp(0, size - 1).long(), last.clamp(0, size - 1).long(), hit


def project_splats(means: torch.Tensor, quats: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor,
                   sh: torch.Tensor, camera: RasterCamera) -> ProjectedSplats:
    """Project (N,) splats (asset frame; quats wxyz unit; linear scales; activated opacities; SH (N, K, 3))."""
    rot, trans = camera.viewmat[:3, :3], camera.viewmat[:3, 3]
    cam = means @ rot.T + trans
    keep = (cam[:, 2] > NEAR_PLANE) & (cam[:, 2] < FAR_PLANE) & (opacities >= ALPHA_MIN)
    ids = keep.nonzero().squeeze(1)
    cam, o = cam[ids], opacities[ids]
    m = quat_to_rotmat(quats[ids]) * scales[ids, None, :]
    cov2d = projected_covariance(cam, m @ m.transpose(1, 2), camera)
    a, b, c = cov2d[:, 0, 0], cov2d[:, 0, 1], cov2d[:, 1, 1]
    det = a * c - b * b
    z = cam[:, 2]
    means2d = torch.stack([camera.fx * cam[:, 0] / z + camera.cx, camera.fy * cam[:, 1] / z + camera.cy], dim=-1)
    # alpha = o * exp(-d^2 / 2) reaches 1/255 at Mahalanobis d^2 = 2 ln(255 o); the ellipse's
    # bounding box at that level is +- sqrt(d^2 * cov_xx) by +- sqrt(d^2 * cov_yy).
    level = 2.0 * torch.log((o / ALPHA_MIN).clamp_min(1.0))
    rx = torch.sqrt(level * a) * (1.0 + 1e-4) + 1e-3
    ry = torch.sqrt(level * c) * (1.0 + 1e-4) + 1e-3
    x0, y0, x1, y1 = camera.rect
    px0, px1, hit_x = _pixel_span(means2d[:, 0], rx, x0, x1 - x0)
    py0, py1, hit_y = _pixel_span(means2d[:, 1], ry, y0, y1 - y0)
    ok = (det > 0) & hit_x & hit_y & torch.isfinite(means2d).all(dim=1)
    sel = ok.nonzero().squeeze(1)
    inv_det = 1.0 / det[sel]
    conics = torch.stack([c[sel] * inv_det, -b[sel] * inv_det, a[sel] * inv_det], dim=-1)
    kept = ids[sel]
    dirs = means[kept] - torch.as_tensor(camera.camera_position(), dtype=means.dtype).to(means.device)
    dirs = dirs / dirs.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return ProjectedSplats(
        ids=kept, means2d=means2d[sel], conics=conics, depths=z[sel], opacities=o[sel],
        colors=sh_to_color(sh[kept], dirs),
        tiles_min=torch.stack([px0[sel], py0[sel]], dim=-1) // camera.tile_size,
        tiles_max=torch.stack([px1[sel], py1[sel]], dim=-1) // camera.tile_size,
    )

