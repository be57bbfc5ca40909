"""Torch reference rasterizer on this machine's CPU: biker.spz at 640x360 (and the demo scene).

    python -m bench.splat_cpu [--repeat N] [--threads N]

Prints per-stage and total milliseconds (median of N after one warm-up).
"""

from __future__ import annotations

import argparse

import torch

from bench.common import machine, print_table, summary_ms, time_call
from bench.splat_scenes import biker_camera, load_biker, stage_camera
from render.assets import PinholeCamera
from render.splat.model import SplatModel
from render.splat.procedural import demo_model
from render.splat.project_torch import project_splats
from render.splat.raster_inputs import RasterCamera
from render.splat.rasterize import CPU_TILE_SIZE, rasterize_splats
from render.splat.rasterize_torch import bin_tiles, composite_tiles


def _row(name: str, model: SplatModel, camera: PinholeCamera, repeat: int, tile: int) -> list[object]:
    rc = RasterCamera.from_pinhole(camera, None, "cpu", tile_size=tile)
    args = (model.positions, model.quats, model.scales, model.opacities, model.sh, rc)
    proj = project_splats(*args)
    bins = bin_tiles(proj, rc)
    t_proj = summary_ms(time_call(lambda: project_splats(*args), repeat))
    t_bin = summary_ms(time_call(lambda: bin_tiles(proj, rc), repeat))
    t_comp = summary_ms(time_call(lambda: composite_tiles(proj, bins, rc), repeat))
    if tile == CPU_TILE_SIZE:
        total = summary_ms(time_call(lambda: rasterize_splats(model, camera, backend="torch"), repeat))
    else:
        total = {"median": t_proj["median"] + t_bin["median"] + t_comp["median"]}
    return [name, f"{camera.width}x{camera.height}", tile, f"{model.num_splats:,}", f"{len(proj):,}",
            f"{bins.order.numel():,}", t_proj["median"], t_bin["median"], t_comp["median"], total["median"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    biker = load_biker("cpu")
    cam = biker_camera(640, 360)
    rows = [_row("biker.spz", biker, cam, args.repeat, CPU_TILE_SIZE),
            _row("biker.spz", biker, cam, args.repeat, 16),
            _row("procedural:demo", demo_model(), stage_camera(640, 360), args.repeat, CPU_TILE_SIZE)]
    rows[1][0] = "biker.spz (16 px tiles)"
    print_table(f"Torch reference on CPU, {machine()}, {torch.get_num_threads()} torch threads",
                ["scene", "size", "tile", "splats", "visible", "pairs", "project ms", "bin ms", "composite ms",
                 "total ms"], rows)


if __name__ == "__main__":
    main()
