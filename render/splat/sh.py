"""Real spherical harmonics up to degree 3 (the 3DGS basis, order and constants).

``sh_basis(dirs, degree)`` evaluates the K = (degree + 1)^2 basis functions for unit directions
(N, 3) in the asset frame; ``sh_to_color`` turns coefficients (N, K, 3) into RGB as 3DGS does:
basis . coefficients + 0.5, clamped below at 0. Any device, float32.
"""

from __future__ import annotations

import torch

SH_C0 = 0.28209479177387814
SH_C1 = 0.4886025119029199
SH_C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396)
SH_C3 = (-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154,
         -0.4570457994644658, 1.445305721320277, -0.5900435899266435)


def sh_basis(dirs: torch.Tensor, degree: int) -> torch.Tensor:
    """Basis values (N, (degree + 1)^2) for unit directions ``dirs`` (N, 3)."""
    x, y, z = dirs.unbind(-1)
    terms = [torch.full_like(x, SH_C0)]
    if degree >= 1:
        terms += [-SH_C1 * y, SH_C1 * z, -SH_C1 * x]
    if degree >= 2:
        xx, yy, zz = x * x, y * y, z * z
        terms += [SH_C2[0] * x * y, SH_C2[1] * y * z, SH_C2[2] * (2.0 * zz - xx - yy), SH_C2[3] * x * z,
                  SH_C2[4] * (xx - yy)]
    if degree >= 3:
        terms += [SH_C3[0] * y * (3.0 * xx - yy), SH_C3[1] * x * y * z, SH_C3[2] * y * (4.0 * zz - xx - yy),
                  SH_C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy), SH_C3[4] * x * (4.0 * zz - xx - yy),
                  SH_C3[5] * z * (xx - yy), SH_C3[6] * x * (xx - 3.0 * yy)]
    return torch.stack(terms, dim=-1)


def sh_to_color(sh: torch.Tensor, dirs: torch.Tensor) -> torch.Tensor:
    """RGB (N, 3) from coefficients (N, K, 3) seen along unit ``dirs`` (N, 3); >= 0, not clamped above."""
    degree = round(sh.shape[1] ** 0.5) - 1
    if degree == 0:
        return (SH_C0 * sh[:, 0] + 0.5).clamp_min(0.0)
    basis = sh_basis(dirs, degree)
    return (torch.einsum("nk,nkc->nc", basis, sh) + 0.5).clamp_min(0.0)
