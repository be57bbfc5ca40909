"""Scoring a baked NeRF: against its source on held-out views, and against photos.

* **vs source**: ``n`` pinhole cameras around the content (views.py, from a random stream the
  distillation never drew from), rendered by both over black; PSNR and SSIM of the colour, and
  the median depth gap over pixels both see as opaque (alpha > 0.5), in asset units.
* **vs photos**: frames of a dataset rendered through their own rays by the source and by the
  baked model, both against the photo over black.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch

from render.assets import PinholeCamera, SceneAsset
from render.nerf.baked.bake.metrics import psnr, ssim
from render.nerf.baked.bake.views import ViewSphere
from render.nerf.baked.model import BakedNerfModel
from render.nerf.model import NerfModel
from render.nerf.model_components.renderers import RenderBackend
from render.nerf.train.camera_rays import FrameCameras
from render.nerf.train.dataset import Frame, load_image

EVAL_SEED_OFFSET = 1_000_003
"""Evaluation cameras come from seed + this (the distillation uses seed itself)."""
OPAQUE = 0.5


@dataclass(frozen=True, kw_only=True)
class ViewScore:
    psnr: float
    ssim: float
    depth_gap: float
    """Median |depth_baked - depth_source| where both are opaque (asset units; nan if none)."""
    baked_ms: float
    source_ms: float


@dataclass(frozen=True, kw_only=True)
class PhotoScore:
    file_path: str
    baked_psnr: float
    baked_ssim: float
    source_psnr: float
    source_ssim: float


def mean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(statistics.fmean(finite)) if finite else float("nan")


def _timed_render(asset: SceneAsset, camera: PinholeCamera) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    if asset.device.type == "cuda":
        torch.cuda.synchronize(asset.device)
    start = time.perf_counter()
    out = asset.render_pinhole(camera)
    if asset.device.type == "cuda":
        torch.cuda.synchronize(asset.device)
    return out.rgb.cpu(), out.alpha.cpu(), out.depth.cpu(), (time.perf_counter() - start) * 1000.0


def held_out_cameras(views: ViewSphere, n: int, width: int, height: int, seed: int) -> list[PinholeCamera]:
    return views.cameras(n, width, height, np.random.default_rng(seed + EVAL_SEED_OFFSET))


def score_views(source: SceneAsset, baked: SceneAsset, cameras: list[PinholeCamera]) -> list[ViewScore]:
    """Both assets through each camera (over black): PSNR, SSIM, depth gap, render times."""
    scores = []
    for camera in cameras:
        s_rgb, s_alpha, s_depth, s_ms = _timed_render(source, camera)
        b_rgb, b_alpha, b_depth, b_ms = _timed_render(baked, camera)
        both = (s_alpha > OPAQUE) & (b_alpha > OPAQUE)
        gap = float((b_depth[both] - s_depth[both]).abs().median()) if bool(both.any()) else float("nan")
        scores.append(ViewScore(psnr=psnr(b_rgb, s_rgb), ssim=ssim(b_rgb, s_rgb), depth_gap=gap, baked_ms=b_ms,
                                source_ms=s_ms))
    return scores


def score_photos(source: NerfModel, backend: RenderBackend, baked: BakedNerfModel,
                 frames: list[Frame]) -> list[PhotoScore]:
    """Source and baked renders of each frame (its own rays) against its photo over black."""
    cameras = FrameCameras(frames, baked.device)
    scores = []
    for i, frame in enumerate(frames):
        image = load_image(frame)
        truth = torch.from_numpy(image[..., :3] * image[..., 3:])
        origins, dirs = cameras.frame_rays(i)
        shape = (frame.h, frame.w, 3)
        with torch.no_grad():
            s_rgb = source.render_rays(origins, dirs, backend).rgb.reshape(shape).cpu()
        b_rgb = baked.render_rays(origins, dirs).rgb.reshape(shape).cpu()
        scores.append(PhotoScore(file_path=frame.file_path, baked_psnr=psnr(b_rgb, truth),
                                 baked_ssim=ssim(b_rgb, truth), source_psnr=psnr(s_rgb, truth),
                                 source_ssim=ssim(s_rgb, truth)))
    return scores
