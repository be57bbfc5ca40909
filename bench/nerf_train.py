"""Fox training benchmark: training time and held-out PSNR.

``python -m bench.nerf_train [--data DIR] [--time-limit S] [--steps N] [--holdout 8] [--device cuda]``

Trains on every frame but each ``--holdout``-th (of the 50 that have images), then renders the
held-out cameras through their own (distorted) rays with the fast backend and reports PSNR.
``--save`` keeps the model (our .nerf format); ``--figures DIR`` writes a held-out render beside
its photo.
"""

from __future__ import annotations

import argparse
import statistics
import warnings
from pathlib import Path

import numpy as np
import torch

from bench.common import print_table
from render.nerf.asset import make_backend
from render.nerf.snapshot import save_model
from render.nerf.train.camera_rays import FrameCameras
from render.nerf.train.dataset import DatasetWarning, load_image, load_transforms
from render.nerf.train.evaluation import evaluate_frames, render_frame
from render.nerf.train.trainer import NerfTrainer, TrainConfig, TrainProgress

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nerf" / "fox"


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "cpu"


def save_figure(model, frame, path: Path) -> None:
    """Held-out photo (left) and render (right), side by side, as PNG."""
    import cv2

    cameras = FrameCameras([frame], model.device)
    image, _, _ = render_frame(model, cameras, 0, make_backend("auto", model), (0.0, 0.0, 0.0))
    photo = load_image(frame)[..., :3]
    both = np.concatenate([photo, image.cpu().numpy()], axis=1)
    both = cv2.resize(both, (both.shape[1] // 2, both.shape[0] // 2), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(path), (np.clip(both, 0, 1)[..., ::-1] * 255).astype(np.uint8))


def check_snapshot(model, frame, path: Path, psnr: float) -> None:
    """Export an instant-ngp snapshot, load it back and score one held-out frame again."""
    import time

    from render.nerf.snapshot import load_model

    start = time.perf_counter()
    save_model(model, path)
    saved = time.perf_counter() - start
    start = time.perf_counter()
    loaded = load_model(path).to(model.device)
    loaded_s = time.perf_counter() - start
    again = evaluate_frames(loaded, [frame], make_backend("auto", loaded))[0].psnr
    print(f"snapshot {path.name}: {path.stat().st_size / 2**20:.1f} MiB, write {saved:.1f} s, read {loaded_s:.1f} s, "
          f"held-out {frame.file_path}: {again:.2f} dB after the round trip (fp16 weights) vs {psnr:.2f} dB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--steps", type=int, default=30000)
    parser.add_argument("--time-limit", type=float, default=110.0)
    parser.add_argument("--holdout", type=int, default=8)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--downscale", type=int, default=1)
    parser.add_argument("--save", help="write the trained model here (.nerf)")
    parser.add_argument("--export", help="also write an instant-ngp snapshot here, reload it and re-score")
    parser.add_argument("--figures", help="folder for a held-out comparison image")
    args = parser.parse_args()
    device = torch.device(args.device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetWarning)
        dataset = load_transforms(args.data)
    config = TrainConfig(steps=args.steps, time_limit_s=args.time_limit, holdout_every=args.holdout,
                         image_downscale=args.downscale)
    trainer = NerfTrainer(dataset, config, device)
    samples: list[int] = []

    def report(p: TrainProgress) -> None:
        samples.append(p.samples)
        print(f"step {p.step:6d}  loss {p.loss:.5f}  batch {p.batch_psnr:5.2f} dB  rays {p.rays:6d}  "
              f"samples {p.samples:7d}  occupied {100 * p.occupancy:5.1f}%  {p.elapsed_s:6.1f} s", flush=True)

    result = trainer.train(report, progress_every=250)
    backend = make_backend("auto", result.model)
    scores = evaluate_frames(result.model, result.test_frames, backend)
    psnrs = [s.psnr for s in scores]
    w, h = result.test_frames[0].w, result.test_frames[0].h
    rows = [[device_name(device), len(result.train_frames), len(result.test_frames), result.steps,
             round(result.elapsed_s, 1), round(result.steps / result.elapsed_s, 2),
             int(statistics.median(samples)) if samples else 0, round(statistics.mean(psnrs), 2),
             round(min(psnrs), 2), round(max(psnrs), 2), f"{w}x{h}",
             round(statistics.median(s.render_ms for s in scores), 1), backend.name]]
    print_table(f"Fox training (held-out frames every {args.holdout})",
                ["device", "train frames", "test frames", "steps", "train s", "steps/s", "samples/step",
                 "PSNR mean dB", "min", "max", "eval res", "render ms", "backend"], rows)
    for s in scores:
        print(f"  {s.file_path}: {s.psnr:.2f} dB, {s.samples_per_ray:.1f} samples/ray, {s.render_ms:.1f} ms")
    if args.save:
        save_model(result.model, args.save)
    if args.export:
        check_snapshot(result.model, result.test_frames[0], Path(args.export), scores[0].psnr)
    if args.figures:
        Path(args.figures).mkdir(parents=True, exist_ok=True)
        save_figure(result.model, result.test_frames[0], Path(args.figures) / "fox_heldout.png")


if __name__ == "__main__":
    main()
