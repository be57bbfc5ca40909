"""Image-quality measures: PSNR and SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5,
K1 = 0.01, K2 = 0.03, data range 1), on (H, W, 3) float images in 0..1."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03
MIN_MSE = 1e-10


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB (peak 1); capped at 100 dB for identical images."""
    mse = float(((a.float() - b.float()) ** 2).mean())
    return -10.0 * math.log10(max(mse, MIN_MSE))


def _gaussian_window(device: torch.device) -> torch.Tensor:
    x = torch.arange(SSIM_WINDOW, dtype=torch.float32, device=device) - SSIM_WINDOW // 2
    g = torch.exp(-(x**2) / (2 * SSIM_SIGMA**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean SSIM over the valid windows of every channel (images smaller than the window are
    padded by repeating their border)."""
    x = a.float().permute(2, 0, 1)[:, None]  # (C, 1, H, W): channels as a batch
    y = b.float().permute(2, 0, 1)[:, None]
    pad = max(0, SSIM_WINDOW - min(x.shape[-2:]))
    if pad:
        x = F.pad(x, (0, pad, 0, pad), mode="replicate")
        y = F.pad(y, (0, pad, 0, pad), mode="replicate")
    w = _gaussian_window(x.device)
    mu_x, mu_y = F.conv2d(x, w), F.conv2d(y, w)
    sxx = F.conv2d(x * x, w) - mu_x**2
    syy = F.conv2d(y * y, w) - mu_y**2
    sxy = F.conv2d(x * y, w) - mu_x * mu_y
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    value = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2))
    return float(value.mean())
