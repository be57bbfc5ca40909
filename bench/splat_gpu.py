"""Splat rasterizers on a CUDA GPU: Triton fast path, torch reference and gsplat side by side.

    python -m bench.splat_gpu [--repeat N] [--json OUT.json] [--sweep] [--skip-reference] [--compact]

Scenes: biker (VPSTAGE_SPLAT_DATA or ../shared/data/splats), synthetic random scenes of 1M and 3M
splats filling the frame (SH degree 3), at 1080p and 4K; the DoD tiles of the demo stage's nodes.
Times are CUDA-event medians of whole frames (projection to finished image) after warm-up.
Compaction (``render.splat.rasterize``: chunk culling on the host, sorts over the visible chunks'
splats) is off as shipped; ``--compact`` turns it on for the whole run. The DoD table times
every tile both ways either way.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import traceback
from collections.abc import Callable
from typing import Any

import torch

from bench.common import print_table, time_call
from bench.splat_scenes import (
    DEMO_STAGE,
    RESOLUTIONS,
    NodeTile,
    biker_camera,
    demo_node_tiles,
    frontal_camera,
    load_biker,
    synthetic_scene,
)
from render.assets import PinholeCamera
from render.splat import chunks as chunk_index
from render.splat import rasterize as raster_api
from render.splat.backends import has_gsplat, has_triton
from render.splat.chunk_culling import select_chunks
from render.splat.model import SplatModel
from render.splat.procedural import demo_model
from render.splat.raster_inputs import crop_mask, support_radius
from render.splat.rasterize import rasterize_splats, resolve_chunks

RESULTS: dict[str, Any] = {"rows": [], "errors": []}
DEVICE = "cuda"
SIZES = {"1M": 1_000_000, "3M": 3_000_000}


def cuda_ms(fn: Callable[[], object], repeat: int, warmup: int = 2) -> float:
    """Median wall time of ``fn`` in ms, measured with CUDA events around each call."""
    for _ in range(warmup):
        fn()
    if DEVICE == "cpu":  # smoke runs of this script without a GPU
        return statistics.median(time_call(fn, repeat, warmup=0))
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def _gsplat_direct(model: SplatModel, camera: PinholeCamera) -> Callable[[], object]:
    """gsplat.rasterization with prebuilt camera tensors (gsplat's own time, no adapter work)."""
    from gsplat import rasterization

    view = torch.as_tensor(camera.world_to_camera, dtype=torch.float32, device=DEVICE)[None]
    ks = torch.tensor([[[camera.fx, 0, camera.cx], [0, camera.fy, camera.cy], [0, 0, 1]]], dtype=torch.float32,
                      device=DEVICE)
    degree = model.sh_degree
    return lambda: rasterization(model.positions, model.quats, model.scales, model.opacities, model.sh, view, ks,
                                 camera.width, camera.height, sh_degree=degree, packed=False, eps2d=0.3,
                                 render_mode="RGB+ED", rasterize_mode="classic")


def _triton_eager(model: SplatModel, camera: PinholeCamera, rect: Any = None, crop: Any = None) -> Any:
    """The Triton path without CUDA-graph replay (every launch from Python)."""
    from render.splat.backends import triton_rasterizer as tr

    previous, tr.USE_CUDA_GRAPHS = tr.USE_CUDA_GRAPHS, False
    try:
        return rasterize_splats(model, camera, backend="triton", rect=rect, crop=crop)
    finally:
        tr.USE_CUDA_GRAPHS = previous


def graph_replay_ms(model: SplatModel, camera: PinholeCamera, repeat: int) -> float | None:
    """GPU time of the captured frame graph alone (no host work around it), or None without one."""
    from render.splat.backends import triton_rasterizer as tr
    from render.splat.raster_inputs import RasterCamera

    inputs = (model.positions, model.quats, model.scales, model.opacities, model.sh)
    raster_camera = RasterCamera.from_pinhole(camera, None, DEVICE)
    selection = select_chunks(resolve_chunks(model, "auto"), raster_camera, None)
    runner = tr.frame_runner(inputs, raster_camera, None, selection, graph=True)
    if runner.graph is None:
        return None
    RESULTS.setdefault("tuning", []).append({"camera": [camera.width, camera.height], "splats": model.num_splats,
                                             "chosen_warps": runner.blend_shape.warps, "ms_by_warps": runner.tuning})
    print(json.dumps(RESULTS["tuning"][-1]), flush=True)
    return cuda_ms(runner.graph.replay, repeat)


def _mean_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().mean())


def scene_rows(name: str, model: SplatModel, camera_for: Callable[[int, int], PinholeCamera], repeat: int,
               reference: bool) -> None:
    """Triton and gsplat (and, with ``reference``, the torch reference) at 1080p and 4K."""
    for res in ("1080p", "4K"):
        camera = camera_for(*RESOLUTIONS[res])
        row = next((r for r in RESULTS["rows"] if r["scene"] == name and r["res"] == res), None)
        if row is None:
            row = {"scene": name, "res": res, "splats": model.num_splats}
            RESULTS["rows"].append(row)
        images = {}
        if has_triton(DEVICE):
            out = rasterize_splats(model, camera, backend="triton")
            row["pairs"], images["triton"] = out.stats["pairs"], out.rgb
            row["candidates"] = out.stats.get("candidates", model.num_splats)
            if not reference:
                row["triton_ms"] = cuda_ms(lambda c=camera: rasterize_splats(model, c, backend="triton"), repeat)
                row["triton_graph_ms"] = graph_replay_ms(model, camera, repeat)
                row["triton_eager_ms"] = cuda_ms(lambda c=camera: _triton_eager(model, c), repeat)
        if has_gsplat(DEVICE) and not reference:
            images["gsplat"] = rasterize_splats(model, camera, backend="gsplat").rgb
            row["gsplat_ms"] = cuda_ms(_gsplat_direct(model, camera), repeat)
            row["gsplat_adapter_ms"] = cuda_ms(lambda c=camera: rasterize_splats(model, c, backend="gsplat"), repeat)
        if reference:
            images["torch"] = rasterize_splats(model, camera, backend="torch").rgb
            row["torch_ms"] = cuda_ms(lambda c=camera: rasterize_splats(model, c, backend="torch"), 2, warmup=0)
        for other in ("torch", "gsplat"):
            if "triton" in images and other in images:
                row[f"triton_vs_{other}_mean_abs"] = _mean_abs(images["triton"], images[other])
        print(json.dumps(row), flush=True)


SWEEP_SHAPES = [{"batch": batch, "warps": warps} for batch in (8, 16, 32) for warps in (2, 4, 8)]


def sweep(cases: list[tuple[str, SplatModel, PinholeCamera]], repeat: int) -> None:
    """Blend-kernel shapes (render.splat.backends.triton_rasterizer.BlendShape) on each case, with
    the per-runner warp tuning off; the one with the smallest geometric-mean frame time becomes
    the default shape for the rest of the run (where runners still tune their warp count)."""
    from render.splat.backends import triton_rasterizer as tr

    results = []
    tuning, tr.TUNE_WARPS = tr.TUNE_WARPS, ()  # time each shape as given
    for shape in SWEEP_SHAPES:
        tr.BLEND = tr.BlendShape(**shape)
        tr._RUNNERS.clear()  # captured graphs bake the launch configuration in
        times = {}
        for label, model, camera in cases:
            times[label] = cuda_ms(lambda m=model, c=camera: rasterize_splats(m, c, backend="triton"), repeat)
        results.append({**shape, "ms": times, "geomean": statistics.geometric_mean(times.values())})
        print(json.dumps(results[-1]), flush=True)
    best = min(results, key=lambda r: r["geomean"])
    tr.BLEND = tr.BlendShape(**{k: best[k] for k in SWEEP_SHAPES[0]})
    tr.TUNE_WARPS = tuning
    tr._RUNNERS.clear()
    RESULTS["sweep"] = {"results": results, "chosen": best}


def stage_breakdown(model: SplatModel, repeat: int) -> None:
    """Projection, binning (sorts) and blending of the Triton path, each timed on its own (eager)."""
    from render.splat.backends import triton_rasterizer as tr
    from render.splat.raster_inputs import RasterCamera

    inputs = (model.positions, model.quats, model.scales, model.opacities, model.sh)
    chunks = resolve_chunks(model, "auto")
    for res in ("1080p", "4K"):
        camera = RasterCamera.from_pinhole(frontal_camera(*RESOLUTIONS[res]), None, DEVICE)
        tr.rasterize_triton(*inputs, camera, (0.0, 0.0, 0.0), graph=False, chunks=chunks)  # sizes the pair buffers
        selection = select_chunks(chunks, camera, None)
        runner = tr.frame_runner(inputs, camera, None, selection, graph=False)
        visible = None if selection is None else selection.visible
        runner.upload(tr.parameter_block(camera, None, (0.0, 0.0, 0.0)), visible)
        ids, offsets = runner.bin()
        row = {"res": res, "pairs_capacity": runner.capacity,
               "project_ms": cuda_ms(runner.project, repeat),
               "bin_ms": cuda_ms(runner.bin, repeat),
               "blend_ms": cuda_ms(lambda r=runner, i=ids, o=offsets: r.blend(i, o), repeat)}
        RESULTS.setdefault("stages", []).append(row)
        print(json.dumps(row), flush=True)


def dod_tiles(name: str, model: SplatModel, repeat: int, reference: bool) -> None:
    """Each node's (and, for two-canvas nodes, each canvas's) inner rectangle of the film camera's
    view on the demo stage, DoD-cropped and launched over that rectangle only, against the same
    inner-window pinhole rendered whole and uncropped (``bench.splat_scenes.demo_node_tiles``).
    Triton both with compaction (``*_ms``, the model's chunk index) and without (``*_plain_ms``)."""
    from vpstage.frustum.scene import default_scene_bounds
    from vpstage.stage import Stage

    bounds = default_scene_bounds(Stage.open(DEMO_STAGE))
    radii = support_radius(model.scales, model.opacities)
    index = chunk_index.chunks_for(model.positions, model.scales, model.opacities)
    backends = (["triton", "triton_plain"] if has_triton(DEVICE) else []) + (["gsplat"] if has_gsplat(DEVICE) else [])
    backends += ["torch"] if reference else []
    for tile in demo_node_tiles(bounds, *RESOLUTIONS["1080p"]):
        row: dict[str, Any] = {"scene": name, "tile": tile.label, "rect": tile.rect,
                               "view": (tile.camera.width, tile.camera.height), "fraction": tile.fraction,
                               "kept_by_crop": int(crop_mask(model.positions, tile.crop, radii).sum()),
                               "splats": model.num_splats}
        for backend in backends:
            n = repeat if backend != "torch" else 2
            chunks = "off" if backend == "triton_plain" else index

            def render(b: str = backend.removesuffix("_plain"), t: NodeTile = tile, c: Any = chunks, **kw: Any) -> Any:
                return rasterize_splats(model, t.camera, backend=b, chunks=c, **kw)  # type: ignore[arg-type]

            full = cuda_ms(render, n)
            part = cuda_ms(lambda r=render, t=tile: r(rect=t.rect, crop=t.crop), n)
            row[f"{backend}_full_ms"], row[f"{backend}_tile_ms"], row[f"{backend}_speedup"] = full, part, full / part
        if has_triton(DEVICE):
            _dod_triton_checks(model, tile, index, row)
        RESULTS.setdefault("dod_tile", []).append(row)
        print(json.dumps(row), flush=True)


def _dod_triton_checks(model: SplatModel, tile: NodeTile, index: chunk_index.SplatChunks, row: dict[str, Any]) -> None:
    """The tile against the same region of the whole uncompacted view, compacted against not, and
    the speedup over the uncompacted whole view (what a tile cost against before compaction)."""
    inside = rasterize_splats(model, tile.camera, backend="triton", rect=tile.rect, crop=tile.crop, chunks=index)
    plain = rasterize_splats(model, tile.camera, backend="triton", rect=tile.rect, crop=tile.crop, chunks="off")
    whole = rasterize_splats(model, tile.camera, backend="triton", chunks="off")
    x0, y0, x1, y1 = tile.rect
    row["tile_vs_full_region_max_abs"] = float((inside.rgb - whole.rgb[y0:y1, x0:x1]).abs().max())
    row["compacted_vs_plain_max_abs"] = float((inside.rgb - plain.rgb).abs().max())
    row["candidates"] = inside.stats.get("candidates", model.num_splats)
    row["triton_speedup_vs_plain_full"] = row["triton_plain_full_ms"] / row["triton_tile_ms"]


def _section(name: str, fn: Callable[[], None]) -> None:
    started = time.perf_counter()
    try:
        fn()
    except Exception as exc:  # keep going: one broken section must not lose the others' numbers
        RESULTS["errors"].append({"section": name, "error": repr(exc), "trace": traceback.format_exc()})
        print(f"section {name} failed: {exc!r}", flush=True)
    print(f"-- {name}: {time.perf_counter() - started:.1f} s", flush=True)


def _print_tables() -> None:
    keys = ["triton_ms", "triton_graph_ms", "triton_eager_ms", "gsplat_ms", "gsplat_adapter_ms", "torch_ms",
            "triton_vs_torch_mean_abs"]
    rows = [[r["scene"], r["res"], f"{r['splats']:,}", f"{r.get('candidates', r['splats']):,}",
             f"{r.get('pairs', 0):,}", *[r.get(k, "-") for k in keys]] for r in RESULTS["rows"]]
    print_table(f"Splat rasterizers, {RESULTS['device']}", ["scene", "res", "splats", "candidates", "pairs", *keys],
                rows)
    tiles = RESULTS.get("dod_tile", [])
    backends = [b for b in ("triton", "triton_plain", "gsplat", "torch") if any(f"{b}_full_ms" in d for d in tiles)]
    compaction = "on (--compact)" if raster_api.COMPACT else "off"
    print_table(f"DoD tiles on the demo stage (node / canvas inner rectangle, cropped, vs the whole view); "
                f"'triton' = shipped path, compaction {compaction}; 'triton_plain' = every splat",
                ["scene", "tile", "share of view", "kept by crop", "candidates",
                 *[f"{b} {k}" for b in backends for k in ("full ms", "tile ms", "speedup")],
                 "tile vs plain full", "max abs vs full", "max abs vs plain tile"],
                [[d["scene"], d["tile"], f"{d['fraction']:.1%}", f"{d['kept_by_crop']:,}",
                  f"{d['candidates']:,}" if "candidates" in d else "-",
                  *[d.get(f"{b}_{k}", "-") for b in backends for k in ("full_ms", "tile_ms", "speedup")],
                  d.get("triton_speedup_vs_plain_full", "-"), d.get("tile_vs_full_region_max_abs", "-"),
                  d.get("compacted_vs_plain_max_abs", "-")]
                 for d in tiles])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", help="write all results here")
    parser.add_argument("--sweep", action="store_true", help="try blend-kernel configurations first")
    parser.add_argument("--skip-reference", action="store_true", help="do not time the torch reference")
    parser.add_argument("--smoke", action="store_true", help="tiny scenes on the CPU: check this script runs")
    parser.add_argument("--compact", action="store_true",
                        help="compact (chunk culling) wherever the shipped path is timed")
    parser.add_argument("--target-chunks", type=int,
                        help=f"chunks a CUDA chunk index aims for (default {chunk_index.TARGET_CHUNKS['cuda']})")
    args = parser.parse_args()
    raster_api.COMPACT = args.compact
    if args.target_chunks:
        chunk_index.TARGET_CHUNKS["cuda"] = args.target_chunks
    global DEVICE
    if args.smoke:
        DEVICE = "cpu"
        SIZES.update({"1M": 2_000, "3M": 6_000})
        RESOLUTIONS.update({"1080p": (192, 108), "4K": (384, 216)})
    RESULTS["device"] = torch.cuda.get_device_name() if DEVICE == "cuda" else "cpu (smoke run)"
    RESULTS["versions"] = {"torch": torch.__version__}
    RESULTS["compaction"] = {"on": raster_api.COMPACT, "target_chunks": chunk_index.TARGET_CHUNKS["cuda"]}
    for module in ("triton", "gsplat"):
        try:
            RESULTS["versions"][module] = __import__(module).__version__
        except ImportError:
            RESULTS["versions"][module] = None
    print(json.dumps({"device": RESULTS["device"], **RESULTS["versions"]}), flush=True)
    synth3 = synthetic_scene(SIZES["3M"], frontal_camera(*RESOLUTIONS["1080p"]), device=DEVICE)
    biker = load_biker(DEVICE)
    if args.sweep and has_triton(DEVICE):
        cases = [(f"{scene} {res}", model, cam(*RESOLUTIONS[res])) for scene, model, cam in
                 (("biker", biker, biker_camera), ("3M", synth3, frontal_camera)) for res in ("1080p", "4K")]
        _section("sweep", lambda: sweep(cases, args.repeat))
    _section("biker", lambda: scene_rows("biker", biker, biker_camera, args.repeat, False))
    synth1 = synthetic_scene(SIZES["1M"], frontal_camera(*RESOLUTIONS["1080p"]), seed=1, device=DEVICE)
    _section("synthetic 1M", lambda: scene_rows("random 1M", synth1, frontal_camera, args.repeat, False))
    _section("synthetic 3M", lambda: scene_rows("random 3M", synth3, frontal_camera, args.repeat, False))
    if has_triton(DEVICE):
        _section("stages", lambda: stage_breakdown(synth3, args.repeat))
    _section("dod tiles", lambda: dod_tiles("procedural:demo", demo_model(device=DEVICE), args.repeat,
                                            not args.skip_reference))
    if not args.skip_reference:  # slowest last, so a time limit costs the least
        _section("reference biker", lambda: scene_rows("biker", biker, biker_camera, args.repeat, True))
        _section("reference 3M", lambda: scene_rows("random 3M", synth3, frontal_camera, args.repeat, True))
    _print_tables()
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(RESULTS, handle, indent=1)


if __name__ == "__main__":
    main()
