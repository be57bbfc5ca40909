"""NeRF render throughput: Mrays/s and ms per 1080p / 4K frame, full frame and cropped.

``python -m bench.nerf_render --asset FOX.nerf [--device cuda] [--backends triton,torch] [--sizes 1080p,4k]``

The camera is the asset's first training camera (pose and focal length) turned into a landscape
1920x1080 frame (3840x2160 with twice the focal length for 4K). The crop case adds an oriented
box around the content whose projection covers about a quarter of the frame (the DoD crop of a
render node). Mrays/s counts every pixel of the frame, as instant-ngp's anchor does
(1440x1080 in ~100 ms on an RTX 3090, about 15.6 Mrays/s). Also reported: the time split over
march / field / composite stages and the fused field kernel's samples per second, with a sweep of
its launch settings and of the samples marched per round.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.common import print_table
from render.assets import PinholeCamera, load_asset
from render.nerf.asset import NerfAsset, crop_window, make_backend
from render.nerf.conventions import OPENGL_TO_OPENCV
from render.nerf.model_components.renderers import RayState, RenderBackend, RoundSchedule
from vpstage.geometry import OrientedBox

SIZES = {"1080p": (1920, 1080), "4k": (3840, 2160), "tiny": (64, 36)}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_camera(asset: NerfAsset, size: tuple[int, int]) -> PinholeCamera:
    frames = asset.model.metadata.get("frames", [])
    w, h = size
    if frames:
        c2w = np.asarray(frames[0]["transform_matrix"], dtype=np.float64) @ OPENGL_TO_OPENCV
        focal = float(frames[0]["fl_x"]) * w / 1920
    else:  # no training cameras: look at the content from 2.5 bounds-diagonals away
        lo, hi = asset.bounds()
        center, radius = (lo + hi) / 2, float(np.linalg.norm(hi - lo))
        c2w = np.eye(4)
        c2w[:3, 3] = center - np.array([0.0, 2.5 * radius, 0.0])
        c2w[:3, :3] = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])
        focal = 0.8 * w
    return PinholeCamera(world_to_camera=np.linalg.inv(c2w), fx=focal, fy=focal, cx=w / 2, cy=h / 2, width=w, height=h)


def content_point(asset: NerfAsset, camera: PinholeCamera) -> np.ndarray:
    """Where the optical axis meets the content: median depth of a low-resolution render's centre."""
    small = PinholeCamera(world_to_camera=camera.world_to_camera, fx=camera.fx / 20, fy=camera.fy / 20,
                          cx=camera.cx / 20, cy=camera.cy / 20, width=camera.width // 20, height=camera.height // 20)
    out = asset.render_pinhole(small)
    h, w = out.depth.shape
    centre = out.depth[h // 3: 2 * h // 3, w // 3: 2 * w // 3]
    opaque = centre[out.alpha[h // 3: 2 * h // 3, w // 3: 2 * w // 3] > 0.5]
    c2w = camera.camera_to_world()
    if opaque.numel() == 0:
        lo, hi = asset.bounds()
        return np.asarray((lo + hi) / 2)
    return np.asarray(c2w[:3, 3] + float(opaque.median()) * c2w[:3, 2])


def quarter_crop(asset: NerfAsset, camera: PinholeCamera) -> tuple[OrientedBox, float]:
    """A cube around the content on the optical axis whose projected window covers about 25% of the frame."""
    center = content_point(asset, camera)
    lo, hi = asset.bounds()
    full = (0, 0, camera.width, camera.height)
    area = camera.width * camera.height
    small, large = 1e-3, float(np.linalg.norm(hi - lo))
    box = OrientedBox(center, np.eye(3), np.full(3, large))
    for _ in range(40):
        half = (small + large) / 2
        box = OrientedBox(center, np.eye(3), np.full(3, half))
        window = crop_window(camera, full, box)
        covered = 0 if window is None else (window[2] - window[0]) * (window[3] - window[1])
        small, large = (half, large) if covered < 0.25 * area else (small, half)
    window = crop_window(camera, full, box)
    covered = 0 if window is None else (window[2] - window[0]) * (window[3] - window[1])
    return box, covered / area


@dataclass
class TimedBackend:
    """Wraps a backend and accumulates synchronised wall time per stage (adds syncs: breakdown only)."""

    inner: RenderBackend
    device: torch.device
    seconds: dict[str, float] = field(default_factory=lambda: {"march": 0.0, "field": 0.0, "composite": 0.0})
    samples: int = 0

    @property
    def name(self) -> str:
        return self.inner.name

    def _timed(self, stage: str, fn: Any, *args: Any) -> Any:
        sync(self.device)
        start = time.perf_counter()
        out = fn(*args)
        sync(self.device)
        self.seconds[stage] += time.perf_counter() - start
        return out

    def march(self, *args: Any) -> Any:
        return self._timed("march", self.inner.march, *args)

    def evaluate(self, inputs: Any, origins: torch.Tensor, dirs: torch.Tensor, sample_t: torch.Tensor,
                 count: torch.Tensor) -> Any:
        self.samples += int(count.sum())
        return self._timed("field", self.inner.evaluate, inputs, origins, dirs, sample_t, count)

    def composite(self, state: RayState, *args: Any) -> None:
        self._timed("composite", self.inner.composite, state, *args)


def time_frame(asset: NerfAsset, camera: PinholeCamera, crop: OrientedBox | None, repeat: int,
               warmup: int = 1) -> list[float]:
    """Wall milliseconds of ``repeat`` renders after ``warmup`` (kernel compilation, allocator)."""
    times = []
    for i in range(repeat + warmup):
        sync(asset.device)
        start = time.perf_counter()
        asset.render_pinhole(camera, crop=crop)
        sync(asset.device)
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000.0)
    return times


def frame_rows(asset: NerfAsset, backends: list[str], sizes: list[str], repeat: int,
               device: torch.device) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    rows, records = [], []
    for name in backends:
        # the torch reference compiles nothing and is slow: one timed frame, 1080p only
        for size in (sizes if name != "torch" else [s for s in sizes if s != "4k"]):
            camera = bench_camera(asset, SIZES[size])
            crop, fraction = quarter_crop(asset, camera)
            for label, box in (("full frame", None), (f"crop {100 * fraction:.0f}% of frame", crop)):
                a = asset.with_backend(name)  # type: ignore[arg-type]
                times = time_frame(a, camera, box, repeat) if name != "torch" else time_frame(a, camera, box, 1, 0)
                ms = statistics.median(times)
                stats = a.last_stats
                spr = stats.samples / max(stats.live_rays, 1) if stats else 0.0
                pixels = camera.width * camera.height
                rows.append([name, size, label, round(ms, 2), round(pixels / ms / 1e3, 2), round(1000 / ms, 2),
                             stats.live_rays if stats else 0, round(spr, 1), stats.rounds if stats else 0])
                records.append({"backend": name, "size": size, "case": label, "ms": times,
                                "live_rays": stats.live_rays if stats else 0, "samples": stats.samples if stats else 0})
    return rows, records


def stage_breakdown(asset: NerfAsset, device: torch.device) -> list[list[Any]]:
    camera = bench_camera(asset, SIZES["1080p"])
    timed = TimedBackend(make_backend("auto", asset.model), device)
    a = NerfAsset(asset.model, asset.name)
    a._backend = timed  # type: ignore[assignment]
    a.render_pinhole(camera)
    timed.seconds = {k: 0.0 for k in timed.seconds}
    timed.samples = 0
    a.render_pinhole(camera)
    total = sum(timed.seconds.values())
    rate = timed.samples / max(timed.seconds["field"], 1e-9) / 1e9
    rows = [[timed.name, stage, round(1000 * s, 2), f"{100 * s / total:.0f}%"] for stage, s in timed.seconds.items()]
    return [*rows, [timed.name, "field samples/s (G)", round(rate, 2), f"{timed.samples} samples"]]


def sweep(asset: NerfAsset, device: torch.device) -> list[list[Any]]:
    """1080p full frame under other round schedules, field launch settings and termination thresholds."""
    from render.nerf.kernels.triton_backend import TritonBackend

    camera = bench_camera(asset, SIZES["1080p"])
    model = asset.model
    defaults = (model.rounds, model.min_transmittance)
    cases = [(RoundSchedule(t, 32), 64, 4, 0.01) for t in (1 << 20, 1 << 21, 1 << 22, 1 << 23)]
    cases += [(RoundSchedule(), 128, 8, 0.01), (RoundSchedule(), 32, 2, 0.01), (RoundSchedule(), 64, 4, 0.2)]
    rows = []
    for schedule, block, warps, min_t in cases:
        a = NerfAsset(model, asset.name)
        a._backend = TritonBackend(model.field, block, warps)
        model.rounds, model.min_transmittance = schedule, min_t
        label = [schedule.target, schedule.max_per_ray, block, warps, min_t]
        try:
            ms = statistics.median(time_frame(a, camera, None, 3))
        except Exception as exc:  # a launch setting the compiler rejects is reported, not fatal
            rows.append([*label, f"failed: {type(exc).__name__}", "", ""])
            continue
        stats = a.last_stats
        rows.append([*label, round(ms, 2), round(camera.width * camera.height / ms / 1e3, 1),
                     stats.rounds if stats else 0])
    model.rounds, model.min_transmittance = defaults
    return rows


def field_throughput(asset: NerfAsset, device: torch.device, n: int = 1 << 22) -> list[list[Any]]:
    """Fused kernel vs torch reference on n random samples in the occupied region (Gsamples/s)."""
    from render.nerf.kernels.triton_field import evaluate_field, pack_field

    model = asset.model
    pts = torch.as_tensor(model.occupied_points(), dtype=torch.float32, device=device)
    pick = pts[torch.randint(0, pts.shape[0], (n,), device=device)]
    origins, dirs = model.rays_to_field(pick, torch.randn(n, 3, device=device))
    sample_t = torch.zeros(n, 1, device=device)
    index = torch.arange(n, device=device, dtype=torch.int32)
    inputs = model.field_inputs()
    lo, inv = inputs.aabb_min.tolist(), (1.0 / inputs.aabb_size).tolist()
    packed = pack_field(model.field)
    rows = []
    for label, fn in (
        ("triton fused", lambda: evaluate_field(packed, origins, dirs, sample_t, index, tuple(lo), tuple(inv))),
        ("torch reference", lambda: model.field((origins - inputs.aabb_min) / inputs.aabb_size, dirs)),
    ):
        with torch.no_grad():
            fn()
            sync(device)
            times = []
            for _ in range(5):
                start = time.perf_counter()
                fn()
                sync(device)
                times.append(time.perf_counter() - start)
        s = statistics.median(times)
        rows.append([label, n, round(1000 * s, 2), round(n / s / 1e9, 3)])
    return rows


def save_figures(asset: NerfAsset, folder: Path) -> None:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    camera = bench_camera(asset, SIZES["1080p"])
    crop, _ = quarter_crop(asset, camera)
    for name, box in (("fox_1080p_full.png", None), ("fox_1080p_crop.png", crop)):
        out = asset.render_pinhole(camera, crop=box, background=(0.1, 0.1, 0.12))
        image = (out.rgb.clamp(0, 1).cpu().numpy()[..., ::-1] * 255).astype(np.uint8)
        cv2.imwrite(str(folder / name), cv2.resize(image, (960, 540), interpolation=cv2.INTER_AREA))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asset", required=True)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--backends", default="triton,torch")
    parser.add_argument("--sizes", default="1080p,4k")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sweep", action="store_true", help="sweep field launch settings and round sizes")
    parser.add_argument("--field-samples", type=int, default=1 << 22)
    parser.add_argument("--figures")
    parser.add_argument("--json")
    args = parser.parse_args()
    device = torch.device(args.device)
    asset = load_asset(args.asset, args.device)
    assert isinstance(asset, NerfAsset)
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    report: dict[str, Any] = {"device": gpu}
    rows, report["frames"] = frame_rows(asset, args.backends.split(","), args.sizes.split(","), args.repeat, device)
    print_table(f"NeRF render, {gpu}", ["backend", "size", "case", "ms/frame", "Mrays/s", "fps", "live rays",
                                         "samples/ray", "rounds"], rows)
    if "triton" in args.backends:
        print_table(f"Stage split, 1080p full frame, {gpu}", ["backend", "stage", "ms", "share"],
                    stage_breakdown(asset, device))
        print_table(f"Field alone, random occupied points, {gpu}", ["impl", "samples", "ms", "Gsamples/s"],
                    field_throughput(asset, device, args.field_samples))
        if args.sweep:
            print_table(f"Sweep, 1080p full frame, {gpu}",
                        ["round target", "max K", "block", "warps", "min T", "ms", "Mrays/s", "rounds"],
                        sweep(asset, device))
    if args.figures:
        save_figures(asset, Path(args.figures))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
