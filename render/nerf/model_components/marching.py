"""Ray marching through the occupancy grid: the torch reference of the fast marching kernel.

Everything is in the normalised frame. A ray ``o + t d`` (``d`` unit) is first clipped to the
intersection of the training aabb and any oriented crop boxes (rays that miss die before
marching; the boxes are convex, so every sample between the clipped ends lies inside them).

Sample positions follow instant-ngp's *stepping space* ``s(t)``: linear in ``t`` with step
``min_step`` near the origin, logarithmic where cone stepping applies (step ``t * cone_angle``),
linear again with step ``max_step`` far away (``step_size`` is ``clamp(t * cone_angle, min_step,
max_step)`` up to the rounding of the joins; a fixed ``min_step`` when cone_angle is 0). A ray that
starts at ``t0`` has the candidate samples ``t_0 = t0``, ``t_i = t(s(t0) + i)``, i = 1, 2, ...; it emits, in
order, each candidate before its clipped end whose cell is occupied in the smallest cascade
containing it (instant-ngp's ``mip_from_pos``), with ``dt_i = t_{i+1} - t_i``, up to
``max_samples``; the caller resumes from the returned distance (the next candidate).

Empty space costs nothing in the fast kernel (render/nerf/kernels/triton_march.py): it skips to the
exit of the coarsest empty cell around a candidate in whole steps of stepping space, landing on the
first candidate past the exit (or past the clipped end), which gives the same samples, since every
skipped candidate lies in that empty cell. This reference does not skip: it tests every candidate
in batched blocks, which on a CPU costs far less than a Python loop over skip and sample events.
Both emit the same samples up to float rounding at cell borders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from render.nerf.model_components.occupancy import OccupancyGrid

SQRT3 = math.sqrt(3.0)
FAR = 1e10
LINEAR_CONE = 1e-5
"""Cone angles at or below this step linearly (instant-ngp's threshold)."""
CANDIDATES_PER_PASS = 1 << 21
"""Rays are marched in groups of about this many candidate samples (bounds the memory)."""


@dataclass(frozen=True)
class MarchParams:
    """Step-size rules of the marcher (normalised-frame units)."""

    cone_angle: float = 1.0 / 256.0
    """dt grows as t * cone_angle (instant-ngp uses 1/256 when aabb_scale > 1, else 0)."""
    min_step: float = SQRT3 / 1024.0
    """Finest step: sqrt(3)/1024 (1024 steps across the unit cube's diagonal)."""
    max_step: float = SQRT3
    """Coarsest step."""
    max_iterations: int = 1 << 16
    """Safety bound on the candidates (reference) or skip + sample events (kernel) of one marching call."""

    @staticmethod
    def for_grid(n_cascades: int, resolution: int, cone_angle: float, min_step: float = SQRT3 / 1024.0) -> MarchParams:
        """instant-ngp's rule: the maximum step is the coarsest cascade's cell diagonal."""
        max_step = max(min_step, SQRT3 * 2.0 ** (n_cascades - 1) / resolution)
        return MarchParams(cone_angle=cone_angle, min_step=min_step, max_step=max_step)

    @property
    def linear(self) -> bool:
        return self.cone_angle <= LINEAR_CONE

    def stepping_constants(self) -> tuple[float, float, float, float, float]:
        """``(log1p_c, a, b, at, bt)`` of instant-ngp's stepping space: the cone region is
        ``a <= s <= b`` (``at <= t <= bt``); only meaningful when not ``linear``."""
        log1p_c = math.log1p(self.cone_angle)
        a = (math.log(self.min_step) - math.log(log1p_c)) / log1p_c
        b = (math.log(self.max_step) - math.log(log1p_c)) / log1p_c
        return log1p_c, a, b, math.exp(a * log1p_c), math.exp(b * log1p_c)


def to_stepping_space(t: torch.Tensor, params: MarchParams) -> torch.Tensor:
    """Distance ``t`` -> stepping-space coordinate ``s`` (one unit of ``s`` is one marching step)."""
    if params.linear:
        return t / params.min_step
    log1p_c, a, b, at, bt = params.stepping_constants()
    near = (t - at) / params.min_step + a
    far = (t - bt) / params.max_step + b
    return torch.where(t <= at, near, torch.where(t <= bt, torch.log(t.clamp(min=at)) / log1p_c, far))


def from_stepping_space(s: torch.Tensor, params: MarchParams) -> torch.Tensor:
    """Inverse of :func:`to_stepping_space`."""
    if params.linear:
        return s * params.min_step
    log1p_c, a, b, at, bt = params.stepping_constants()
    near = (s - a) * params.min_step + at
    far = (s - b) * params.max_step + bt
    return torch.where(s <= a, near, torch.where(s <= b, torch.exp(s.clamp(max=b) * log1p_c), far))


def step_size(t: torch.Tensor, params: MarchParams) -> torch.Tensor:
    """The step from ``t`` to the next candidate: ``clamp(t * cone_angle, min_step, max_step)``."""
    return candidate_step(to_stepping_space(t, params), t, params)


def candidate_step(s: torch.Tensor, t: torch.Tensor, params: MarchParams) -> torch.Tensor:
    """``t(s + 1) - t`` for candidates at stepping-space ``s`` (distance ``t``); exactly ``min_step`` when linear."""
    if params.linear:
        return torch.full_like(t, params.min_step)
    return from_stepping_space(s + 1.0, params) - t


@dataclass(frozen=True)
class Box:
    """An oriented box in the normalised frame: points p with |R^T (p - c)| <= h per axis."""

    center: torch.Tensor
    """(3,) float32."""
    rotation: torch.Tensor
    """(3, 3) float32, the box axes as columns."""
    half_extents: torch.Tensor
    """(3,) float32."""


def ray_box_interval(origins: torch.Tensor, dirs: torch.Tensor, box: Box) -> tuple[torch.Tensor, torch.Tensor]:
    """Entry and exit distances (N,) of rays with a box (slab test in the box frame); exit < entry: miss."""
    o = (origins - box.center) @ box.rotation
    d = dirs @ box.rotation
    safe = torch.where(d.abs() < 1e-12, torch.full_like(d, 1e-12), d)
    t1 = (-box.half_extents - o) / safe
    t2 = (box.half_extents - o) / safe
    lo, hi = torch.minimum(t1, t2), torch.maximum(t1, t2)
    # Axis-parallel rays: inside the slab -> unbounded, outside -> miss.
    parallel = d.abs() < 1e-12
    inside = (o.abs() <= box.half_extents)
    lo = torch.where(parallel, torch.where(inside, -FAR, FAR), lo)
    hi = torch.where(parallel, torch.where(inside, FAR, -FAR), hi)
    return lo.amax(dim=-1), hi.amin(dim=-1)


def clip_rays(origins: torch.Tensor, dirs: torch.Tensor, boxes: list[Box],
              near: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Start and end distances (N,) inside every box (and beyond ``near``); start >= end: dead ray."""
    start = torch.full(origins.shape[:1], near, dtype=origins.dtype, device=origins.device)
    end = torch.full_like(start, FAR)
    for box in boxes:
        lo, hi = ray_box_interval(origins, dirs, box)
        start, end = torch.maximum(start, lo), torch.minimum(end, hi)
    return start, end


def cascade_at(positions: torch.Tensor, n_cascades: int) -> torch.Tensor:
    """instant-ngp's ``mip_from_pos``: smallest cascade whose cube contains the point (int64).

    The frexp exponent of ``max |p - 0.5|`` is read from the float32 bits (as the kernel does; for
    an extent of exactly 0 this gives cascade 0 where ``frexpf`` would give 1).
    """
    extent = (positions.float() - 0.5).abs().amax(dim=-1)
    exponent = ((extent.view(torch.int32) >> 23) & 0xFF).to(torch.int64) - 126
    return (exponent + 1).clamp(0, n_cascades - 1)


@dataclass(frozen=True, kw_only=True)
class MarchedSamples:
    """Samples of N rays as flat lists, grouped by ray (ascending), in marching order within a ray."""

    ray: torch.Tensor
    """(M,) int64 ray of each sample."""
    t: torch.Tensor
    """(M,) float32 sample distance."""
    dt: torch.Tensor
    """(M,) float32 step to the next candidate (the sample's segment length)."""
    count: torch.Tensor
    """(N,) int64 samples per ray."""
    t_next: torch.Tensor
    """(N,) float32 where each ray resumes (>= its end once it has no candidates left)."""

    @staticmethod
    def from_padded(sample_t: torch.Tensor, sample_dt: torch.Tensor, count: torch.Tensor,
                    t_next: torch.Tensor) -> MarchedSamples:
        """The flat form of a backend's padded ``march`` result."""
        k = sample_t.shape[1]
        valid = torch.arange(k, device=count.device)[None, :] < count[:, None]
        ray, slot = torch.nonzero(valid, as_tuple=True)
        return MarchedSamples(ray=ray, t=sample_t[ray, slot], dt=sample_dt[ray, slot], count=count.long(),
                              t_next=t_next)

    def padded(self, max_samples: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(sample_t, sample_dt)``: (N, max_samples) float32, zero beyond each ray's count."""
        n = self.count.shape[0]
        first = torch.cumsum(self.count, 0) - self.count
        slot = torch.arange(self.ray.shape[0], device=self.ray.device) - first[self.ray]
        sample_t = torch.zeros(n, max_samples, dtype=torch.float32, device=self.ray.device)
        sample_dt = torch.zeros_like(sample_t)
        sample_t[self.ray, slot] = self.t
        sample_dt[self.ray, slot] = self.dt
        return sample_t, sample_dt


@dataclass(kw_only=True)
class _RayCursor:
    """Per-ray marching state of :func:`march_samples` (all (N,))."""

    t0: torch.Tensor
    """Where the ray starts (candidate 0)."""
    s0: torch.Tensor
    """Stepping-space coordinate of the start."""
    next_index: torch.Tensor
    """Float: the next candidate to test (candidate i is at ``s0 + i``)."""
    count: torch.Tensor
    finished: torch.Tensor
    """No candidates before the end are left (or the safety bound was reached)."""


def _occupied_span(origins: torch.Tensor, dirs: torch.Tensor, t: torch.Tensor, t_end: torch.Tensor,
                   s0: torch.Tensor, grid: OccupancyGrid, params: MarchParams) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each ray's candidates can be occupied: the first candidate index worth testing (float)
    and the distance to stop at, from the box around all occupied cells (outside it every candidate
    is empty, so starting later and stopping earlier changes no sample)."""
    lo, hi = grid.occupied_bounds()
    margin = params.min_step
    box = Box(center=(lo + hi) / 2, rotation=torch.eye(3, device=lo.device), half_extents=(hi - lo) / 2 + margin)
    entry, exit_ = ray_box_interval(origins, dirs, box)
    if not grid.any_occupied():
        exit_ = torch.full_like(exit_, -FAR)
    t_stop = torch.minimum(t_end, exit_)
    skipped = torch.floor(to_stepping_space(torch.maximum(entry, t), params) - s0) - 1.0
    return skipped.clamp(min=0.0).nan_to_num(0.0), torch.where(entry < t_stop, t_stop, t)


def _block_size(max_samples: int) -> int:
    """Candidates tested per ray and pass: a few times the samples wanted (fewer passes), at most 128."""
    return max(16, min(128, 1 << max(0, (4 * max_samples - 1).bit_length())))


def _march_block(rays: torch.Tensor, origins: torch.Tensor, dirs: torch.Tensor, t_end: torch.Tensor,
                 cursor: _RayCursor, grid: OccupancyGrid, params: MarchParams, max_samples: int,
                 block: int) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Test the next ``block`` candidates of ``rays``; returns the rays still marching and the
    emitted samples ``(ray, t, dt)`` in ray-major order."""
    steps = torch.arange(block, device=rays.device, dtype=torch.float32)
    index = cursor.next_index[rays, None] + steps
    s = cursor.s0[rays, None] + index
    # candidate 0 is the start itself (the round trip through stepping space would round it)
    t = torch.where(index == 0, cursor.t0[rays, None], from_stepping_space(s, params))
    before_end = t < t_end[rays, None]
    positions = origins[rays, None, :] + t[..., None] * dirs[rays, None, :]
    occupied = grid.occupied_at(positions.reshape(-1, 3)).view(t.shape) & before_end
    room = max_samples - cursor.count[rays]
    emit = occupied & (torch.cumsum(occupied, 1) <= room[:, None])
    n_emit = emit.sum(1)
    full = n_emit >= room
    last_emitted = torch.where(emit, steps, -1.0).amax(1)
    n_before_end = before_end.sum(1).to(torch.float32)
    cursor.next_index[rays] += torch.where(full, last_emitted + 1.0, n_before_end)
    cursor.count[rays] += n_emit
    ended = ~before_end[:, -1] | (cursor.next_index[rays] >= params.max_iterations)
    cursor.finished[rays] = ended & ~full
    r, k = torch.nonzero(emit, as_tuple=True)
    t_emit = t[r, k]
    dt = candidate_step(s[r, k], t_emit, params)
    return rays[~(full | ended)], (rays[r], t_emit, dt)


def march_samples(origins: torch.Tensor, dirs: torch.Tensor, t: torch.Tensor, t_end: torch.Tensor,
                  grid: OccupancyGrid, params: MarchParams, max_samples: int) -> MarchedSamples:
    """Emit up to ``max_samples`` occupied samples per ray, from ``t`` towards ``t_end`` (see the module
    docstring); ``origins``, ``dirs`` (N, 3) float32, ``t``, ``t_end`` (N,)."""
    n, device = origins.shape[0], origins.device
    s0 = to_stepping_space(t.float(), params)
    first, t_stop = _occupied_span(origins, dirs, t.float(), t_end.float(), s0, grid, params)
    cursor = _RayCursor(t0=t.float(), s0=s0, next_index=first, count=torch.zeros(n, dtype=torch.int64, device=device),
                        finished=torch.ones(n, dtype=torch.bool, device=device))
    block = _block_size(max_samples)
    alive = torch.nonzero(t.float() < t_stop).squeeze(1)
    cursor.finished[alive] = False
    pieces: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    while alive.numel() > 0:
        still = []
        for group in alive.split(max(1, CANDIDATES_PER_PASS // block)):
            left, emitted = _march_block(group, origins, dirs, t_stop, cursor, grid, params, max_samples, block)
            still.append(left)
            pieces.append(emitted)
        alive = torch.cat(still)
    return _gather_samples(pieces, cursor, t, t_end, params)


def _gather_samples(pieces: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], cursor: _RayCursor,
                    t: torch.Tensor, t_end: torch.Tensor, params: MarchParams) -> MarchedSamples:
    """Concatenate the emitted pieces, group them by ray (a stable sort keeps each ray's order)."""
    if pieces:
        ray, ts, dt = (torch.cat(parts) for parts in zip(*pieces, strict=True))
        if len(pieces) > 1:
            order = torch.argsort(ray, stable=True)
            ray, ts, dt = ray[order], ts[order], dt[order]
    else:
        ray = torch.zeros(0, dtype=torch.int64, device=t.device)
        ts = dt = torch.zeros(0, dtype=torch.float32, device=t.device)
    # A finished ray resumes at its first candidate at or past its end (where the kernel's skips land).
    past_end = torch.ceil(to_stepping_space(t_end.float(), params) - cursor.s0).clamp(min=0.0)
    index = torch.where(cursor.finished, past_end, cursor.next_index)
    t_next = torch.where(index == 0, cursor.t0, from_stepping_space(cursor.s0 + index, params))
    t_next = torch.where(cursor.finished, torch.maximum(t_next, t_end.float()), t_next)
    return MarchedSamples(ray=ray, t=ts, dt=dt, count=cursor.count, t_next=t_next)


def march(origins: torch.Tensor, dirs: torch.Tensor, t: torch.Tensor, t_end: torch.Tensor, grid: OccupancyGrid,
          params: MarchParams, max_samples: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`march_samples` with padded outputs, the contract of the render backends' ``march``.

    Returns ``(sample_t, sample_dt, count, t)``: (N, K) float32 sample distances and steps (slots at
    or beyond ``count`` are 0), (N,) int64 counts, and each ray's resume distance.
    """
    marched = march_samples(origins, dirs, t, t_end, grid, params, max_samples)
    sample_t, sample_dt = marched.padded(max_samples)
    return sample_t, sample_dt, marched.count, marched.t_next
