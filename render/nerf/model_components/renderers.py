"""Volume rendering: compositing rules, the torch reference backend and the wavefront loop.

Rendering runs in rounds over the rays still alive: march up to K occupied samples per ray,
evaluate the field on them, composite them in order. A ray dies when its transmittance drops
below ``min_transmittance`` (early termination; like instant-ngp, its colour and opacity are then
renormalised to opacity 1) or when it leaves the clipped interval. K grows as rays die
(``RoundSchedule``), so late rounds stay large enough to fill the device.

Backends implement the three stages (``march``, ``evaluate``, ``composite``) with identical
semantics: ``TorchBackend`` here is the reference; the Triton backend replaces each stage with a
kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from render.cancel import check_cancelled
from render.nerf.fields.ngp_field import NgpField
from render.nerf.model_components.marching import MarchParams, march
from render.nerf.model_components.occupancy import OccupancyGrid

FIELD_CHUNK = 1 << 18


@dataclass(frozen=True)
class RoundSchedule:
    """How many samples each ray marches per round: a power of two near ``target / alive rays``.

    K starts small (few samples wasted behind early termination: most rays end within a few
    samples on opaque content) and may double each round, so the long tail of rays through thin
    content gets large K (fewer rounds, less launch and sync overhead). Powers of two because the
    compositing kernel specialises on K.
    """

    target: int = 1 << 22
    """Aim for about this many marched samples per round (2^22 was the fastest of 2^20..2^22 on an H200)."""
    max_per_ray: int = 32
    """The compositing kernel unrolls its loop over K; K <= 32 is what has been compiled and measured on
    the device (a run allowing K = 128 did not finish within its time limit, most likely compiling)."""
    min_per_ray: int = 2

    def samples(self, n_alive: int, round_index: int = 0) -> int:
        ceiling = min(self.max_per_ray, self.target // max(n_alive, 1), self.min_per_ray << min(round_index, 30))
        k = self.min_per_ray
        while k * 2 <= ceiling:
            k *= 2
        return k


@dataclass
class RayState:
    """Per-ray accumulators (all on the rays' device, float32)."""

    transmittance: torch.Tensor
    """(N,) remaining transmittance T."""
    rgb: torch.Tensor
    """(N, 3) accumulated premultiplied colour."""
    depth: torch.Tensor
    """(N,) accumulated weight x t (normalised-frame distance)."""

    @staticmethod
    def empty(n: int, device: torch.device) -> RayState:
        return RayState(torch.ones(n, device=device), torch.zeros(n, 3, device=device), torch.zeros(n, device=device))


@dataclass(frozen=True)
class FieldInputs:
    """What a backend needs to evaluate the field in the normalised frame."""

    field: NgpField
    aabb_min: torch.Tensor
    """(3,) float32 training-aabb minimum."""
    aabb_size: torch.Tensor
    """(3,) float32 training-aabb extent (positions map to (p - min) / size in [0, 1]^3)."""


class RenderBackend(Protocol):
    name: str

    def march(self, origins: torch.Tensor, dirs: torch.Tensor, t: torch.Tensor, t_end: torch.Tensor,
              grid: OccupancyGrid, params: MarchParams,
              max_samples: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]: ...

    def evaluate(self, inputs: FieldInputs, origins: torch.Tensor, dirs: torch.Tensor, sample_t: torch.Tensor,
                 count: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def composite(self, state: RayState, rays: torch.Tensor, sigma: torch.Tensor, rgb: torch.Tensor,
                  sample_t: torch.Tensor, sample_dt: torch.Tensor, count: torch.Tensor,
                  min_transmittance: float) -> None: ...


def composite_reference(state: RayState, rays: torch.Tensor, sigma: torch.Tensor, rgb: torch.Tensor,
                        sample_t: torch.Tensor, sample_dt: torch.Tensor, count: torch.Tensor,
                        min_transmittance: float) -> None:
    """Composite padded (n, K) samples into ``state`` rows ``rays`` (in place), front to back.

    A sample contributes only while the transmittance before it is >= ``min_transmittance``; a ray
    that falls below it is renormalised to opacity 1 (its transmittance set to 0).
    """
    k = sample_t.shape[1]
    valid = torch.arange(k, device=count.device)[None, :] < count[:, None]
    alpha = torch.where(valid, 1.0 - torch.exp(-sigma * sample_dt), 0.0)
    t0 = state.transmittance[rays]
    keep = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1.0 - alpha[:, :-1]], dim=1), dim=1)
    before = t0[:, None] * keep
    live = before >= min_transmittance
    weight = torch.where(live & valid, before * alpha, 0.0)
    t_new = t0 * torch.where(live, 1.0 - alpha, 1.0).prod(dim=1)
    rgb_acc = state.rgb[rays] + (weight[..., None] * rgb).sum(dim=1)
    depth_acc = state.depth[rays] + (weight * sample_t).sum(dim=1)
    done = t_new < min_transmittance
    norm = torch.where(done, 1.0 / (1.0 - t_new).clamp(min=1e-12), 1.0)
    state.rgb[rays] = rgb_acc * norm[:, None]
    state.depth[rays] = depth_acc * norm
    state.transmittance[rays] = torch.where(done, 0.0, t_new)


def evaluate_reference(inputs: FieldInputs, origins: torch.Tensor, dirs: torch.Tensor, sample_t: torch.Tensor,
                       count: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Field at the padded samples: density (n, K) and rgb (n, K, 3), zero beyond each count."""
    n, k = sample_t.shape
    valid = torch.arange(k, device=count.device)[None, :] < count[:, None]
    ray, slot = torch.nonzero(valid, as_tuple=True)
    sigma = torch.zeros(n, k, device=sample_t.device)
    rgb = torch.zeros(n, k, 3, device=sample_t.device)
    for start in range(0, ray.numel(), FIELD_CHUNK):
        r, s = ray[start:start + FIELD_CHUNK], slot[start:start + FIELD_CHUNK]
        pos = origins[r] + sample_t[r, s][:, None] * dirs[r]
        x = (pos - inputs.aabb_min) / inputs.aabb_size
        with torch.no_grad():
            density, color = inputs.field(x, dirs[r])
        sigma[r, s] = density.float()
        rgb[r, s] = color.float()
    return sigma, rgb


class TorchBackend:
    """The reference: plain torch on any device."""

    name = "torch"

    def march(self, origins: torch.Tensor, dirs: torch.Tensor, t: torch.Tensor, t_end: torch.Tensor,
              grid: OccupancyGrid, params: MarchParams,
              max_samples: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return march(origins, dirs, t, t_end, grid, params, max_samples)

    def evaluate(self, inputs: FieldInputs, origins: torch.Tensor, dirs: torch.Tensor, sample_t: torch.Tensor,
                 count: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return evaluate_reference(inputs, origins, dirs, sample_t, count)

    def composite(self, state: RayState, rays: torch.Tensor, sigma: torch.Tensor, rgb: torch.Tensor,
                  sample_t: torch.Tensor, sample_dt: torch.Tensor, count: torch.Tensor,
                  min_transmittance: float) -> None:
        composite_reference(state, rays, sigma, rgb, sample_t, sample_dt, count, min_transmittance)


@dataclass
class RenderStats:
    rounds: int = 0
    samples: int = 0
    """Field evaluations (valid marched samples)."""
    live_rays: int = 0
    """Rays that survived clipping (entered the boxes)."""


def render_normalised(inputs: FieldInputs, grid: OccupancyGrid, params: MarchParams, origins: torch.Tensor,
                      dirs: torch.Tensor, t_start: torch.Tensor, t_end: torch.Tensor, backend: RenderBackend,
                      min_transmittance: float = 0.01, stats: RenderStats | None = None,
                      schedule: RoundSchedule | None = None) -> RayState:
    """Render (N, 3) rays in the normalised frame between ``t_start`` and ``t_end`` (wavefront loop)."""
    schedule = schedule or RoundSchedule()
    n, device = origins.shape[0], origins.device
    state = RayState.empty(n, device)
    t = t_start.clone()
    alive = torch.nonzero(t_start < t_end).squeeze(1)
    samples = torch.zeros((), dtype=torch.int64, device=device)
    rounds = 0
    n_live = int(alive.numel())
    while alive.numel() > 0:
        check_cancelled()
        k = schedule.samples(int(alive.numel()), rounds)
        o, d = origins[alive], dirs[alive]
        sample_t, sample_dt, count, t_next = backend.march(o, d, t[alive], t_end[alive], grid, params, k)
        t[alive] = t_next
        sigma, rgb = backend.evaluate(inputs, o, d, sample_t, count)
        backend.composite(state, alive, sigma, rgb, sample_t, sample_dt, count, min_transmittance)
        samples += count.sum()
        rounds += 1
        still = (state.transmittance[alive] >= min_transmittance) & (t_next < t_end[alive])
        alive = alive[still]
    if stats is not None:
        stats.rounds += rounds
        stats.samples += int(samples)
        stats.live_rays += n_live
    return state
