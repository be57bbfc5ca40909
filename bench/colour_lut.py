"""Baked shaper + 3D LUT vs OCIO's CPU processor: accuracy per LUT size and interpolation, and
the torch apply cost on a 1920 x 1080 frame (CPU, or ``--device``).

    python -m bench.colour_lut [--sizes 33,65,129] [--config URI] [--frames 5] [--device cuda] [--apply-only]
        [--frame 3840x2160]

Errors are in output code values, printed in 10-bit steps (1/1023): max and 99th percentile
over the dense grid of ``render.colour.accuracy`` (every combination of 40 values per channel),
and over its colours of saturation <= 0.5 (1 - min/max of the source RGB). Figures in
docs/colour.md.
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import render.colour.apply as apply_module
from render.colour.accuracy import TEN_BIT_STEP, compare, dense_grid, lut_apply_numpy, ocio_reference
from render.colour.apply import Interpolation, apply_lut
from render.colour.bake import bake_canvas_lut, clear_cache
from render.colour.canvas_luts import device_lut
from vpstage.colour.ocio_config import load_config
from vpstage.colour.outputs import OutputTarget
from vpstage.colour.transforms import CanvasTransform, canvas_processor

DEMO_CONFIG = "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5"
CHAINS = [
    ("sRGB Encoded Rec.709 (sRGB)", "sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)"),
    ("sRGB Encoded Rec.709 (sRGB)", "Rec.2100-PQ - Display", "ACES 2.0 - HDR 1000 nits (P3 D65)"),
    ("ACEScg", "sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)"),
    ("ACEScg", "Rec.2100-PQ - Display", "ACES 2.0 - HDR 1000 nits (P3 D65)"),
]
INTERPOLATIONS: tuple[Interpolation, ...] = ("tetrahedral", "trilinear")


def low_saturation(rgb: np.ndarray) -> np.ndarray:
    top, bottom = rgb.max(axis=1), rgb.min(axis=1)
    return np.where(top > 0, 1.0 - bottom / np.maximum(top, 1e-30), 0.0) <= 0.5


def accuracy_rows(config_uri: str, sizes: list[int]) -> None:
    config = load_config(config_uri, Path("."))
    print(f"{config_uri}\n{'source -> view':58s} {'N':>4s} {'interp':>6s} {'bake s':>7s} "
          f"{'max':>7s} {'p99':>6s} {'max s<=.5':>10s} {'p99 s<=.5':>10s}   (10-bit steps)")
    for source, display, view in CHAINS:
        spec = CanvasTransform(source, OutputTarget(display, view))
        processor = canvas_processor(config, spec).getDefaultCPUProcessor()
        for size in sizes:
            clear_cache()
            start = time.perf_counter()
            baked = bake_canvas_lut(config, spec, size)
            bake_s = time.perf_counter() - start
            grid = dense_grid(baked.shaper.kind, 40)
            expected, low = ocio_reference(processor, grid), low_saturation(grid)
            for interpolation in INTERPOLATIONS:
                got = lut_apply_numpy(baked, grid, interpolation)
                every, calm = compare(expected, got), compare(expected[low], got[low])
                print(f"{source[:20] + ' -> ' + view[:34]:58s} {size:4d} {interpolation[:6]:>6s} {bake_s:7.2f} "
                      f"{every.max / TEN_BIT_STEP:7.2f} {every.p99 / TEN_BIT_STEP:6.2f} "
                      f"{calm.max / TEN_BIT_STEP:10.2f} {calm.p99 / TEN_BIT_STEP:10.2f}", flush=True)


def _frame(device: str, width: int = 1920, height: int = 1080) -> torch.Tensor:
    """A smooth test frame (gradients, values 0..1)."""
    y, x = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing="ij")
    return torch.stack([x, y, 1 - x * y], dim=-1).contiguous().to(device)


def _median_ms(run: Callable[[], object], frames: int, device: str) -> float:
    times = []
    for _ in range(frames + 1):
        if device != "cpu":
            torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        if device != "cpu":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times[1:]))  # the first run warms up


def apply_cost(config_uri: str, sizes: list[int], frames: int, device: str = "cpu",
               frame_size: tuple[int, int] = (1920, 1080)) -> None:
    """Median time of ``apply_lut`` on a frame; off the CPU also its largest difference from the CPU
    result, with the fused kernel (where Triton is) and with the torch path."""
    config = load_config(config_uri, Path("."))
    frame = _frame(device, *frame_size)
    out = torch.empty_like(frame)
    where = f"CPU, {torch.get_num_threads()} threads" if device == "cpu" else torch.cuda.get_device_name(device)
    print(f"\napply_lut on {frame_size[0]}x{frame_size[1]} float32, {where} (median of {frames})")
    paths = [True, False] if device != "cpu" else [False]
    for source, display, view in CHAINS[:2]:
        for size in sizes:
            baked = bake_canvas_lut(config, CanvasTransform(source, OutputTarget(display, view)), size)
            lut = device_lut(baked, device)
            for interpolation, fused in [(i, f) for i in INTERPOLATIONS for f in paths]:
                apply_module.FUSED = fused
                run = functools.partial(apply_lut, frame, lut, out, interpolation=interpolation)
                ms = _median_ms(run, frames, device)
                label = f"{interpolation}{' fused' if fused and interpolation == 'tetrahedral' else ''}"
                line = f"  {view[:34]:34s} N={size:3d} {label:18s} {ms:7.3f} ms"
                if device != "cpu":
                    reference = apply_lut(frame.cpu(), device_lut(baked, "cpu"), torch.empty(frame.shape),
                                          interpolation=interpolation)
                    line += f"  max |device - cpu| {float((out.cpu() - reference).abs().max()):.2e}"
                print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="33,65,129", help="LUT sizes to measure")
    parser.add_argument("--config", default=DEMO_CONFIG)
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--device", default="cpu", help="where apply_lut runs (cpu, cuda, cuda:1, ...)")
    parser.add_argument("--apply-only", action="store_true", help="skip the accuracy table")
    parser.add_argument("--frame", default="1920x1080", help="apply frame size, WxH")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if not args.apply_only:
        accuracy_rows(args.config, sizes)
    width, height = (int(v) for v in args.frame.lower().split("x"))
    apply_cost(args.config, sizes, args.frames, args.device, (width, height))


if __name__ == "__main__":
    main()
