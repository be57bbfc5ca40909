"""NeRF training command: ``main.py train DATASET -o ASSET``.

The network, occupancy grid and batch come from a preset (render/nerf/train/presets.py): ``cpu``
on ``--device cpu`` (a CPU-sized hash grid, MLPs and 32^3 grid), instant-ngp's ``ngp`` otherwise;
the command prints what it chose. ``--grid-resolution``, ``--hash-log2-size`` and
``--batch-samples`` override single settings; an instant-ngp snapshot output needs the 128^3 grid,
which is then taken unless ``--grid-resolution`` says otherwise.

While it trains: a progress bar (step, loss, batch PSNR, time left) on a terminal, INFO lines with
``-v`` elsewhere (``cli.progress``); the step table (every ``--progress-every`` steps) on stdout.
Every report shows the step, loss, batch PSNR and the time left (the sooner of ``--steps`` and
``--time-limit``).
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from cli.progress import ProgressReporter, duration_text, progress_for
from cli.torch_device import device_problem

if TYPE_CHECKING:
    from render.nerf.train.trainer import TrainConfig, TrainProgress

SNAPSHOT_SUFFIXES = (".ingp", ".msgpack")
NGP_GRID_RESOLUTION = 128

BAR_EVERY_STEPS = 10
"""How often, at most, the trainer reports to the bar / lines (each report reads the occupancy grid);
a divisor of ``--progress-every``, so that every step line's step is reported."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("train", help="train a hash-grid NeRF from a transforms.json image set")
    p.add_argument("dataset", help="transforms.json, or the folder holding it")
    p.add_argument("-o", "--output", required=True,
                   help="asset to write: NAME.nerf (our format) or NAME.ingp / NAME.msgpack (instant-ngp snapshot)")
    p.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    p.add_argument("--device", default="cuda", help="cpu or cuda (default cuda)")
    p.add_argument("--export", metavar="SNAPSHOT", help="also write an instant-ngp snapshot (.ingp / .msgpack)")
    p.add_argument("--downscale", type=int, default=1, help="train on images reduced by this factor")
    p.add_argument("--holdout", type=int, default=0, metavar="N",
                   help="hold out every N-th frame and report its PSNR after training")
    p.add_argument("--time-limit", type=float, default=None, metavar="S", help="stop after S seconds of training")
    p.add_argument("--preset", choices=("auto", "cpu", "ngp"), default="auto",
                   help="network, occupancy grid and batch: cpu (CPU-sized), ngp (instant-ngp's base.json, 128^3 "
                        "grid); auto (default): cpu on --device cpu, else ngp")
    p.add_argument("--grid-resolution", type=int, default=None, metavar="N",
                   help="occupancy-grid cells per axis and cascade (default: the preset's, 32 for cpu, 128 for ngp; "
                        "instant-ngp snapshots need 128, taken when the output is one)")
    p.add_argument("--hash-log2-size", type=int, default=None, metavar="N",
                   help="hash-table entries per level, log2 (default: the preset's, 15 for cpu, 19 for ngp)")
    p.add_argument("--batch-samples", type=int, default=None, metavar="N",
                   help="samples per step that get gradients (default: the preset's, 16384 for cpu, 262144 for ngp)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--progress-every", type=int, default=100, metavar="STEPS",
                   help="print a step line (loss, PSNR, rays, samples, occupancy) every STEPS steps (default 100)")
    p.set_defaults(handler=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from render.assets import AssetError
    from render.nerf.snapshot import save_model
    from render.nerf.train.dataset import DatasetError, DatasetWarning, load_transforms
    from render.nerf.train.trainer import NerfTrainer

    problem = device_problem(args.device)
    if problem is not None:
        print(f"train: {problem}", file=sys.stderr)
        return EXIT_INVALID
    if Path(args.output).suffix.lower() not in (".nerf", ".ingp", ".msgpack"):
        print(f"train: {args.output}: output must end in .nerf, .ingp or .msgpack", file=sys.stderr)
        return EXIT_INVALID
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DatasetWarning)
            dataset = load_transforms(args.dataset)
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
    except DatasetError as exc:
        print(f"train: {exc}", file=sys.stderr)
        return EXIT_INVALID
    config = _train_config(args)
    if config is None:
        return EXIT_INVALID
    print(f"{len(dataset.frames)} frames, aabb_scale {dataset.aabb_scale}, device {args.device}")
    trainer = NerfTrainer(dataset, config, args.device)
    with progress_for(args, "train", "step") as progress:
        result = trainer.train(_step_reporter(progress, args.progress_every),
                               progress_every=math.gcd(max(1, args.progress_every), BAR_EVERY_STEPS))
    print(f"trained {result.steps} steps in {result.elapsed_s:.1f} s "
          f"({result.samples / max(result.elapsed_s, 1e-9):,.0f} samples/s with gradients, "
          f"{result.marched / max(result.elapsed_s, 1e-9):,.0f} marched/s)")
    if result.test_frames:
        _report_held_out(args, result)
    try:
        save_model(result.model, args.output)
        print(f"wrote {args.output}")
        if args.export:
            save_model(result.model, args.export)
            print(f"wrote {args.export}")
    except AssetError as exc:
        print(f"train: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _train_config(args: argparse.Namespace) -> TrainConfig | None:
    """The run's config from ``--preset`` and its overrides, printing what was chosen; None (and a
    message on stderr) when an override is invalid."""
    from render.nerf.train.presets import preset_for
    from render.nerf.train.trainer import TrainConfig

    resolution = args.grid_resolution
    if resolution is not None and (resolution < 2 or resolution & (resolution - 1)):
        print(f"train: --grid-resolution must be a power of two >= 2, got {resolution}", file=sys.stderr)
        return None
    if args.hash_log2_size is not None and not 10 <= args.hash_log2_size <= 24:
        print(f"train: --hash-log2-size must be 10..24, got {args.hash_log2_size}", file=sys.stderr)
        return None
    snapshot = any(Path(p).suffix.lower() in SNAPSHOT_SUFFIXES for p in (args.output, args.export) if p)
    if resolution is None and snapshot:
        resolution = NGP_GRID_RESOLUTION
    preset = preset_for(args.preset, args.device).with_overrides(
        grid_resolution=resolution, log2_hashmap_size=args.hash_log2_size, batch_samples=args.batch_samples)
    print(f"{preset.describe()} (--preset, --grid-resolution, --hash-log2-size, --batch-samples override)")
    return replace(TrainConfig.from_preset(preset), steps=args.steps, image_downscale=args.downscale,
                   holdout_every=args.holdout, time_limit_s=args.time_limit, seed=args.seed)


def _step_reporter(progress: ProgressReporter, table_every: int) -> Callable[[TrainProgress], None]:
    """The trainer's callback: every report to ``progress``, a step line every ``table_every`` steps and the last."""

    def report(p: TrainProgress) -> None:
        progress(p.step, p.steps, {"loss": f"{p.loss:.5f}", "PSNR": f"{p.batch_psnr:.2f} dB"}, left_s=p.eta_s)
        if p.step % max(1, table_every) == 0 or p.last:
            rate = p.samples / max(p.elapsed_s / max(p.step, 1), 1e-9)
            progress.write(f"step {p.step:6d}/{p.steps}  loss {p.loss:.5f}  batch {p.batch_psnr:5.2f} dB  "
                           f"rays {p.rays:7d}  samples {p.samples:8d} of {p.marched:8d} marched  "
                           f"occupied {100 * p.occupancy:5.1f}%  {rate:8,.0f} samples/s  {p.elapsed_s:7.1f} s  "
                           f"ETA {duration_text(p.eta_s)}")

    return report


def _report_held_out(args: argparse.Namespace, result: Any) -> None:
    """Render the held-out frames (a progress bar / lines while it does) and print their PSNR."""
    from render.nerf.asset import make_backend
    from render.nerf.train.evaluation import evaluate_frames

    with progress_for(args, "held-out PSNR", "frame") as progress:
        scores = evaluate_frames(result.model, result.test_frames, make_backend("auto", result.model),
                                 progress=progress)
    for s in scores:
        print(f"held out {s.file_path}: {s.psnr:.2f} dB")
    print(f"mean held-out PSNR {sum(s.psnr for s in scores) / len(scores):.2f} dB over {len(scores)} frames")
