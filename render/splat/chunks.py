"""Spatial chunks of a splat model, built once, so a frame can skip whole regions on the host.

The splats are ordered by (size class, Morton code of the centre) and cut into chunks of
``chunk_size`` consecutive splats (a power of two; the last chunk is padded). Each chunk records the
axis-aligned box of its splats' **centres** and the largest **support radius** among them
(``raster_inputs.support_radius``: beyond it a splat's alpha is below 1/255 everywhere), so the
box grown by that radius holds every splat's support. Sorting by size class first keeps the few
huge splats (a sky dome, floaters) from inflating the chunks of the many small ones.

How many chunks: culling costs the host a (planes x 8) by (8 x chunks) product a frame (~30 us
for 600 chunks on a loaded 2-core VM), and smaller chunks cull tighter (on the demo stage a 2 %
ceiling sliver keeps 2,500 of 306,900 splats with 64-splat chunks, 17,400 with 512). On CUDA the
sorts of a few thousand splats cost about the same as of a few hundred, so an index aims at ~1,000
chunks there; the torch reference on a CPU pays per splat, so it aims at ~8,000 (``TARGET_CHUNKS``).

``chunk_culling.visible_chunks`` tests these boxes against a frame's window frustum and DoD crop
(numpy, on the host, no device sync); the rasterizers then process only the splats of the chunks
that survive (``SplatChunks.splat_ids`` for the torch reference, ``perm`` plus a chunk list for the
Triton projection kernel).

An index is built on the model's device (one argsort and a few reductions, then one copy of the
per-chunk boxes to the host) and cached per model: ``chunks_for`` keys it on the tensors' storage
and their in-place version counters, so a model edited in place gets a fresh index.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

from render.splat.raster_inputs import support_radius

TARGET_CHUNKS = {"cuda": 1024, "cpu": 8192}
"""About how many chunks an index aims for, by device type (see the module docstring)."""
MIN_CHUNK_SIZE = 32
MAX_CHUNK_SIZE = 4096
UNBOUNDED = 1e300
"""Half extent and radius given to a chunk with a non-finite bound: never culled."""
MORTON_BITS = 19
"""Bits per axis of the Morton code (57 bits in all, under the size class in an int64 key)."""
SIZE_CLASSES = 4
CACHE_SIZE = 8


@dataclass(frozen=True, eq=False, kw_only=True)
class SplatChunks:
    """A model's splats in spatial chunks of ``chunk_size``.

    ``perm`` (chunks * chunk_size,) int32 on the model's device: the splat index at each ordered
    slot, -1 in the padding of the last chunk. Host arrays, float64, asset frame: ``boxes``
    (8, chunks) each chunk's centre-box centre (3 rows), half extents (3), largest support radius
    (slightly inflated to absorb float32 rounding on the device; a chunk with a non-finite bound
    gets ``UNBOUNDED``) and a row of ones (for the planes' offsets: culling is one product);
    ``counts`` (chunks,) int64 real splats per chunk.
    """

    chunk_size: int
    perm: torch.Tensor
    boxes: np.ndarray
    counts: np.ndarray
    splats: int

    @property
    def num_chunks(self) -> int:
        return int(self.counts.shape[0])

    @property
    def lo(self) -> np.ndarray:
        """(chunks, 3) lowest centre per axis."""
        return np.asarray((self.boxes[0:3] - self.boxes[3:6]).T)

    @property
    def hi(self) -> np.ndarray:
        """(chunks, 3) highest centre per axis."""
        return np.asarray((self.boxes[0:3] + self.boxes[3:6]).T)

    @property
    def radius(self) -> np.ndarray:
        """(chunks,) largest support radius (inflated for rounding)."""
        return np.asarray(self.boxes[6])

    def support_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi) (chunks, 3): boxes holding every splat's support (centre +- its radius)."""
        return self.lo - self.radius[:, None], self.hi + self.radius[:, None]

    def splat_count(self, chunk_ids: np.ndarray) -> int:
        """Real splats (padding left out) in the chunks ``chunk_ids``."""
        return int(self.counts[chunk_ids].sum())

    def splat_ids(self, chunk_ids: np.ndarray) -> torch.Tensor:
        """(M,) int64 indices of the splats in ``chunk_ids``, ascending (the model's own order), on
        the model's device."""
        rows = torch.from_numpy(np.asarray(chunk_ids, dtype=np.int64)).to(self.perm.device)
        ids = self.perm.view(-1, self.chunk_size)[rows].reshape(-1)
        ids = ids[ids >= 0].long()
        return torch.sort(ids).values


def chunk_size_for(count: int, device_type: str = "cuda") -> int:
    """The chunk size for ``count`` splats on a device of ``device_type``: a power of two giving
    about ``TARGET_CHUNKS`` chunks, within [``MIN_CHUNK_SIZE``, ``MAX_CHUNK_SIZE``]."""
    target = TARGET_CHUNKS.get(device_type, TARGET_CHUNKS["cuda"])
    size = 1 << max(0, math.ceil(math.log2(max(count, 1) / target)))
    return min(max(size, MIN_CHUNK_SIZE), MAX_CHUNK_SIZE)


def _spread_bits(values: torch.Tensor) -> torch.Tensor:
    """Spread the low 19 bits of int64 ``values`` to every third bit (for a 3D Morton code)."""
    x = values & 0x7FFFF
    x = (x | (x << 32)) & 0x1F00000000FFFF
    x = (x | (x << 16)) & 0x1F0000FF0000FF
    x = (x | (x << 8)) & 0x100F00F00F00F00F
    x = (x | (x << 4)) & 0x10C30C30C30C30C3
    return (x | (x << 2)) & 0x1249249249249249


def spatial_order(means: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """(N,) int64 permutation sorting splats by size class, then by the Morton code of their centre
    (within the box of all finite centres)."""
    finite = torch.isfinite(means).all(dim=1)
    centres = torch.where(finite[:, None], means, torch.zeros_like(means)).double()
    if bool(finite.any()):
        lo, hi = centres[finite].amin(dim=0), centres[finite].amax(dim=0)
    else:
        lo, hi = centres.new_zeros(3), centres.new_ones(3)
    cells = (1 << MORTON_BITS) - 1
    q = ((centres - lo) / (hi - lo).clamp_min(1e-12) * cells).clamp(0, cells).long()
    morton = _spread_bits(q[:, 0]) | (_spread_bits(q[:, 1]) << 1) | (_spread_bits(q[:, 2]) << 2)
    finite_radii = torch.nan_to_num(radii.double(), nan=0.0, posinf=1e30)
    typical = finite_radii.median().clamp_min(1e-12) if radii.numel() else finite_radii.new_ones(())
    size_class = torch.log2(finite_radii.clamp_min(1e-30) / typical).div(2.0).round().clamp(0, SIZE_CLASSES - 1)
    return torch.argsort((size_class.long() << (3 * MORTON_BITS)) | morton, stable=True)


def build_chunks(means: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor,
                 chunk_size: int | None = None) -> SplatChunks:
    """The chunk index of splats (N, 3) centres, (N, 3) scales, (N,) opacities on any device.

    ``chunk_size``: a power of two (default ``chunk_size_for(N, device type)``).
    """
    n = int(means.shape[0])
    size = chunk_size_for(n, means.device.type) if chunk_size is None else int(chunk_size)
    if size < 1 or size & (size - 1):
        raise ValueError(f"chunk size must be a power of two, got {size}")
    radii = support_radius(scales, opacities)
    order = spatial_order(means, radii)
    chunks = -(-n // size)
    pad = chunks * size - n
    perm = torch.cat([order, order.new_full((pad,), -1)]).to(torch.int32)
    # for the per-chunk reductions the padding repeats the last splat, so it changes no bound
    filled = torch.cat([order, order[-1:].expand(pad)]) if n else order
    centres = means.detach()[filled].double().view(chunks, size, 3)
    reach = radii.detach()[filled].double().view(chunks, size)
    lo, hi = centres.amin(dim=1), centres.amax(dim=1)
    radius = reach.amax(dim=1)
    counts = np.full(chunks, size, dtype=np.int64)
    if pad:
        counts[-1] = size - pad
    return SplatChunks(chunk_size=size, perm=perm.contiguous(), boxes=_boxes(lo, hi, radius), counts=counts,
                       splats=n)


def _boxes(lo: torch.Tensor, hi: torch.Tensor, radius: torch.Tensor) -> np.ndarray:
    """(8, B) float64 host rows: box centre, half extents, radius (inflated for float32 rounding), 1."""
    magnitude = torch.maximum(lo.abs(), hi.abs()).amax(dim=1)
    # float32 on the device rounds the centre and radius tests by ~1e-7 relative: absorb it here
    grown = radius * (1.0 + 1e-5) + 1e-5 * (1.0 + magnitude)
    rows = torch.cat([(lo + hi) / 2, (hi - lo) / 2, grown[:, None], torch.ones_like(grown)[:, None]],
                     dim=1).cpu().numpy()
    bad = ~np.isfinite(rows).all(axis=1)
    rows[bad, 0:3], rows[bad, 3:7] = 0.0, UNBOUNDED
    return np.ascontiguousarray(rows.T)


@dataclass
class _Entry:
    refs: tuple[weakref.ref[torch.Tensor], ...]
    chunks: SplatChunks

    def alive(self) -> bool:
        return all(ref() is not None for ref in self.refs)


_CACHE: OrderedDict[tuple[object, ...], _Entry] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def _cache_key(tensors: tuple[torch.Tensor, ...], chunk_size: int | None) -> tuple[object, ...]:
    # the version counter moves on every in-place edit, so an edited model gets a new index
    return (str(tensors[0].device), chunk_size,
            *((t.data_ptr(), tuple(t.shape), getattr(t, "_version", 0)) for t in tensors))


def chunks_for(means: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor,
               chunk_size: int | None = None) -> SplatChunks:
    """The cached chunk index of these splats (built on first use; see the module docstring)."""
    tensors = (means, scales, opacities)
    key = _cache_key(tensors, chunk_size)
    with _CACHE_LOCK:
        for stale in [k for k, e in _CACHE.items() if not e.alive()]:
            del _CACHE[stale]
        entry = _CACHE.get(key)
        if entry is not None:
            _CACHE.move_to_end(key)
            return entry.chunks
    chunks = build_chunks(means, scales, opacities, chunk_size)
    with _CACHE_LOCK:
        _CACHE[key] = _Entry(tuple(weakref.ref(t) for t in tensors), chunks)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return chunks


def chunk_slots(live: int, total: int) -> int:
    """Chunk slots a compacted frame with ``live`` visible chunks (of ``total``) reserves: ``live``
    rounded up to a quarter step of a power of two (4, 5, 6, 7, 8, 10, 12, 14, 16, 20, ...), at
    most ``total``. Frames whose counts round alike share buffers and a captured graph, and the
    sorts run over at most 25 % padding."""
    if live <= 0:
        return 0
    if live <= 4:
        return min(4, max(total, live))
    step = 1 << (max(live - 1, 1).bit_length() - 3)
    return min(-(-live // step) * step, max(total, live))
