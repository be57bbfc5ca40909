"""Scoring a trained model against posed images (PSNR and SSIM of renders of the dataset cameras)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from render.nerf.model import NerfModel
from render.nerf.model_components.renderers import RenderBackend
from render.nerf.train.camera_rays import FrameCameras
from render.nerf.train.dataset import Frame, load_image

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5


@dataclass(frozen=True, kw_only=True)
class FrameScore:
    file_path: str
    psnr: float
    render_ms: float
    samples_per_ray: float
    ssim: float = 0.0


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a - b) ** 2).mean())
    return -10.0 * math.log10(max(mse, 1e-10))


def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean structural similarity of two (h, w, 3) images in 0..1 (Wang et al. 2004: 11x11 Gaussian
    window, sigma 1.5, K1 0.01, K2 0.03; per channel over the valid window positions)."""
    x = torch.arange(SSIM_WINDOW, dtype=torch.float64) - (SSIM_WINDOW - 1) / 2
    g = torch.exp(-x * x / (2 * SSIM_SIGMA**2))
    g = g / g.sum()
    window = (g[:, None] * g[None, :]).expand(3, 1, SSIM_WINDOW, SSIM_WINDOW)
    p, q = (img.double().permute(2, 0, 1)[None] for img in (a, b))

    def blur(v: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.conv2d(v, window, groups=3)

    mu_p, mu_q = blur(p), blur(q)
    var_p, var_q, cov = blur(p * p) - mu_p**2, blur(q * q) - mu_q**2, blur(p * q) - mu_p * mu_q
    c1, c2 = 0.01**2, 0.03**2
    value = ((2 * mu_p * mu_q + c1) * (2 * cov + c2)) / ((mu_p**2 + mu_q**2 + c1) * (var_p + var_q + c2))
    return float(value.mean())


def render_frame(model: NerfModel, cameras: FrameCameras, i: int, backend: RenderBackend,
                 background: tuple[float, float, float]) -> tuple[torch.Tensor, float, float]:
    """(h, w, 3) render of dataset frame ``i`` through its own (distorted) rays; ms; samples per ray."""
    w, h = (int(v) for v in cameras.size[i])
    origins, dirs = cameras.frame_rays(i)
    if model.device.type == "cuda":
        torch.cuda.synchronize(model.device)
    start = time.perf_counter()
    with torch.no_grad():
        out = model.render_rays(origins, dirs, backend, background=background)
    if model.device.type == "cuda":
        torch.cuda.synchronize(model.device)
    ms = (time.perf_counter() - start) * 1000.0
    return out.rgb.reshape(h, w, 3), ms, out.stats.samples / max(h * w, 1)


def evaluate_frames(model: NerfModel, frames: list[Frame], backend: RenderBackend,
                    background: tuple[float, float, float] = (0.0, 0.0, 0.0),
                    progress: Callable[[int, int], None] | None = None) -> list[FrameScore]:
    """PSNR of each frame's render against its image composited over ``background``;
    ``progress(frames scored, frames in all)`` after each, on the calling thread."""
    cameras = FrameCameras(frames, model.device)
    bg = np.asarray(background, dtype=np.float32)
    scores = []
    for i, frame in enumerate(frames):
        image = load_image(frame)
        expected = image[..., :3] * image[..., 3:] + bg * (1.0 - image[..., 3:])
        rendered, ms, spr = render_frame(model, cameras, i, backend, background)
        truth = torch.from_numpy(expected)
        scores.append(FrameScore(file_path=frame.file_path, psnr=psnr(rendered.cpu(), truth), render_ms=ms,
                                 samples_per_ray=spr, ssim=ssim(rendered.cpu(), truth)))
        if progress is not None:
            progress(len(scores), len(frames))
    return scores
