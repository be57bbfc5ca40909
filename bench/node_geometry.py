"""A render node's host geometry per frame: what its CPU works out before it launches anything.

    python -m bench.node_geometry [--frames 720] [--canvas 1920x1080] [--asset PATH] [--node node1]

The demo stage at full size (``bench.gpu_frameloop stage``, four canvases on two nodes) with the
procedural scene and, with ``--asset``, a trained splat standing at the orbit's subject; the
simulated orbit (12 s, 24-50 mm) sampled at 60 Hz. Per frame, for ``--node``'s canvases as its
scene renderer does them (``render.scene``): each canvas's exact inner frustum
(``StageFrustum.canvas``), its inner pixel runs (``inner_pixels``, host side), and per asset the
camera view the canvases share, with its DoD crop (``shared_camera_view``). Frames whose camera
sees none of the node's canvases are left out. Prints ms per frame (p50 / p90 / max) per part; on
a GPU node the same numpy runs on the host, so these times add to its render one for one.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench.common import machine, print_table
from bench.gpu_frameloop import SUBJECT, add_asset, write_stage
from devices.tracking.paths import orbit
from render.scene.inner_pixels import inner_pixels
from vpstage.frustum.camera_view import shared_camera_view
from vpstage.frustum.frustum import CameraFrustum, FrustumSettings
from vpstage.frustum.node import StageFrustum
from vpstage.frustum.scene import default_scene_bounds, scene_bounds_of
from vpstage.stage import Stage
from vpstage.tracking import CameraState

RATE = 60


def demo_stage(canvas: tuple[int, int], asset: Path | None, folder: Path) -> Stage:
    path = folder / "stage.yaml"
    write_stage(1, RATE, canvas, path)
    if asset is not None:
        add_asset(path, asset, SUBJECT, 1.8)
    return Stage.open(path)


def camera_at(stage: Stage, t: float) -> CameraState:
    point, cam = orbit()(t), stage.project.cameras[0]
    return CameraState.from_pan_tilt_roll((point.x_m, point.y_m, point.z_m), point.pan_deg, point.tilt_deg,
                                          point.roll_deg, point.focal_length_mm, cam.sensor_width_mm,
                                          cam.sensor_height_mm, cam.image_width, cam.image_height)


def measure(stage: Stage, node: str, frames: int) -> dict[str, list[float]]:
    frusta, cpu = StageFrustum(stage), torch.device("cpu")
    names = stage.canvases_of_node(node)
    settings = FrustumSettings.for_camera(stage.project.cameras[0])
    placed = []
    for asset in stage.project.scene:
        matrix = np.asarray(asset.placement.stage_to_scene(), dtype=np.float64)
        placed.append((matrix, scene_bounds_of(asset) or default_scene_bounds(stage, matrix)))
    parts: dict[str, list[float]] = {"canvas frusta": [], "inner pixel runs": [], "shared views + DoD": [],
                                     "total": []}
    for frame in range(frames):
        camera = camera_at(stage, frame / RATE)
        start = time.perf_counter()
        frustum = CameraFrustum.from_camera(camera, settings)
        canvases = [frusta.canvas(name, frustum) for name in names]
        framed = time.perf_counter()
        runs = [inner_pixels(c, cpu).runs for c in canvases]
        counted = time.perf_counter()
        if not any(r.pixels for r in runs):
            continue
        for matrix, bounds in placed:
            shared_camera_view(list(zip(canvases, runs, strict=True)), matrix, bounds, 1.0)
        end = time.perf_counter()
        for key, ms in (("canvas frusta", framed - start), ("inner pixel runs", counted - framed),
                        ("shared views + DoD", end - counted), ("total", end - start)):
            parts[key].append(ms * 1e3)
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=720, help="frames at 60 Hz (720: one orbit)")
    parser.add_argument("--canvas", default="1920x1080")
    parser.add_argument("--asset", type=Path, default=None, help="a splat or NeRF to stand on the stage")
    parser.add_argument("--node", default="node1")
    args = parser.parse_args()
    width, height = (int(v) for v in args.canvas.lower().split("x"))
    with tempfile.TemporaryDirectory() as folder:
        stage = demo_stage((width, height), args.asset, Path(folder))
        parts = measure(stage, args.node, args.frames)
        assets = len(stage.project.scene)
    frames = len(parts["total"])
    rows = []
    for key, times in parts.items():
        ordered = sorted(times)
        rows.append([key, f"{statistics.median(ordered):.3f}", f"{ordered[int(0.9 * (len(ordered) - 1))]:.3f}",
                     f"{ordered[-1]:.3f}"])
    print_table(f"{args.node}'s host geometry per frame, {frames} of {args.frames} frames with inner pixels, "
                f"{assets} assets, {args.canvas} ({machine()})", ["part", "p50 ms", "p90 ms", "max ms"], rows)


if __name__ == "__main__":
    main()
