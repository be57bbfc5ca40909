"""Baking command: ``main.py bake NERF_ASSET -o BAKED_ASSET`` (a one-query-per-ray ``.bnerf``).

While it distils: a progress bar (step, loss, batch PSNR against the source, time left) on a
terminal, INFO lines with ``-v`` elsewhere (``cli.progress``); a step line every
``--progress-every`` steps on stdout. At the end: bake time per stage, held-out PSNR / SSIM of the
baked render against the source's (and against the photos with ``--dataset``), the file written.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from cli.progress import ProgressReporter, announce, progress_for
from cli.torch_device import device_problem

if TYPE_CHECKING:
    from render.nerf.baked.bake.distill import BakeProgress, BakeResult
    from render.nerf.model import NerfModel

BAR_EVERY_STEPS = 10


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bake", help="bake a trained NeRF into a one-query-per-ray asset (.bnerf)")
    p.add_argument("nerf", help="the trained NeRF: NAME.nerf, .ingp or .msgpack")
    p.add_argument("-o", "--output", required=True, help="baked asset to write (NAME.bnerf)")
    p.add_argument("--steps", type=int, default=3000, help="distillation steps (default 3000)")
    p.add_argument("--time-limit", type=float, default=None, metavar="S", help="stop distilling after S seconds")
    p.add_argument("--device", default="cuda", help="cpu or cuda (default cuda)")
    p.add_argument("--resolution", type=int, default=256, metavar="N",
                   help="density-texture cells along the content's longest side (default 256)")
    p.add_argument("--brick", type=int, default=8, metavar="N", help="texture cells per brick side (default 8)")
    p.add_argument("--batch-rays", type=int, default=None, metavar="N",
                   help="rays per step (default 65536 on cuda, 4096 on cpu)")
    p.add_argument("--pool-rays", type=int, default=None, metavar="N",
                   help="target rays rendered by the source per pool (default 2097152 on cuda, 16384 on cpu)")
    p.add_argument("--dataset", help="also distil from these photos (transforms.json or its folder)")
    p.add_argument("--holdout", type=int, default=8, metavar="N",
                   help="with --dataset: hold out every N-th photo from the bake and score on it (default 8)")
    p.add_argument("--eval-views", type=int, default=4, metavar="N",
                   help="held-out views around the content scored against the source (default 4; 0: none)")
    p.add_argument("--eval-size", default="256x192", metavar="WxH", help="their size (default 256x192)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--progress-every", type=int, default=500, metavar="STEPS",
                   help="print a step line (loss, PSNR) every STEPS steps (default 500)")
    p.set_defaults(handler=cmd_bake)


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` -> (W, H); ValueError when it is not two positive integers."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"size must look like 256x192, got {text!r}")
    return int(parts[0]), int(parts[1])


def _problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, or None."""
    if Path(args.output).suffix.lower() != ".bnerf":
        return f"{args.output}: output must end in .bnerf"
    if args.steps < 1 or args.resolution < args.brick or args.brick < 1:
        return "need --steps >= 1 and 1 <= --brick <= --resolution"
    try:
        parse_size(args.eval_size)
    except ValueError as exc:
        return f"--eval-size: {exc}"
    return device_problem(args.device)


def cmd_bake(args: argparse.Namespace) -> int:
    from render.assets import AssetError
    from render.nerf.baked.baked_format import save_baked
    from render.nerf.snapshot import load_model

    problem = _problem(args)
    if problem is not None:
        print(f"bake: {problem}", file=sys.stderr)
        return EXIT_INVALID
    try:
        source = load_model(args.nerf)
        photos, held_out = _photos(args)
    except (AssetError, ValueError) as exc:
        print(f"bake: {exc}", file=sys.stderr)
        return EXIT_INVALID
    try:
        result = _bake(args, source, photos)
    except RuntimeError as exc:
        print(f"bake: {exc}", file=sys.stderr)
        return EXIT_FAILED
    s = result.seconds
    print(f"baked {result.steps} steps in {s['total']:.1f} s (texture {s['texture']:.1f} s, target rays "
          f"{s['pool']:.1f} s, distillation {s['distil']:.1f} s) on {args.device}")
    _report(args, source, result, held_out)
    try:
        save_baked(result.model, args.output)
    except OSError as exc:
        print(f"bake: {args.output}: cannot write ({exc})", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {args.output} ({Path(args.output).stat().st_size / 2**20:.1f} MiB)")
    return EXIT_OK


def _photos(args: argparse.Namespace) -> tuple[list[Any] | None, list[Any]]:
    """(frames to distil from, frames held out) of ``--dataset``; ValueError on a bad dataset."""
    if not args.dataset:
        return None, []
    from render.nerf.train.dataset import DatasetWarning, load_transforms
    from render.nerf.train.trainer import split_frames

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DatasetWarning)
        dataset = load_transforms(args.dataset)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return split_frames(dataset.frames, args.holdout)


def _bake(args: argparse.Namespace, source: NerfModel, photos: list[Any] | None) -> BakeResult:
    from render.nerf.baked.bake.distill import BakeConfig, bake_nerf
    from render.nerf.baked.bake.texture_build import TextureConfig

    config = BakeConfig(steps=args.steps, time_limit_s=args.time_limit,
                        texture=TextureConfig(resolution=args.resolution, brick_res=args.brick),
                        batch_rays=args.batch_rays, pool_rays=args.pool_rays, seed=args.seed)
    with progress_for(args, "bake", "step") as progress:
        return bake_nerf(source, config, args.device, photos, on_stage=lambda line: announce(args, line),
                         progress=_step_reporter(progress, args.progress_every),
                         progress_every=math.gcd(max(1, args.progress_every), BAR_EVERY_STEPS))


def _step_reporter(progress: ProgressReporter, table_every: int) -> Callable[[BakeProgress], None]:
    def report(p: BakeProgress) -> None:
        progress(p.step, p.steps, {"loss": f"{p.loss:.5f}", "PSNR": f"{p.psnr:.2f} dB"})
        if p.step % max(1, table_every) == 0 or p.last:
            progress.write(f"step {p.step:6d}/{p.steps}  loss {p.loss:.5f}  batch {p.psnr:5.2f} dB vs source  "
                           f"{p.elapsed_s:7.1f} s")

    return report


def _report(args: argparse.Namespace, source: NerfModel, result: BakeResult, held_out: list[Any]) -> None:
    """Held-out scores: views around the content against the source, photos against both."""
    from render.nerf.asset import NerfAsset
    from render.nerf.baked.asset import BakedNerfAsset
    from render.nerf.baked.bake.evaluation import held_out_cameras, mean, score_photos, score_views
    from render.nerf.baked.bake.views import ViewSphere, training_frames

    baked = BakedNerfAsset(result.model, Path(args.output).stem)
    if args.eval_views > 0:
        width, height = parse_size(args.eval_size)
        views = ViewSphere.around(*baked.bounds(), training_frames(source.metadata))
        cameras = held_out_cameras(views, args.eval_views, width, height, args.seed)
        scores = score_views(NerfAsset(source, "source"), baked, cameras)
        print(f"held-out vs source ({len(scores)} views at {width}x{height}): PSNR "
              f"{mean([s.psnr for s in scores]):.2f} dB, SSIM {mean([s.ssim for s in scores]):.4f}, "
              f"median depth gap {mean([s.depth_gap for s in scores]):.4g}; render "
              f"{mean([s.baked_ms for s in scores]):.1f} ms baked vs "
              f"{mean([s.source_ms for s in scores]):.1f} ms source")
    if held_out:
        from render.nerf.asset import make_backend

        photos = score_photos(source, make_backend("auto", source), result.model, held_out)
        print(f"held-out vs photos ({len(photos)} frames): baked PSNR {mean([p.baked_psnr for p in photos]):.2f} dB, "
              f"SSIM {mean([p.baked_ssim for p in photos]):.4f}; source PSNR "
              f"{mean([p.source_psnr for p in photos]):.2f} dB, SSIM {mean([p.source_ssim for p in photos]):.4f}")
