"""nerfstudio's gsplat as an optional accelerator (CUDA only; imported on first use).

The window is rendered by shifting the principal point, so gsplat's EWA clamp uses the window's
limits rather than the full image's (a difference only for splats far outside the view). Crop
culling happens before this call (``rasterize_splats``). gsplat's thresholds are the same as ours
(alpha 1/255, clamp 0.99, T 1e-4); ``RGB+ED`` gives the normalised expected depth.
"""

from __future__ import annotations

import torch

from render.splat.raster_inputs import FAR_PLANE, LOW_PASS, NEAR_PLANE, RasterCamera
from render.splat.rasterize_torch import RasterResult


def rasterize_gsplat(means: torch.Tensor, quats: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor,
                     sh: torch.Tensor, camera: RasterCamera, background: tuple[float, float, float]) -> RasterResult:
    from gsplat import rasterization

    x0, y0, x1, y1 = camera.rect
    w, h = x1 - x0, y1 - y0
    ks = torch.tensor([[camera.fx, 0.0, camera.cx - x0], [0.0, camera.fy, camera.cy - y0], [0.0, 0.0, 1.0]],
                      dtype=torch.float32, device=means.device)
    degree = round(sh.shape[1] ** 0.5) - 1
    colors, alphas, _ = rasterization(
        means, quats, scales, opacities, sh, camera.viewmat[None], ks[None], w, h,
        near_plane=NEAR_PLANE, far_plane=FAR_PLANE, eps2d=LOW_PASS, sh_degree=degree, packed=False,
        tile_size=camera.tile_size, render_mode="RGB+ED", rasterize_mode="classic")
    alpha = alphas[0, ..., 0]
    bg = torch.tensor(background, dtype=torch.float32).to(means.device)
    rgb = (colors[0, ..., :3] + (1.0 - alpha)[..., None] * bg).clamp(0.0, 1.0)
    depth = torch.where(alpha > 0, colors[0, ..., 3], 0.0)
    return RasterResult(rgb, alpha, depth, {"input": int(means.shape[0])})
