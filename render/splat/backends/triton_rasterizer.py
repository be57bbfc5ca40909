"""The fast rasterizer: Triton kernels for projection, pair emission and blending; torch for sorting.

Pipeline per frame, all on the splats' device with no host round trip until the frame is done:

1. the camera / window / crop / background go to a small device parameter block; with a chunk
   index (``render.splat.chunks``, the default), the host first culls whole chunks against the
   window frustum and the crop (``chunk_culling``, numpy, no device sync) and uploads the list of
   visible chunks, so steps 2-4 run over the splats of those chunks only (**compaction**);
2. ``project_kernel``: cull (crop box, frustum, opacity) and project every splat (every splat of a
   visible chunk);
3. ``torch.argsort`` of the depth keys; inclusive prefix sum of the tile counts in depth order;
4. ``emit_pairs_kernel``: (tile, splat) pairs in depth order into buffers of fixed ``capacity``;
   a stable ``torch.sort`` by tile key (16-bit keys below 32767 tiles: two radix passes; unused
   slots hold a sentinel key that sorts last) groups them per tile, depth order kept;
   ``searchsorted`` gives each tile's range;
5. ``raster_kernel``: front-to-back blending per tile into the window images;
6. one host sync reads the pair total: if it exceeded the capacity the buffers grow and the frame
   is rendered again (rare: capacities keep 50 % headroom over the largest frame seen). The first
   frame of a runner sizes its buffers (``capacity_for``), since the sort costs what it sorts.
   A render node defers this check to the end of its frame (``render.splat.pair_checks``), so its
   host goes on planning the next layer while the GPU rasterizes this one.

A :class:`FrameRunner` owns the buffers for one (model, window size, options) combination. With
compaction, the number of splat slots is part of it: the visible chunk count rounded up to a
quarter step of a power of two (``chunks.chunk_slots``), so a frame that shows a sliver sorts a
sliver's worth of keys while every runner keeps fixed shapes for its graph; a frame takes a cached
runner with room for its chunks and at most twice its bucket's slots before building one, so a
view whose chunk count wavers across a boundary keeps its graph. On CUDA
it records steps 2-5 as a CUDA graph once and replays it for every later frame, so a frame costs a
parameter upload, one graph launch and one sync instead of a dozen Python-level launches. When it
captures, it tries the blend kernel with 2, 4 and 8 warps per tile on its frame and keeps the
fastest (``TUNE_WARPS``, off by default), once per model (a runner that replaces it keeps the choice). One runner
per model and options: its tile grid only grows (``grown_grid``: 25 % headroom, whole multiples of
8 tiles), so a DoD window that moves and breathes with the camera reuses its graph instead of
building and capturing a runner every few frames (an eager frame, a capture and tuning each).

The result matches the torch reference (``rasterize_torch``) up to float rounding; see
``tests/gpu/test_splat_parity.py``. Runs on CUDA, or on CPU under ``TRITON_INTERPRET=1`` (eager).
"""

from __future__ import annotations

import math
import os
import threading
import warnings
import weakref
from collections import Counter, OrderedDict
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import torch

from render.splat.backends.triton_kernels import (
    FEATURES,
    PARAM_COUNT,
    ceil_div,
    emit_pairs_kernel,
    project_kernel,
    raster_kernel,
)
from render.splat.chunk_culling import ChunkSelection, select_chunks
from render.splat.chunks import SplatChunks
from render.splat.pair_checks import DeferredTotal
from render.splat.pair_checks import current as current_pair_checks
from render.splat.raster_inputs import RasterCamera, grown_grid
from render.splat.rasterize_torch import RasterResult
from vpstage.geometry import OrientedBox

PROJECT_BLOCK = 256
EMIT_BLOCK = 128

@dataclass(frozen=True)
class BlendShape:
    """How the blend kernel runs: splats per step and warps per tile."""

    batch: int = 16
    warps: int = 2


BLEND = BlendShape(warps=4)
"""Blend kernel shape: chosen by ``bench.splat_gpu --sweep`` on an H100 (see docs/benchmarks.md)."""
TUNE_WARPS: tuple[int, ...] = tuple(
    int(w) for w in os.environ.get("VPSTAGE_SPLAT_TUNE_WARPS", "0").split(",") if w.strip() not in ("", "0"))
"""Warp counts a runner tries when it captures its graph, keeping the fastest (empty: ``BLEND``'s).
Off by default (``BLEND``'s shape): a render node's first capture happens at warm-up on a view
unlike its live ones, and live frames measured faster untuned (docs/benchmarks.md, "Live frames
and the splat rasterizer's runners"). Set VPSTAGE_SPLAT_TUNE_WARPS (e.g. ``2,4,8``) to tune."""
BUCKET_TILES = 8
MAX_RUNNERS = 12
"""Runners cached at once (LRU): models x options x tile-grid families x compaction buckets."""
RUNNER_EVENTS: Counter[str] = Counter()
"""Runners built (``resized``: of them, rebuilt for pair buffers of another size) and graphs
captured since start (a node's trace reports them per frame)."""
USE_CUDA_GRAPHS = os.environ.get("VPSTAGE_SPLAT_CUDA_GRAPHS", "1") != "0"
"""Replay captured CUDA graphs on CUDA (set VPSTAGE_SPLAT_CUDA_GRAPHS=0 to launch eagerly)."""


def _next_pow2(value: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(value, 1))))


def parameter_block(camera: RasterCamera, crop: OrientedBox | None, background: tuple[float, float, float]
                    ) -> np.ndarray:
    """The float32 parameter block the kernels read (layout: ``triton_kernels.P_*``)."""
    block = np.zeros(PARAM_COUNT, dtype=np.float64)
    view = camera.world_to_camera
    block[0:9], block[9:12] = view[:3, :3].reshape(-1), view[:3, 3]
    block[12:16] = camera.fx, camera.fy, camera.cx, camera.cy
    block[16:20] = camera.clamp_limits()
    block[20:23] = camera.camera_position()
    x0, y0, x1, y1 = camera.rect
    block[23:27] = x0, y0, x1 - x0, y1 - y0
    if crop is not None:
        block[27:30] = crop.center
        block[30:39] = np.asarray(crop.rotation, dtype=np.float64).reshape(-1)
        block[39:42] = crop.half_extents
    block[42:45] = background
    return block.astype(np.float32)


@dataclass(frozen=True, kw_only=True)
class RunnerKey:
    device: str
    inputs: tuple[int, ...]
    """data_ptr of means, quats, scales, opacities, sh (the graph reads these addresses)."""
    count: int
    sh_coeffs: int
    tiles: tuple[int, int]
    tile_size: int
    has_crop: bool
    graph: bool
    chunk_size: int = 0
    """Splats per chunk with compaction, 0 without (``count`` is then the model's splat count)."""
    chunk_slots: int = 0
    """Visible chunks a frame of this runner may list (``count = chunk_slots * chunk_size``)."""


class FrameRunner:
    """Static buffers (and, on CUDA, a captured graph) rendering windows of one tile-grid size."""

    def __init__(self, key: RunnerKey, inputs: tuple[torch.Tensor, ...], capacity: int) -> None:
        """``inputs``: means, quats, scales, opacities, sh and, with compaction (``key.chunk_slots``),
        the chunk index's slot -> splat map ``perm``."""
        self.key, self.capacity = key, capacity
        RUNNER_EVENTS["built"] += 1
        # weak: a cached runner must not keep an unloaded model's tensors alive on the GPU
        self.input_refs = tuple(weakref.ref(t) for t in inputs)
        device = inputs[0].device
        n = key.count
        tiles_x, tiles_y = key.tiles
        self.n_tiles = tiles_x * tiles_y
        self.key_dtype = torch.int16 if self.n_tiles < 32767 else torch.int32
        self.sentinel = 32767 if self.key_dtype == torch.int16 else 2**31 - 1
        pinned = device.type == "cuda"
        self.params_host = torch.zeros(PARAM_COUNT, dtype=torch.float32, pin_memory=pinned)
        self.params = torch.zeros(PARAM_COUNT, dtype=torch.float32, device=device)
        self.feats = torch.empty(max(n, 1), FEATURES, dtype=torch.float32, device=device)
        self.rects = torch.empty(max(n, 1), 4, dtype=torch.int32, device=device)
        self.counts = torch.empty(max(n, 1), dtype=torch.int32, device=device)
        self.depth_keys = torch.empty(max(n, 1), dtype=torch.float32, device=device)
        self.keys = torch.empty(capacity, dtype=self.key_dtype, device=device)
        self.ids = torch.empty(capacity, dtype=torch.int32, device=device)
        self.boundaries = torch.arange(self.n_tiles + 1, dtype=self.key_dtype, device=device)
        height, width = tiles_y * key.tile_size, tiles_x * key.tile_size
        self.image = torch.zeros(height, width, 5, dtype=torch.float32, device=device)
        self.total = torch.zeros(1, dtype=torch.int64, device=device)
        self.deferred_total = DeferredTotal(device)
        """Pair totals of deferred frames (``render_deferred``), read by ``finished_total``."""
        # the frame's visible chunk ids (-1 past the last), uploaded like the parameter block
        slots = max(key.chunk_slots, 1)
        self.chunk_list_host = torch.full((slots,), -1, dtype=torch.int32, pin_memory=pinned)
        self.chunk_list_view = self.chunk_list_host.numpy()  # numpy writes cost less than torch's small ops
        self.chunk_list = torch.full((slots,), -1, dtype=torch.int32, device=device)
        self.graph: torch.cuda.CUDAGraph | None = None
        self.sized = False
        """True once a frame has run at this capacity without overflowing (then a graph may be captured)."""
        self.graph_failed = False
        self.lock = threading.Lock()
        self.blend_shape = BLEND
        self.tuning: dict[int, float] = {}
        self.tuned = False
        """True once ``blend_shape`` was chosen by timing (a grown runner inherits it: no retuning)."""
        """GPU ms of this runner's frame per warp count tried at capture (empty before)."""

    def launch(self) -> None:
        """Enqueue steps 2-5 (no host sync; capturable)."""
        self.project()
        ids_sorted, tile_offsets = self.bin()
        self.blend(ids_sorted, tile_offsets)

    def inputs(self) -> tuple[torch.Tensor, ...]:
        """means, quats, scales, opacities, sh (and, with compaction, the chunk index's ``perm``)."""
        tensors = tuple(ref() for ref in self.input_refs)
        if any(t is None for t in tensors):
            raise RuntimeError("the splat tensors this runner was built for have been freed")
        return tensors  # type: ignore[return-value]

    def alive(self) -> bool:
        return all(ref() is not None for ref in self.input_refs)

    def project(self) -> None:
        means, quats, scales, opacities, sh, *perm = self.inputs()
        key, n = self.key, self.key.count
        compact = key.chunk_slots > 0
        project_kernel[(ceil_div(max(n, 1), PROJECT_BLOCK),)](
            means, quats, scales, opacities, sh, n, self.params, perm[0] if compact else self.chunk_list,
            self.chunk_list, self.feats, self.rects, self.counts, self.depth_keys, SH_COEFFS=key.sh_coeffs,
            HAS_CROP=key.has_crop, TILE=key.tile_size, BLOCK=PROJECT_BLOCK, COMPACT=compact,
            CHUNK=max(key.chunk_size, 1))

    def bin(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(splat ids grouped by tile in depth order, tile offsets (T + 1,) int64)."""
        key, n = self.key, self.key.count
        order = torch.argsort(self.depth_keys[:n])
        counts_sorted = self.counts[:n][order]
        ends = torch.cumsum(counts_sorted, 0, dtype=torch.int64)
        self.total.copy_(ends[-1:] if n else torch.zeros(1, dtype=torch.int64, device=self.total.device))
        self.keys.fill_(self.sentinel)
        emit_pairs_kernel[(ceil_div(max(n, 1), EMIT_BLOCK),)](
            order, counts_sorted, ends, self.rects, n, key.tiles[0], self.capacity, self.keys, self.ids,
            BLOCK=EMIT_BLOCK)
        sorted_keys, perm = torch.sort(self.keys, stable=True)
        return self.ids[perm], torch.searchsorted(sorted_keys, self.boundaries)

    def blend(self, ids_sorted: torch.Tensor, tile_offsets: torch.Tensor) -> None:
        key, shape = self.key, self.blend_shape
        raster_kernel[(self.n_tiles,)](
            self.feats, ids_sorted, tile_offsets, self.params, self.image, key.tiles[0], self.image.shape[1],
            TILE=key.tile_size, BATCH=shape.batch, num_warps=shape.warps)

    def capture(self) -> None:
        """Record ``launch`` as a CUDA graph (after an eager warm-up that compiles the kernels).

        With ``TUNE_WARPS``, one graph per warp count is captured and timed on this runner's last
        frame, and the fastest is kept: few long tile lists (a dense subject) want many warps per
        tile, many even lists (a large scene) fewer. If capture fails (an op that cannot be
        captured on this torch build, say) the runner stays eager and a RuntimeWarning says so once.
        """
        shapes = [replace(self.blend_shape, warps=w) for w in TUNE_WARPS] if not self.tuned else []
        shapes = shapes or [self.blend_shape]
        RUNNER_EVENTS["captured"] += 1
        best: tuple[float, BlendShape, torch.cuda.CUDAGraph] | None = None
        for shape in shapes:
            self.blend_shape = shape
            graph = self._capture_graph()
            if graph is None:
                return
            ms = _replay_ms(graph) if len(shapes) > 1 else 0.0
            self.tuning[shape.warps] = ms
            if best is None or ms < best[0]:
                best = (ms, shape, graph)
        assert best is not None
        _, self.blend_shape, self.graph = best
        self.tuned = True

    def _capture_graph(self) -> torch.cuda.CUDAGraph | None:
        device = self.params.device
        # this runner's own side stream on its own device: torch.cuda.graph's default capture
        # stream is one per process (made on whichever device asked first), so two workers
        # capturing at once, or one on another GPU, would capture into the wrong stream
        stream = torch.cuda.Stream(device=device)  # type: ignore[no-untyped-call]
        stream.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(stream):
            self.launch()  # warm-up: compiles the kernels outside the capture
        torch.cuda.current_stream(device).wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        try:
            # Not torch.cuda.graph(): its entry synchronizes the whole device and empties the
            # allocator cache, which breaks a capture another worker thread has under way.
            # thread_local: other workers keep launching on their own streams meanwhile.
            with _CAPTURE_LOCK, torch.cuda.stream(stream):
                graph.capture_begin(capture_error_mode="thread_local")
                try:
                    self.launch()
                finally:
                    graph.capture_end()
        except Exception as exc:  # degrade to eager launches rather than failing the render
            self.graph_failed = True
            warnings.warn(f"CUDA graph capture of the splat rasterizer failed, rendering eagerly: {exc}",
                          RuntimeWarning, stacklevel=4)
            return None
        return graph

    def upload(self, params: np.ndarray, visible: np.ndarray | None = None) -> None:
        """Set the frame's parameter block (camera, window, crop, background) and, with compaction,
        its visible chunk ids on the device. The pinned host buffers are rewritten only once the
        previous frame's copies have finished (its sync in ``render``, or its total's copy)."""
        self.deferred_total.settle()  # done long ago unless one frame renders this runner twice
        self.params_host.copy_(torch.from_numpy(params))
        self.params.copy_(self.params_host, non_blocking=True)
        if visible is not None:
            count = int(visible.shape[0])
            if count > self.key.chunk_slots:
                raise ValueError(f"{count} visible chunks do not fit this runner's {self.key.chunk_slots} slots")
            self.chunk_list_view[:count] = visible
            self.chunk_list_view[count:] = -1
            self.chunk_list.copy_(self.chunk_list_host, non_blocking=True)

    def render(self) -> int:
        """Run the frame for the uploaded parameters and return the pair total (host sync)."""
        self._run()
        return int(self.total.item())

    def render_deferred(self) -> None:
        """Run the frame; its pair total follows into host memory, read by ``finished_total``."""
        self._run()
        self.deferred_total.copy(self.total)

    def finished_total(self) -> int:
        """The largest pair total of the ``render_deferred`` frames since the last call (waits
        for their copies)."""
        return self.deferred_total.take()

    def _run(self) -> None:
        if self.graph is not None:
            self.graph.replay()
        else:
            self.launch()


def _replay_ms(graph: torch.cuda.CUDAGraph, repeat: int = 3) -> float:
    """Median GPU time of ``repeat`` replays of ``graph`` (after one untimed replay)."""
    graph.replay()
    times = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2]


_RUNNERS: OrderedDict[RunnerKey, FrameRunner] = OrderedDict()
_CAPTURE_LOCK = threading.Lock()
"""One capture at a time per process (captures are rare: once per runner)."""
_RUNNERS_LOCK = threading.Lock()


def _family(key: RunnerKey) -> RunnerKey:
    """What runners may share one cache slot: the same model and options, any tile grid."""
    return replace(key, tiles=(0, 0))


def _runner_for(inputs: tuple[torch.Tensor, ...], camera: RasterCamera, has_crop: bool, graph: bool,
                selection: ChunkSelection | None = None) -> FrameRunner:
    """The cached runner for a frame of these splats through ``camera`` (built or grown when its
    tile grid is too small); ``selection``: the frame's compaction, None to run over every splat."""
    needed = camera.tile_grid
    n = int(inputs[0].shape[0])
    key = RunnerKey(device=str(inputs[0].device), inputs=tuple(t.data_ptr() for t in inputs), count=n,
                    sh_coeffs=int(inputs[4].shape[1]), tiles=(0, 0), tile_size=camera.tile_size, has_crop=has_crop,
                    graph=graph)
    if selection is not None:
        size, slots = selection.chunks.chunk_size, selection.slots
        inputs = (*inputs, selection.chunks.perm)
        key = replace(key, inputs=(*key.inputs, selection.chunks.perm.data_ptr()), count=slots * size,
                      chunk_size=size, chunk_slots=slots)
    with _RUNNERS_LOCK:
        for stale in [k for k, r in _RUNNERS.items() if not r.alive()]:
            del _RUNNERS[stale]
        if key not in _RUNNERS and selection is not None:
            key = _cached_bucket(key, int(selection.visible.shape[0]))
        runner = _RUNNERS.pop(key, None)
        if runner is None or any(need > have for need, have in zip(needed, runner.key.tiles, strict=True)):
            grid = grown_grid(needed, runner.key.tiles if runner is not None else None, BUCKET_TILES)
            capacity = runner.capacity if runner is not None else max(1 << 16, _next_pow2(2 * key.count))
            grown = FrameRunner(replace(key, tiles=grid), inputs, capacity)
            if runner is not None:
                grown.sized, grown.blend_shape, grown.tuned = runner.sized, runner.blend_shape, runner.tuned
            runner = grown
        _RUNNERS[key] = runner
        while len(_RUNNERS) > MAX_RUNNERS:
            _RUNNERS.popitem(last=False)
    return runner


def _cached_bucket(key: RunnerKey, live: int) -> RunnerKey:
    """The key of a cached runner of the same model and options with room for ``live`` chunks and
    at most twice ``key``'s slots (the smallest such), else ``key``: a view whose chunk count
    wavers across a bucket boundary keeps its runner and graph instead of capturing another."""
    def same(other: RunnerKey) -> bool:
        return (other.inputs, other.device, other.has_crop, other.graph, other.chunk_size, other.tile_size) == (
            key.inputs, key.device, key.has_crop, key.graph, key.chunk_size, key.tile_size)

    fits = [k for k in _RUNNERS if same(k) and live <= k.chunk_slots <= 2 * key.chunk_slots]
    return min(fits, key=lambda k: k.chunk_slots) if fits else key


def capacity_for(total: int) -> int:
    """Pair-buffer size for frames of about ``total`` pairs: 50 % headroom, rounded up to an eighth
    of a power of two (so nearby totals share a size), at least 65,536."""
    need = int(total * 1.5) + 1
    step = max(1 << 13, _next_pow2(need) // 8)
    return max(1 << 16, ceil_div(need, step) * step)


def _resized(runner: FrameRunner, total: int) -> FrameRunner:
    """A runner like ``runner`` with pair buffers for ``total`` pairs, replacing it in the cache."""
    RUNNER_EVENTS["resized"] += 1
    fitted = FrameRunner(runner.key, runner.inputs(), capacity_for(total))
    fitted.sized, fitted.blend_shape, fitted.tuned = True, runner.blend_shape, runner.tuned
    with _RUNNERS_LOCK:
        _RUNNERS[_family(runner.key)] = fitted
    return fitted


def _grown_if_overflowed(runner: FrameRunner) -> bool:
    """A deferred check (``render.splat.pair_checks``): whether the runner's last frame overflowed
    its pair buffers, replacing it in the cache by one with room when it did."""
    total = runner.finished_total()
    if total <= runner.capacity:
        return False
    _resized(runner, total)
    return True


def _render_frame(runner: FrameRunner, params: np.ndarray, visible: np.ndarray | None, use_graph: bool,
                  size: tuple[int, int]) -> tuple[torch.Tensor, int | None]:
    """Render and copy out the (h, w, 5) window; grows the pair buffers on overflow. Inside
    ``deferred_pair_checks`` a sized runner neither waits nor checks: the caller does, and the
    total is None."""
    deferred = current_pair_checks()
    for _ in range(3):  # a frame that overflowed the pair buffers is rendered again with room
        with runner.lock:
            runner.upload(params, visible)
            if use_graph and runner.graph is None and runner.sized and not runner.graph_failed:
                runner.capture()  # tunes on this frame's parameters
            if deferred is not None and runner.sized:
                runner.render_deferred()
                deferred.add(partial(_grown_if_overflowed, runner))
                return runner.image[: size[1], : size[0]].clone(), None
            total = runner.render()
            if total <= runner.capacity:
                image = runner.image[: size[1], : size[0]].clone()
                if not runner.sized and capacity_for(total) < runner.capacity // 2:
                    runner = _resized(runner, total)  # first frame: sort no more than it needs
                runner.sized = True
                return image, total
        runner = _resized(runner, total)
    raise RuntimeError(f"splat pair buffers kept overflowing ({total} pairs)")


def frame_runner(inputs: tuple[torch.Tensor, ...], camera: RasterCamera, crop: OrientedBox | None,
                 selection: ChunkSelection | None, graph: bool | None = None) -> FrameRunner:
    """The runner ``rasterize_triton`` renders this frame with (benchmarks time its graph alone)."""
    use_graph = (inputs[0].device.type == "cuda" and USE_CUDA_GRAPHS) if graph is None else graph
    return _runner_for(tuple(t.contiguous() for t in inputs), camera, crop is not None, use_graph, selection)


def _background_only(camera: RasterCamera, background: tuple[float, float, float], device: torch.device
                     ) -> torch.Tensor:
    """The (h, w, 5) window of a frame that draws nothing: the background, alpha 0, depth 0."""
    width, height = camera.window_size
    image = torch.zeros(height, width, 5, dtype=torch.float32, device=device)
    for channel, value in enumerate(background):  # scalar fills: no host-to-device copy
        image[..., channel].fill_(min(max(value, 0.0), 1.0))
    return image


def rasterize_triton(means: torch.Tensor, quats: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor,
                     sh: torch.Tensor, camera: RasterCamera, background: tuple[float, float, float],
                     crop: OrientedBox | None = None, *, graph: bool | None = None,
                     chunks: SplatChunks | None = None) -> RasterResult:
    """Render the camera's window (see the module docstring). Inputs: contiguous float32 on one device.

    ``graph``: replay a captured CUDA graph (default on CUDA when ``USE_CUDA_GRAPHS``). ``chunks``:
    the model's chunk index (``render.splat.chunks.chunks_for``) to compact with, None to run over
    every splat. The returned images are copies, independent of later frames.
    """
    inputs = (means, quats, scales, opacities, sh)
    selection = select_chunks(chunks, camera, crop)
    stats = {"input": int(means.shape[0])}
    if chunks is not None:
        stats["candidates"] = chunks.splats if selection is None else selection.candidates
    if selection is not None and selection.visible.shape[0] == 0:  # nothing can reach the window: no launch
        image = _background_only(camera, background, means.device)
        return RasterResult(image[..., :3], image[..., 3], image[..., 4], {**stats, "pairs": 0})
    use_graph = (means.device.type == "cuda" and USE_CUDA_GRAPHS) if graph is None else graph
    runner = frame_runner(inputs, camera, crop, selection, use_graph)
    params = parameter_block(camera, crop, background)
    image, total = _render_frame(runner, params, None if selection is None else selection.visible, use_graph,
                                 camera.window_size)
    if total is not None:  # deferred: known once the caller checks the frame
        stats["pairs"] = total
    return RasterResult(image[..., :3], image[..., 3], image[..., 4], stats)
