"""NeRF training on the CPU: the synthetic 64x64, 24-view scene with the CPU preset.

``python -m bench.nerf_cpu_train [--time-limit 240] [--steps 1500] [--size 64] [--views 24] [--preset auto]``

Writes the analytic two-sphere scene of tests/nerf/synthetic.py as a transforms.json dataset,
holds out every ``--holdout``-th view, trains with the preset the ``train`` command picks on this
device, and scores the held-out views every ``--eval-every`` steps to find when they first reach
``--target-db``. Samples/s counts the samples that got gradients (after compaction), marched/s
those marched and density-evaluated; the held-out scoring is not counted in the training time.
The machine's load average (1 min) before and after says whether other work shared the CPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from bench.common import machine, print_table
from render.nerf.model_components.renderers import TorchBackend
from render.nerf.train.dataset import load_transforms
from render.nerf.train.evaluation import FrameScore, evaluate_frames
from render.nerf.train.trainer import NerfTrainer, TrainConfig, TrainProgress
from tests.nerf.synthetic import write_scene


@dataclass
class HeldOutLog:
    """Held-out PSNR over training, and the time spent scoring (excluded from the training time)."""

    target_db: float
    scoring_s: float = 0.0
    first_at: tuple[int, float, float] | None = None
    """(step, training seconds, PSNR) of the first score at or above the target."""
    psnrs: list[tuple[int, float]] = field(default_factory=list)


def mean_psnr(scores: list[FrameScore]) -> float:
    return statistics.mean(s.psnr for s in scores)


def make_reporter(trainer: NerfTrainer, log: HeldOutLog) -> Callable[[TrainProgress], None]:
    """The progress callback: the held-out PSNR and a line at each report."""

    def report(p: TrainProgress) -> None:
        start = time.perf_counter()
        value = mean_psnr(evaluate_frames(trainer.model, trainer.test_frames, TorchBackend()))
        log.scoring_s += time.perf_counter() - start
        train_s = p.elapsed_s - log.scoring_s
        log.psnrs.append((p.step, value))
        if log.first_at is None and value >= log.target_db:
            log.first_at = (p.step, train_s, value)
        print(f"step {p.step:5d}  loss {p.loss:.5f}  batch {p.batch_psnr:5.2f} dB  held-out {value:5.2f} dB  "
              f"rays {p.rays:5d}  samples {p.samples:6d} of {p.marched:6d}  {train_s:6.1f} s", flush=True)

    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=240.0)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--views", type=int, default=24)
    parser.add_argument("--holdout", type=int, default=8)
    parser.add_argument("--preset", choices=("auto", "cpu", "ngp"), default="auto")
    parser.add_argument("--grid-resolution", type=int, default=None)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--target-db", type=float, default=20.0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nerf_cpu_train.") as tmp:
        dataset = load_transforms(write_scene(Path(tmp) / "scene", n_views=args.views, size=args.size))
        config = replace(TrainConfig.for_device(args.device, args.preset, grid_resolution=args.grid_resolution),
                         steps=args.steps, time_limit_s=args.time_limit, holdout_every=args.holdout, seed=args.seed)
        trainer = NerfTrainer(dataset, config, args.device)
        log = HeldOutLog(target_db=args.target_db)
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        result = trainer.train(make_reporter(trainer, log), progress_every=args.eval_every)
        wall = time.perf_counter() - start
        scores = evaluate_frames(result.model, result.test_frames, TorchBackend())
    train_s = result.elapsed_s - log.scoring_s
    first = log.first_at
    reached = f"step {first[0]}, {first[1]:.1f} s" if first else "not reached"
    g = config.field.grid
    rows = [[f"{args.preset} ({g.n_levels}x{g.n_features_per_level}, 2^{g.log2_hashmap_size}, "
             f"{config.field.n_neurons}n, grid {config.grid_resolution})", torch.get_num_threads(), result.steps,
             round(train_s, 1), round(result.steps / train_s, 2), f"{result.samples / train_s:,.0f}",
             f"{result.marched / train_s:,.0f}", round(result.samples / max(1, result.steps)),
             round(mean_psnr(scores), 2), round(min(s.psnr for s in scores), 2),
             round(statistics.mean(s.ssim for s in scores), 4), reached,
             round(statistics.mean(s.samples_per_ray for s in scores), 2),
             round(statistics.median(s.render_ms for s in scores), 1), round(wall, 1),
             f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"]]
    print_table(f"NeRF CPU training, {args.size}x{args.size}, {args.views} views (every {args.holdout}th held out), "
                f"{machine()}",
                ["preset", "threads", "steps", "train s", "steps/s", "samples/s", "marched/s", "samples/step",
                 "held-out PSNR dB", "min", "SSIM", f">= {args.target_db:g} dB at", "render samples/ray",
                 "render ms", "wall s", "load avg before / after"], rows)


if __name__ == "__main__":
    main()
