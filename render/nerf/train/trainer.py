"""Training an instant-ngp NeRF from a posed image set.

The asset frame is the dataset's world frame; the field lives in instant-ngp's normalised frame
(the dataset's ``scale``/``offset`` and the axis cycle, stored with the model and undone at render
time). Each step samples random pixels of random training images, marches their rays through
the occupancy grid (jittered start), evaluates the field on the occupied samples, composites
over a random background (so opacity is learned from images with alpha) and takes one Adam step
on a Huber loss. The occupancy grid follows instant-ngp's schedule (grid_updates.py). The number
of rays per step adapts so that each step evaluates about ``batch_samples`` samples.

Threading: ``NerfTrainer.train`` runs on the caller's thread and calls ``progress`` there: every
``progress_every`` steps and after the last (``TrainProgress.last``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from render.nerf.config import FieldConfig
from render.nerf.conventions import asset_to_field_matrix
from render.nerf.fields.ngp_field import NgpField
from render.nerf.kernels import triton_unavailable_reason
from render.nerf.model import NerfModel, default_cone_angle
from render.nerf.model_components.marching import SQRT3, clip_rays, step_size
from render.nerf.model_components.occupancy import NGP_GRID_RESOLUTION, OccupancyGrid, cascades_for_aabb_scale
from render.nerf.model_components.renderers import RenderBackend, TorchBackend
from render.nerf.train.cameras import FrameCameras
from render.nerf.train.dataset import Frame, PosedImageSet, load_image
from render.nerf.train.grid_updates import mark_unseen_cells, update_grid

HUBER_DELTA = 0.1


@dataclass(kw_only=True)
class TrainConfig:
    steps: int = 2000
    """Adam steps."""
    field: FieldConfig = field(default_factory=FieldConfig)
    """Network; ``per_level_scale`` is replaced by instant-ngp's default for the dataset's aabb_scale."""
    batch_samples: int | None = None
    """Target field evaluations per step (None: instant-ngp's 2^18 on CUDA, 2^14 on CPU)."""
    initial_rays: int = 4096
    min_rays: int = 256
    """Lower bound of the adaptive rays per step."""
    max_samples_per_ray: int = 512
    learning_rate: float = 1e-2
    mlp_weight_decay: float = 1e-6
    grid_resolution: int = NGP_GRID_RESOLUTION
    min_step: float = SQRT3 / 1024
    """Finest marching step in the normalised frame (instant-ngp: sqrt(3)/1024)."""
    grid_interval: int = 16
    grid_warmup_steps: int = 256
    image_downscale: int = 1
    """Train on images resized by 1/image_downscale (intrinsics scaled to match)."""
    holdout_every: int = 0
    """Hold out every n-th frame for evaluation (0: train on all)."""
    time_limit_s: float | None = None
    """Stop early when training has run this long."""
    accelerate: Literal["auto", "torch", "triton"] = "auto"
    """Triton kernels for marching and the hash encoding (on CUDA), or the torch reference."""
    seed: int = 0


@dataclass(kw_only=True)
class TrainProgress:
    step: int
    steps: int
    loss: float
    batch_psnr: float
    """PSNR of this step's batch (from its MSE, dB)."""
    rays: int
    samples: int
    elapsed_s: float
    occupancy: float
    """Fraction of occupied cells in cascade 0."""
    last: bool = False
    """Training stops after this step (its step count reached, or its time limit)."""


@dataclass(kw_only=True)
class TrainResult:
    model: NerfModel
    steps: int
    elapsed_s: float
    train_frames: list[Frame]
    test_frames: list[Frame]


def split_frames(frames: list[Frame], holdout_every: int) -> tuple[list[Frame], list[Frame]]:
    if holdout_every <= 1:
        return list(frames), []
    test = frames[::holdout_every]
    train = [f for i, f in enumerate(frames) if i % holdout_every]
    return train, test


def huber(diff: torch.Tensor, delta: float = HUBER_DELTA) -> torch.Tensor:
    a = diff.abs()
    return torch.where(a < delta, 0.5 * diff * diff / delta, a - 0.5 * delta)


class NerfTrainer:
    """Owns the model, images on the device, optimizer and schedule."""

    def __init__(self, dataset: PosedImageSet, config: TrainConfig, device: str | torch.device = "cpu") -> None:
        self.config = config
        self.device = torch.device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(config.seed)
        torch.manual_seed(config.seed)
        factor = 1.0 / max(1, config.image_downscale)
        frames = [f.scaled(factor) if factor != 1.0 else f for f in dataset.frames]
        self.train_frames, self.test_frames = split_frames(frames, config.holdout_every)
        self.model = self._build_model(dataset)
        self.cameras = FrameCameras(self.train_frames, self.device)
        self.images = self._load_images(self.train_frames)
        self.backend, self.use_triton = self._pick_backend()
        self.model.field.use_triton_encoding(self.use_triton)
        self.optimizer = self._make_optimizer()
        self.batch_samples = config.batch_samples or (1 << 18 if self.device.type == "cuda" else 1 << 14)
        self.n_rays = min(config.initial_rays, self.batch_samples)
        self.step = 0

    # ------------------------------------------------------------------ setup
    def _build_model(self, dataset: PosedImageSet) -> NerfModel:
        cfg = self.config
        field_config = cfg.field.with_aabb_scale(dataset.aabb_scale)
        field_ = NgpField(field_config, torch.Generator().manual_seed(cfg.seed)).to(self.device)
        n_cascades = cascades_for_aabb_scale(dataset.aabb_scale)
        grid = OccupancyGrid(n_cascades, cfg.grid_resolution, cfg.min_step, self.device)
        half = dataset.aabb_scale / 2
        metadata = {"source": str(dataset.source), "frames": [f.to_json() for f in dataset.frames],
                    "missing_frames": dataset.missing, "ngp_scale": dataset.scale, "ngp_offset": list(dataset.offset)}
        return NerfModel(field=field_, grid=grid, aabb_min=np.full(3, 0.5 - half), aabb_max=np.full(3, 0.5 + half),
                         asset_to_field=asset_to_field_matrix(dataset.scale, dataset.offset), render_box=None,
                         cone_angle=default_cone_angle(dataset.aabb_scale), metadata=metadata)

    def _load_images(self, frames: list[Frame]) -> torch.Tensor:
        """(n, h_max, w_max, 4) uint8 RGBA on the device."""
        h = max(f.h for f in frames)
        w = max(f.w for f in frames)
        images = torch.zeros(len(frames), h, w, 4, dtype=torch.uint8, device=self.device)
        for i, frame in enumerate(frames):
            pixels = np.clip(load_image(frame) * 255.0 + 0.5, 0, 255).astype(np.uint8)
            images[i, : frame.h, : frame.w] = torch.from_numpy(pixels).to(self.device)
        return images

    def _pick_backend(self) -> tuple[RenderBackend, bool]:
        choice = self.config.accelerate
        reason = triton_unavailable_reason(self.device, self.model.field.config)
        if choice == "triton" and reason is not None:
            raise RuntimeError(f"Triton acceleration unavailable: {reason}")
        if choice == "torch" or reason is not None:
            return TorchBackend(), False
        from render.nerf.kernels.triton_backend import TritonBackend

        return TritonBackend(self.model.field), True

    def _make_optimizer(self) -> torch.optim.Optimizer:
        f = self.model.field
        groups = [{"params": [f.grid_table], "weight_decay": 0.0},
                  {"params": list(f.density_mlp.parameters()) + list(f.rgb_mlp.parameters()),
                   "weight_decay": self.config.mlp_weight_decay}]
        return torch.optim.Adam(groups, lr=self.config.learning_rate, betas=(0.9, 0.99), eps=1e-15,
                                fused=self.device.type == "cuda")

    def learning_rate(self, step: int) -> float:
        """instant-ngp's exponential decay (x0.33 per interval), started at 60% of a short run."""
        steps = self.config.steps
        start = min(20000, int(0.6 * steps))
        interval = max(1, min(10000, int(0.2 * steps)))
        return self.config.learning_rate * 0.33 ** (max(0, step - start) / interval)

    # ------------------------------------------------------------------ one step
    def _sample_batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        g, dev, n = self.generator, self.device, self.n_rays
        index = torch.randint(0, len(self.cameras), (n,), device=dev, generator=g)
        size = self.cameras.size[index]
        px = (torch.rand(n, device=dev, generator=g) * size[:, 0]).floor()
        py = (torch.rand(n, device=dev, generator=g) * size[:, 1]).floor()
        target = self.images[index, py.long(), px.long()].float() / 255.0
        origins, dirs = self.cameras.rays(index, px + 0.5, py + 0.5)
        return origins, dirs, target

    def _composite(self, sigma: torch.Tensor, rgb: torch.Tensor, sample_dt: torch.Tensor,
                   background: torch.Tensor) -> torch.Tensor:
        optical = sigma * sample_dt
        before = torch.exp(-torch.cumsum(torch.cat([torch.zeros_like(optical[:, :1]), optical[:, :-1]], 1), 1))
        weights = before * (1.0 - torch.exp(-optical))
        color = (weights[..., None] * rgb).sum(1)
        return color + (1.0 - weights.sum(1, keepdim=True)) * background

    def train_step(self) -> tuple[float, float, int]:
        """One optimisation step; returns (loss, batch mse, samples)."""
        model, cfg = self.model, self.config
        origins, dirs, target = self._sample_batch()
        o, d = model.rays_to_field(origins, dirs)
        t0, t1 = clip_rays(o, d, model.clip_boxes(None))
        params = model.march_params()
        t0 = t0 + torch.rand(t0.shape, device=self.device, generator=self.generator) * step_size(t0, params)
        with torch.no_grad():
            sample_t, sample_dt, count, _ = self.backend.march(o, d, t0, t1, model.grid, params,
                                                               cfg.max_samples_per_ray)
            # Rays are in random order, so dropping the tail beyond twice the budget is unbiased; it
            # bounds the first steps, before the ray count has adapted to the scene.
            keep = torch.cumsum(count, 0) <= 2 * self.batch_samples
            keep[0] = True
            if not bool(keep.all()):
                o, d, target, count = o[keep], d[keep], target[keep], count[keep]
                sample_t, sample_dt = sample_t[keep], sample_dt[keep]
        k = sample_t.shape[1]
        valid = torch.arange(k, device=self.device)[None, :] < count[:, None]
        ray, slot = torch.nonzero(valid, as_tuple=True)
        inputs = model.field_inputs()
        x = (o[ray] + sample_t[ray, slot][:, None] * d[ray] - inputs.aabb_min) / inputs.aabb_size
        raw = model.field.density_outputs(x)
        sigma = torch.exp(raw[:, 0].float().clamp(-15.0, 15.0))
        color = model.field.color(raw, d[ray]).float()
        sigma_p = torch.zeros(valid.shape, device=self.device).index_put((ray, slot), sigma)
        rgb_p = torch.zeros(*valid.shape, 3, device=self.device).index_put((ray, slot), color)
        background = torch.rand(o.shape[0], 3, device=self.device, generator=self.generator)
        predicted = self._composite(sigma_p, rgb_p, sample_dt, background)
        expected = target[:, :3] * target[:, 3:] + background * (1.0 - target[:, 3:])
        diff = predicted - expected
        loss = huber(diff).mean()
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(self.step)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        n_samples = int(ray.numel())
        self._adapt_rays(n_samples, int(o.shape[0]))
        return float(loss.detach()), float((diff.detach() ** 2).mean()), n_samples

    def _adapt_rays(self, n_samples: int, n_rays_used: int) -> None:
        per_ray = max(n_samples, 1) / max(n_rays_used, 1)
        wanted = int(self.batch_samples / max(per_ray, 1e-3))
        self.n_rays = int(min(max(wanted, self.config.min_rays), 1 << 20, 4 * self.n_rays))

    def _density_fn(self, points: torch.Tensor) -> torch.Tensor:
        inputs = self.model.field_inputs()
        raw = self.model.field.density_outputs((points - inputs.aabb_min) / inputs.aabb_size)
        return torch.exp(raw[:, 0].float().clamp(-15.0, 15.0))

    def update_occupancy(self) -> None:
        update_grid(self.model.grid, self._density_fn, warmup=self.step < self.config.grid_warmup_steps,
                    generator=self.generator)

    # ------------------------------------------------------------------ loop
    def train(self, progress: Callable[[TrainProgress], None] | None = None, progress_every: int = 100) -> TrainResult:
        cfg = self.config
        mark_unseen_cells(self.model.grid, self.cameras, np.linalg.inv(self.model.asset_to_field))
        start = time.perf_counter()
        loss = mse = 0.0
        samples = 0
        while self.step < cfg.steps:
            if self.step % cfg.grid_interval == 0:
                self.update_occupancy()
            loss, mse, samples = self.train_step()
            self.step += 1
            elapsed = time.perf_counter() - start
            done = self.step >= cfg.steps or (cfg.time_limit_s is not None and elapsed >= cfg.time_limit_s)
            if progress is not None and (self.step % progress_every == 0 or done):
                progress(self._progress(loss, mse, samples, elapsed, done))
            if done:
                break
        self.update_occupancy()
        elapsed = time.perf_counter() - start
        self.model.metadata.update({"training_step": self.step, "loss": loss, "training_seconds": elapsed,
                                    "train_frames": len(self.train_frames), "test_frames": len(self.test_frames),
                                    "device": str(self.device), "accelerated": self.use_triton})
        return TrainResult(model=self.model, steps=self.step, elapsed_s=elapsed, train_frames=self.train_frames,
                           test_frames=self.test_frames)

    def _progress(self, loss: float, mse: float, samples: int, elapsed: float, last: bool) -> TrainProgress:
        occupancy = float(self.model.grid.occupied_cells(0).float().mean())
        psnr = -10.0 * math.log10(max(mse, 1e-10))
        return TrainProgress(step=self.step, steps=self.config.steps, loss=loss, batch_psnr=psnr, rays=self.n_rays,
                             samples=samples, elapsed_s=elapsed, occupancy=occupancy, last=last)
