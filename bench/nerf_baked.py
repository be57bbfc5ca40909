"""Baked (one-query-per-ray) NeRF: bake time, render speed against the full NeRF, quality.

``python -m bench.nerf_baked [--asset FOX.nerf | --data DIR|synthetic [--train-seconds S]] [--device cuda]
[--steps N] [--time-limit S] [--resolution 256] [--size 1920x1080 --size 3840x2160] [--repeat 5]
[--eval-views 8] [--eval-size 480x270] [--save BAKED.bnerf] [--json OUT]``

Without ``--asset`` a NeRF is trained first (``--data``: a transforms.json folder, default the fox
at ../shared/data/nerf/fox when it exists, else ``synthetic``: the two-sphere test scene written
to a temporary folder). Then it is baked (``main.py bake``'s pipeline) and both are timed on the
source's first training camera (its pose and horizontal field of view) at each ``--size``, full
frame and with a DoD crop covering about a quarter of the frame. Mrays/s counts every pixel of the
frame. Quality: PSNR / SSIM of the baked render against the source's on
held-out views around the content, and against every 8th photo when the dataset is known.
No interactive step; every section reports its own failure and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.common import print_table
from render.assets import PinholeCamera, SceneAsset
from render.nerf.asset import NerfAsset, make_backend
from render.nerf.baked.asset import BakedNerfAsset
from render.nerf.baked.bake.distill import BakeConfig, BakeResult, bake_nerf
from render.nerf.baked.bake.evaluation import held_out_cameras, mean, score_photos, score_views
from render.nerf.baked.bake.texture_build import TextureConfig
from render.nerf.baked.bake.views import ViewSphere, training_frames
from render.nerf.baked.baked_format import save_baked
from render.nerf.conventions import OPENGL_TO_OPENCV
from render.nerf.model import NerfModel
from render.nerf.snapshot import load_model
from render.nerf.train.dataset import Frame, load_transforms
from render.nerf.train.trainer import NerfTrainer, TrainConfig
from vpstage.geometry import OrientedBox

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nerf" / "fox"
PHOTO_EVERY = 8


def parse_size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    if not (w.isdigit() and h.isdigit()) or int(w) < 1 or int(h) < 1:
        raise argparse.ArgumentTypeError(f"size must look like 1920x1080, got {text!r}")
    return int(w), int(h)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def section(title: str, fn: Callable[[], Any]) -> Any:
    """Run one part of the benchmark; a failure is printed and the run goes on (returns None)."""
    try:
        return fn()
    except Exception:  # a benchmark reports every section it can
        print(f"\n### {title}: FAILED\n\n```\n{traceback.format_exc()}```")
        return None


# ---------------------------------------------------------------------- the source NeRF
def synthetic_dataset(folder: Path) -> Path:
    from tests.nerf.synthetic import write_scene

    return write_scene(folder / "spheres", n_views=48, size=64)


def train_source(data: str, seconds: float, device: torch.device) -> tuple[NerfModel, list[Frame], dict[str, Any]]:
    folder = Path(tempfile.mkdtemp(prefix="nerf_baked_"))
    path = synthetic_dataset(folder) if data == "synthetic" else Path(data)
    dataset = load_transforms(path)
    if data == "synthetic":
        from tests.nerf.helpers import small_config

        # tests/nerf/test_training.py's configuration (26 dB on held-out views in 250 CPU steps)
        config = TrainConfig(steps=10**6, time_limit_s=seconds, field=small_config(log2_size=14, base=8, width=32),
                             batch_samples=1 << 12 if device.type == "cpu" else None, initial_rays=256, min_rays=64,
                             grid_resolution=32, min_step=math.sqrt(3) / 128, grid_warmup_steps=32, seed=0)
    else:
        config = TrainConfig(steps=10**6, time_limit_s=seconds, seed=0)
    result = NerfTrainer(dataset, config, device).train()
    info = {"data": str(path), "steps": result.steps, "seconds": round(result.elapsed_s, 1)}
    return result.model, dataset.frames, info


def source_model(args: argparse.Namespace, device: torch.device) -> tuple[NerfModel, list[Frame], dict[str, Any]]:
    if args.asset:
        model = load_model(args.asset).to(device)
        frames: list[Frame] = []
        source = model.metadata.get("source")
        if source and Path(source).exists():
            frames = load_transforms(source).frames
        return model, frames, {"asset": args.asset}
    data = args.data or (str(DEFAULT_DATA) if DEFAULT_DATA.is_dir() and device.type == "cuda" else "synthetic")
    model, frames, info = train_source(data, args.train_seconds, device)
    print(f"trained the source on {info['data']}: {info['steps']} steps in {info['seconds']} s")
    return model, frames, info


# ---------------------------------------------------------------------- timing
def bench_camera(source: NerfAsset, size: tuple[int, int]) -> PinholeCamera:
    """The source's first training camera (pose and horizontal field of view) at ``size``; without
    cameras, bench/nerf_render.py's fallback view."""
    frames = training_frames(source.model.metadata)
    if not frames:
        from bench.nerf_render import bench_camera as fallback

        return fallback(source, size)
    w, h = size
    focal = frames[0].fl_x * w / frames[0].w
    c2w = frames[0].c2w @ OPENGL_TO_OPENCV
    return PinholeCamera(world_to_camera=np.linalg.inv(c2w), fx=focal, fy=focal, cx=w / 2, cy=h / 2, width=w, height=h)


def time_frames(asset: SceneAsset, camera: PinholeCamera, crop: OrientedBox | None, repeat: int) -> float:
    """Median wall milliseconds of ``repeat`` renders after one warm-up render."""
    times = []
    for i in range(repeat + 1):
        sync(asset.device)
        start = time.perf_counter()
        asset.render_pinhole(camera, crop=crop)
        sync(asset.device)
        if i > 0:
            times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def speed_rows(source: NerfAsset, baked: BakedNerfAsset, sizes: list[tuple[int, int]], repeat: int,
               source_repeat: int) -> list[list[Any]]:
    from bench.nerf_render import quarter_crop

    rows = []
    for size in sizes:
        camera = bench_camera(source, size)
        crop, fraction = quarter_crop(source, camera)
        for label, box in (("full frame", None), (f"crop {100 * fraction:.0f}%", crop)):
            pixels = camera.width * camera.height
            source_ms = time_frames(source, camera, box, source_repeat)
            baked_ms = time_frames(baked, camera, box, repeat)
            stats = baked.last_stats
            per_ray = stats.samples / max(stats.live_rays, 1) if stats else 0.0
            rows.append([f"{size[0]}x{size[1]}", label, round(source_ms, 2), round(pixels / source_ms / 1e3, 2),
                         round(1000 / source_ms, 2), round(baked_ms, 2), round(pixels / baked_ms / 1e3, 2),
                         round(1000 / baked_ms, 2), f"{source_ms / baked_ms:.1f}x", round(per_ray, 1),
                         stats.rounds if stats else 0])
    return rows


def stage_rows(baked: BakedNerfAsset, camera: PinholeCamera) -> list[list[Any]]:
    """March (texture) and query (field) times of one full frame, each synchronised."""
    from render.nerf.asset import pinhole_rays

    model = baked.model
    origins, dirs = pinhole_rays(camera, (0, 0, camera.width, camera.height), model.device)
    o, d = model.rays_to_field(origins, dirs)
    seconds = {"march": 0.0, "query": 0.0}
    for i in range(2):  # the first pass warms up
        sync(model.device)
        start = time.perf_counter()
        hits = model.hits(o, d)
        sync(model.device)
        mid = time.perf_counter()
        model.query(o, d, hits)
        sync(model.device)
        if i:
            seconds = {"march": mid - start, "query": time.perf_counter() - mid}
    total = sum(seconds.values())
    return [[stage, round(1000 * s, 2), f"{100 * s / total:.0f}%"] for stage, s in seconds.items()] + [
        ["rays with a hit", int(hits.hit.sum()), f"{100 * float(hits.hit.float().mean()):.0f}% of the frame"],
        ["texture samples per live ray", round(hits.samples / max(hits.live, 1), 1), f"{hits.rounds} rounds"]]


# ---------------------------------------------------------------------- the run
def bake(source: NerfModel, args: argparse.Namespace, device: torch.device, photos: list[Frame]) -> BakeResult:
    config = BakeConfig(steps=args.steps, time_limit_s=args.time_limit,
                        texture=TextureConfig(resolution=args.resolution, brick_res=args.brick), seed=0)
    return bake_nerf(source, config, device, photos or None, on_stage=lambda line: print(f"  {line}", flush=True))


def bake_rows(result: BakeResult, path: Path) -> list[list[Any]]:
    s, t = result.seconds, result.model.texture
    return [[result.steps, round(s["texture"], 2), round(s["pool"], 2), round(s["distil"], 2), round(s["total"], 2),
             round(result.steps / max(s["distil"], 1e-9), 1), f"{t.n_bricks}/{math.prod(t.dims)}",
             round(t.nbytes / 2**20, 1), round(path.stat().st_size / 2**20, 1)]]


def quality_rows(source: NerfAsset, baked: BakedNerfAsset, frames: list[Frame], args: argparse.Namespace,
                 photos: list[Frame]) -> list[list[Any]]:
    views = ViewSphere.around(*baked.bounds(), training_frames(source.model.metadata))
    cameras = held_out_cameras(views, args.eval_views, args.eval_size[0], args.eval_size[1], 0)
    scores = score_views(source, baked, cameras)
    rows = [[f"{len(scores)} views around the content, {args.eval_size[0]}x{args.eval_size[1]}", "baked vs source",
             round(mean([s.psnr for s in scores]), 2), round(mean([s.ssim for s in scores]), 4),
             round(mean([s.depth_gap for s in scores]), 4)]]
    held_out = frames[::PHOTO_EVERY]
    if held_out:
        ps = score_photos(source.model, make_backend("auto", source.model), baked.model, held_out)
        where = f"{len(ps)} photos (every {PHOTO_EVERY}th, {held_out[0].w}x{held_out[0].h})"
        not_seen = " (not in the bake)" if photos else ""
        rows.append([where, f"baked vs photo{not_seen}", round(mean([p.baked_psnr for p in ps]), 2),
                     round(mean([p.baked_ssim for p in ps]), 4), ""])
        rows.append([where, "source vs photo", round(mean([p.source_psnr for p in ps]), 2),
                     round(mean([p.source_ssim for p in ps]), 4), ""])
    return rows


def main() -> None:
    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asset", help="a trained NeRF (.nerf / .ingp / .msgpack); else one is trained")
    parser.add_argument("--data", help="dataset to train on without --asset (a folder, or 'synthetic')")
    parser.add_argument("--train-seconds", type=float, default=60.0 if cuda else 30.0)
    parser.add_argument("--device", default="cuda" if cuda else "cpu")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--time-limit", type=float, default=None, help="stop distilling after S seconds")
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--brick", type=int, default=8)
    parser.add_argument("--photos", action="store_true", help="also distil from the dataset's photos (7 of 8)")
    parser.add_argument("--size", type=parse_size, action="append", help="WxH, repeatable (default 1920x1080 and "
                        "3840x2160 on cuda, 320x180 on cpu)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--source-repeat", type=int, default=None, help="timed renders of the source (default "
                        "--repeat on cuda, 1 on cpu: the torch reference is slow)")
    parser.add_argument("--eval-views", type=int, default=8)
    parser.add_argument("--eval-size", type=parse_size, default=(480, 270))
    parser.add_argument("--marcher", choices=["auto", "torch", "triton"], default="auto",
                        help="the baked texture marcher (default auto: the Triton kernel on CUDA)")
    parser.add_argument("--save", help="keep the baked asset here (.bnerf)")
    parser.add_argument("--save-source", help="keep the trained source here (.nerf)")
    parser.add_argument("--json")
    args = parser.parse_args()
    device = torch.device(args.device)
    sizes = args.size or ([(1920, 1080), (3840, 2160)] if device.type == "cuda" else [(320, 180)])
    source_repeat = args.source_repeat or (args.repeat if device.type == "cuda" else 1)
    gpu = device_name(device)
    report: dict[str, Any] = {"device": gpu}

    model, frames, report["source"] = source_model(args, device)
    if args.save_source:
        from render.nerf.snapshot import save_model

        save_model(model, args.save_source)
    photos = [f for i, f in enumerate(frames) if i % PHOTO_EVERY] if args.photos else []
    print(f"baking on {gpu}: {args.steps} steps" + (f" or {args.time_limit} s" if args.time_limit else ""))
    result = bake(model, args, device, photos)
    path = Path(args.save) if args.save else Path(tempfile.mkdtemp(prefix="nerf_baked_")) / "baked.bnerf"
    save_baked(result.model, path)
    result.model.accelerate = args.marcher
    source, baked = NerfAsset(model, "source"), BakedNerfAsset(result.model, "baked")
    marcher = "triton" if result.model._march_kernel() is not None else "torch"
    rows = bake_rows(result, path)
    report["bake"] = rows
    print_table(f"Bake, {gpu}", ["steps", "texture s", "target rays s", "distil s", "total s", "steps/s",
                                 "bricks", "texture MiB", "file MiB"], rows)
    rows = section("Quality", lambda: quality_rows(source, baked, frames, args, photos))
    if rows:
        report["quality"] = rows
        print_table(f"Quality, {gpu}", ["views", "comparison", "PSNR dB", "SSIM", "depth gap"], rows)
    rows = section("Speed", lambda: speed_rows(source, baked, sizes, args.repeat, source_repeat))
    if rows:
        report["speed"] = rows
        print_table(f"Render speed, {gpu} (source backend {source.backend.name}, baked marcher {marcher})",
                    ["size", "case", "NeRF ms", "NeRF Mrays/s", "NeRF fps", "baked ms", "baked Mrays/s", "baked fps",
                     "speed-up", "baked samples/ray", "rounds"], rows)
    rows = section("Stages", lambda: stage_rows(baked, bench_camera(source, sizes[0])))
    if rows:
        print_table(f"Baked frame split, {sizes[0][0]}x{sizes[0][1]} full frame, {gpu}", ["stage", "ms", "share"],
                    rows)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
