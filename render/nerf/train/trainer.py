"""Training an instant-ngp NeRF from a posed image set.

The asset frame is the dataset's world frame; the field lives in instant-ngp's normalised frame
(the dataset's ``scale``/``offset`` and the axis cycle, stored with the model and undone at render
time). Each step samples random pixels of random training images, marches their rays through
the occupancy grid (jittered start) in rounds, evaluating the density without gradients and
stopping each ray behind transmittance 1e-4 (ray_batch.py), evaluates the field with gradients
on the kept samples, composites them over a random background (so opacity is learned from images
with alpha) and takes one Adam step on a Huber loss. The occupancy grid follows instant-ngp's
schedule (grid_updates.py). The number of rays per step adapts so that each step keeps about
``batch_samples`` samples.

Threading: ``NerfTrainer.train`` runs on the caller's thread and calls ``progress`` there: every
``progress_every`` steps and after the last (``TrainProgress.last``). Only those reports read
values back from the device (loss, PSNR); the steps in between do not wait for it except where
the marcher needs sample counts.
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
from render.nerf.model_components.flat_compositing import composite_samples
from render.nerf.model_components.marching import SQRT3, MarchedSamples, clip_rays, march_samples, step_size
from render.nerf.model_components.occupancy import NGP_GRID_RESOLUTION, OccupancyGrid, cascades_for_aabb_scale
from render.nerf.model_components.renderers import RenderBackend, TorchBackend
from render.nerf.train.camera_rays import FrameCameras
from render.nerf.train.dataset import Frame, PosedImageSet, load_image
from render.nerf.train.grid_updates import mark_unseen_cells, update_grid
from render.nerf.train.presets import PresetName, TrainPreset, preset_for
from render.nerf.train.ray_batch import CompactedBatch, march_all, march_compacted

HUBER_DELTA = 0.1


@dataclass(kw_only=True)
class TrainConfig:
    steps: int = 2000
    """Adam steps."""
    field: FieldConfig = field(default_factory=FieldConfig)
    """Network; ``per_level_scale`` is replaced by instant-ngp's default for the dataset's aabb_scale."""
    batch_samples: int | None = None
    """Target samples per step that get gradients (None: instant-ngp's 2^18 on CUDA, 2^14 on CPU)."""
    initial_rays: int = 4096
    min_rays: int = 256
    """Lower bound of the adaptive rays per step."""
    max_samples_per_ray: int = 512
    compact_rays: bool = True
    """Drop the samples behind transmittance 1e-4 before the backward pass (instant-ngp), marching in
    rounds; False: every marched sample gets gradients (one round, as before compaction)."""
    first_round: int = 16
    """Samples marched per ray in the first round of a step (then doubling while rays stay transparent)."""
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
    """Stop early when training has run this long (the learning-rate decay follows the nearer limit)."""
    accelerate: Literal["auto", "torch", "triton"] = "auto"
    """Triton kernels for marching and the hash encoding (on CUDA), or the torch reference."""
    seed: int = 0

    @staticmethod
    def from_preset(preset: TrainPreset) -> TrainConfig:
        """The preset's network, grid and batch; set the run's other fields on the result
        (``dataclasses.replace``)."""
        return TrainConfig(field=preset.field, grid_resolution=preset.grid_resolution, min_step=preset.min_step,
                           batch_samples=preset.batch_samples, initial_rays=preset.initial_rays)

    @staticmethod
    def for_device(device: torch.device | str, preset: PresetName = "auto", *, grid_resolution: int | None = None,
                   log2_hashmap_size: int | None = None, batch_samples: int | None = None) -> TrainConfig:
        """:meth:`from_preset` with the preset for ``device`` (presets.py), the given settings replaced."""
        return TrainConfig.from_preset(preset_for(preset, device).with_overrides(
            grid_resolution=grid_resolution, log2_hashmap_size=log2_hashmap_size, batch_samples=batch_samples))


@dataclass(kw_only=True)
class TrainProgress:
    step: int
    steps: int
    loss: float
    batch_psnr: float
    """PSNR of this step's batch (from its MSE, dB)."""
    rays: int
    samples: int
    """Samples of this step that got gradients (after compaction)."""
    elapsed_s: float
    occupancy: float
    """Fraction of occupied cells in cascade 0."""
    marched: int = 0
    """Samples of this step marched and density-evaluated (before compaction)."""
    eta_s: float = 0.0
    """Estimated training time left: the sooner of the step count and the time limit."""
    last: bool = False
    """Training stops after this step (its step count reached, or its time limit)."""


@dataclass(kw_only=True)
class TrainResult:
    model: NerfModel
    steps: int
    elapsed_s: float
    train_frames: list[Frame]
    test_frames: list[Frame]
    samples: int = 0
    """Samples that got gradients, over all steps."""
    marched: int = 0
    """Samples marched (density-evaluated), over all steps."""


@dataclass(frozen=True, kw_only=True)
class StepResult:
    """One step's outcome; ``loss`` and ``mse`` stay on the device until a report reads them."""

    loss: torch.Tensor
    mse: torch.Tensor
    samples: int
    marched: int
    rays: int


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
        self.boxes = self.model.clip_boxes(None)
        self.step = 0
        self.elapsed_s = 0.0

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
        fused = self.device.type in ("cuda", "cpu")
        return torch.optim.Adam(groups, lr=self.config.learning_rate, betas=(0.9, 0.99), eps=1e-15, fused=fused)

    def learning_rate(self, step: int) -> float:
        """instant-ngp's exponential decay (x0.33 per interval), started at 60% of a short run.

        With a time limit the run's progress is the further of its steps and its time, so a run
        that will stop on time still decays.
        """
        steps = self.config.steps
        limit = self.config.time_limit_s
        if limit:
            step = max(step, int(steps * min(1.0, self.elapsed_s / limit)))
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

    def _march(self, o: torch.Tensor, d: torch.Tensor, t: torch.Tensor, t_end: torch.Tensor,
               k: int) -> MarchedSamples:
        params = self.model.march_params()
        if self.use_triton:
            return MarchedSamples.from_padded(*self.backend.march(o, d, t, t_end, self.model.grid, params, k))
        return march_samples(o, d, t, t_end, self.model.grid, params, k)

    def _samples(self, o: torch.Tensor, d: torch.Tensor) -> CompactedBatch:
        """The step's kept samples (no gradients), from jittered starts."""
        t0, t1 = clip_rays(o, d, self.boxes)
        t0 = t0 + torch.rand(t0.shape, device=self.device, generator=self.generator) * step_size(
            t0, self.model.march_params())
        cfg, budget = self.config, 2 * self.batch_samples
        with torch.no_grad():
            if not cfg.compact_rays:
                return march_all(o, d, t0, t1, self._march, max_samples_per_ray=cfg.max_samples_per_ray,
                                 sample_budget=budget)
            return march_compacted(o, d, t0, t1, self._march, self._density_fn,
                                   max_samples_per_ray=cfg.max_samples_per_ray, sample_budget=budget,
                                   first_round=cfg.first_round)

    def _render(self, samples: MarchedSamples, o: torch.Tensor, d: torch.Tensor,
                background: torch.Tensor) -> torch.Tensor:
        """(n, 3) colours of the rays over ``background``, differentiable in the field."""
        inputs = self.model.field_inputs()
        ray = samples.ray
        x = (o[ray] + samples.t[:, None] * d[ray] - inputs.aabb_min) / inputs.aabb_size
        raw = self.model.field.density_outputs(x)
        sigma = torch.exp(raw[:, 0].float().clamp(-15.0, 15.0))
        color = self.model.field.color(raw, d[ray]).float()
        predicted, _ = composite_samples(sigma, color, samples.dt, ray, samples.count, background)
        return predicted

    def train_step(self) -> StepResult:
        """One optimisation step (see the module docstring)."""
        origins, dirs, target = self._sample_batch()
        o, d = self.model.rays_to_field(origins, dirs)
        batch = self._samples(o, d)
        n = batch.n_rays
        o, d, target = o[:n], d[:n], target[:n]
        background = torch.rand(n, 3, device=self.device, generator=self.generator)
        predicted = self._render(batch.samples, o, d, background)
        expected = target[:, :3] * target[:, 3:] + background * (1.0 - target[:, 3:])
        diff = predicted - expected
        loss = huber(diff).mean()
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(self.step)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        n_samples = int(batch.samples.t.numel())
        self._adapt_rays(n_samples, n)
        return StepResult(loss=loss.detach(), mse=(diff.detach() ** 2).mean(), samples=n_samples,
                          marched=batch.marched, rays=n)

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
        result: StepResult | None = None
        samples = marched = 0
        while self.step < cfg.steps:
            if self.step % cfg.grid_interval == 0:
                self.update_occupancy()
            result = self.train_step()
            samples, marched = samples + result.samples, marched + result.marched
            self.step += 1
            self.elapsed_s = time.perf_counter() - start
            done = self.step >= cfg.steps or (cfg.time_limit_s is not None and self.elapsed_s >= cfg.time_limit_s)
            if progress is not None and (self.step % progress_every == 0 or done):
                progress(self._progress(result, done))
            if done:
                break
        self.update_occupancy()
        self.elapsed_s = time.perf_counter() - start
        loss = float(result.loss) if result is not None else 0.0
        self.model.metadata.update({"training_step": self.step, "loss": loss, "training_seconds": self.elapsed_s,
                                    "train_frames": len(self.train_frames), "test_frames": len(self.test_frames),
                                    "device": str(self.device), "accelerated": self.use_triton})
        return TrainResult(model=self.model, steps=self.step, elapsed_s=self.elapsed_s,
                           train_frames=self.train_frames, test_frames=self.test_frames, samples=samples,
                           marched=marched)

    def eta_s(self) -> float:
        """Seconds of training left at the current pace: the sooner of the step count and the time limit."""
        left = self.elapsed_s / max(self.step, 1) * max(self.config.steps - self.step, 0)
        if self.config.time_limit_s is not None:
            left = min(left, max(self.config.time_limit_s - self.elapsed_s, 0.0))
        return left

    def _progress(self, result: StepResult, last: bool) -> TrainProgress:
        occupancy = float(self.model.grid.occupied_cells(0).float().mean())
        loss, mse = float(result.loss), float(result.mse)
        psnr = -10.0 * math.log10(max(mse, 1e-10))
        return TrainProgress(step=self.step, steps=self.config.steps, loss=loss, batch_psnr=psnr, rays=result.rays,
                             samples=result.samples, marched=result.marched, elapsed_s=self.elapsed_s,
                             occupancy=occupancy, eta_s=0.0 if last else self.eta_s(), last=last)
