"""Scoring a trained model against posed images (PSNR of renders of the dataset cameras)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from render.nerf.model import NerfModel
from render.nerf.model_components.renderers import RenderBackend
from render.nerf.train.cameras import FrameCameras
from render.nerf.train.dataset import Frame, load_image


@dataclass(frozen=True)
class FrameScore:
    file_path: str
    psnr: float
    render_ms: float
    samples_per_ray: float


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a - b) ** 2).mean())
    return -10.0 * math.log10(max(mse, 1e-10))


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
        value = psnr(rendered.cpu(), torch.from_numpy(expected))
        scores.append(FrameScore(frame.file_path, value, ms, spr))
        if progress is not None:
            progress(len(scores), len(frames))
    return scores
