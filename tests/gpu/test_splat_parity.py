"""GPU parity: the Triton fast path (and gsplat, when installed) against the torch reference.

Collected only with VPSTAGE_GPU_TESTS=1 on a CUDA machine. Real data is looked up under
../shared/data (or $VPSTAGE_SPLAT_DATA) and skipped with a reason when absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

from render.assets import PinholeCamera  # noqa: E402
from render.camera_poses import look_at_camera  # noqa: E402
from render.splat.backends import has_gsplat, has_triton  # noqa: E402
from render.splat.io import load_splat  # noqa: E402
from render.splat.rasterize import rasterize_splats  # noqa: E402
from tests.splat.test_rasterize import random_scene  # noqa: E402
from vpstage.geometry import OrientedBox, quat_to_matrix  # noqa: E402


def _data_dir() -> Path:
    env = os.environ.get("VPSTAGE_SPLAT_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data" / "splats"


def _biker():  # type: ignore[no-untyped-def]
    for name in ("biker.spz", "biker.compressed.ply"):
        path = _data_dir() / name
        if path.is_file():
            return load_splat(path, "cuda")
    pytest.skip(f"biker splat not found in {_data_dir()}")


def _biker_camera(width: int, height: int):  # type: ignore[no-untyped-def]
    return look_at_camera(np.array([0.8, -2.2, -4.2]), np.array([-0.05, -1.6, 0.03]), np.array([0.0, -1.0, 0.0]),
                          width=width, height=height, vertical_fov_deg=45)


def _compare(fast, ref, max_bad_fraction: float = 1e-4) -> None:  # type: ignore[no-untyped-def]
    """Equal up to float rounding; a handful of pixels may differ where a splat sits exactly on the
    1/255 or T = 1e-4 thresholds and rounding tips it the other way."""
    for name in ("rgb", "alpha"):
        diff = (getattr(fast, name) - getattr(ref, name)).abs()
        assert torch.isfinite(getattr(fast, name)).all()
        bad = (diff > 1e-3).float().mean().item()
        assert bad <= max_bad_fraction, f"{name}: {bad:.2e} of values differ by more than 1e-3"
        assert diff.mean().item() < 2e-5, f"{name}: mean difference {diff.mean().item():.2e}"
    covered = (ref.alpha > 0.5) & (fast.alpha > 0.5)
    rel = ((fast.depth - ref.depth).abs() / ref.depth.clamp_min(1e-6))[covered]
    assert rel.numel() == 0 or rel.median().item() < 1e-5


@pytest.mark.skipif(not has_triton("cuda"), reason="triton is not installed")
@pytest.mark.parametrize("degree", [0, 3])
def test_triton_matches_reference_on_random_scene(degree: int) -> None:
    model = random_scene(20_000, seed=degree, degree=degree).to("cuda")
    cam = PinholeCamera(world_to_camera=np.eye(4), fx=500.0, fy=500.0, cx=320.0, cy=240.0, width=640, height=480)
    ref = rasterize_splats(model, cam, backend="torch", background=(0.1, 0.2, 0.3))
    fast = rasterize_splats(model, cam, backend="triton", background=(0.1, 0.2, 0.3))
    _compare(fast, ref)


@pytest.mark.skipif(not has_triton("cuda"), reason="triton is not installed")
def test_triton_matches_reference_on_biker_with_crop_and_window() -> None:
    model = _biker()
    cam = _biker_camera(1280, 720)
    _compare(rasterize_splats(model, cam, backend="triton"), rasterize_splats(model, cam, backend="torch"))
    box = OrientedBox(np.array([0.0, -1.8, 0.0]), quat_to_matrix(np.array([0.95, 0.0, 0.3, 0.0])),
                      np.array([0.3, 0.6, 0.4]))
    rect = (300, 100, 900, 620)
    ref = rasterize_splats(model, cam, backend="torch", crop=box, rect=rect)
    fast = rasterize_splats(model, cam, backend="triton", crop=box, rect=rect)
    assert fast.rgb.shape == (520, 600, 3)
    _compare(fast, ref)
    full = rasterize_splats(model, cam, backend="triton", crop=box)
    torch.testing.assert_close(fast.rgb, full.rgb[100:620, 300:900], atol=1e-5, rtol=0)


@pytest.mark.skipif(not has_gsplat("cuda"), reason="gsplat is not installed")
def test_gsplat_agrees_with_reference() -> None:
    model = _biker()
    cam = _biker_camera(960, 540)
    ref = rasterize_splats(model, cam, backend="torch")
    other = rasterize_splats(model, cam, backend="gsplat")
    # gsplat's own kernels: same thresholds, its own float order and extent rule
    diff = (other.rgb - ref.rgb).abs()
    assert diff.mean().item() < 2e-3 and (diff > 0.05).float().mean().item() < 1e-3


@pytest.mark.skipif(not has_triton("cuda"), reason="triton is not installed")
def test_graph_replay_follows_camera_window_and_crop_changes() -> None:
    """One captured graph serves every frame of a size bucket: new cameras, rects and crops."""
    from render.splat.backends import triton_rasterizer as tr

    model = _biker()
    box = OrientedBox(np.array([0.0, -1.5, 0.0]), np.eye(3), np.array([0.4, 0.7, 0.4]))
    frames = [(_biker_camera(1280, 720), None, None),
              (look_at_camera(np.array([-3.0, -2.0, 2.5]), np.array([0.0, -1.5, 0.0]), np.array([0.0, -1.0, 0.0]),
                              width=1280, height=720, vertical_fov_deg=40), None, None),
              (_biker_camera(1280, 720), (200, 100, 700, 500), box),
              (_biker_camera(1280, 720), (210, 90, 690, 490), box)]  # same 32x32-tile bucket as before
    for cam, rect, crop in frames * 2:  # the second pass replays captured graphs
        ref = rasterize_splats(model, cam, backend="torch", rect=rect, crop=crop)
        graphed = rasterize_splats(model, cam, backend="triton", rect=rect, crop=crop)
        eager = tr.rasterize_triton(model.positions, model.quats, model.scales, model.opacities, model.sh,
                                    _raster_camera(cam, rect), (0.0, 0.0, 0.0), crop, graph=False)
        _compare(graphed, ref)
        # the graph's blend may run with another warp count (tuned), whose code can round
        # differently: a few pixels may tip over the 1/255 or T = 1e-4 thresholds, no more
        _compare(graphed, eager)
        assert float(((graphed.rgb - eager.rgb).abs() > 1e-6).float().mean()) <= 1e-5
    assert any(r.graph is not None for r in tr._RUNNERS.values())


def _raster_camera(cam, rect):  # type: ignore[no-untyped-def]
    from render.splat.raster_inputs import RasterCamera

    return RasterCamera.from_pinhole(cam, rect, "cuda")


@pytest.mark.skipif(not has_triton("cuda"), reason="triton is not installed")
@pytest.mark.parametrize("shape", [dict(batch=16, warps=2), dict(batch=16, warps=4), dict(batch=16, warps=8)])
def test_blend_shapes_match_reference_on_biker(shape: dict[str, object]) -> None:
    """Every blend-kernel variant the benchmark sweep may choose renders the reference image."""
    from render.splat.backends import triton_rasterizer as tr

    model = _biker()
    cam = _biker_camera(1280, 720)
    previous = tr.BLEND
    tr.BLEND = tr.BlendShape(**shape)  # type: ignore[arg-type]
    tr._RUNNERS.clear()
    try:
        _compare(rasterize_splats(model, cam, backend="triton"), rasterize_splats(model, cam, backend="torch"))
    finally:
        tr.BLEND = previous
        tr._RUNNERS.clear()


def _render_in_threads(jobs: list[tuple[str, int]]) -> list[object]:
    """Each (device, width) job renders biker frames in its own thread, as render workers do."""
    import threading

    errors: list[BaseException] = []
    models = []  # alive until the caller has looked at the runners (a freed model's runner is dropped)

    def work(device: str, width: int) -> None:
        try:
            model = load_splat(_biker_path(), device)
            models.append(model)
            stream = torch.cuda.Stream(device=device)
            with torch.cuda.device(device), torch.cuda.stream(stream):
                for _ in range(6):
                    out = rasterize_splats(model, _biker_camera(width, width * 9 // 16), backend="triton")
                    assert float(out.alpha.max()) > 0.5
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return models


def _biker_path() -> Path:
    for name in ("biker.spz", "biker.compressed.ply"):
        if (_data_dir() / name).is_file():
            return _data_dir() / name
    pytest.skip(f"biker splat not found in {_data_dir()}")


@pytest.mark.skipif(not has_triton("cuda"), reason="triton is not installed")
def test_workers_capture_their_graphs_concurrently() -> None:
    """Render workers sharing a process capture their graphs at the same time without breaking
    each other's capture (each runner captures on its own stream), on one GPU and, when the
    machine has several, on two."""
    from render.splat.backends import triton_rasterizer as tr

    tr._RUNNERS.clear()
    jobs = [("cuda:0", 640), ("cuda:0", 1024)]
    if torch.cuda.device_count() > 1:
        jobs += [("cuda:1", 640), ("cuda:1", 1280)]
    models = _render_in_threads(jobs)
    runners = [r for r in tr._RUNNERS.values() if r.alive()]
    assert len(models) == len(jobs)
    assert len(runners) == len(jobs)
    assert all(r.graph is not None and not r.graph_failed for r in runners)


def test_deferred_pair_checks_on_the_gpu() -> None:
    """As a render node runs the rasterizer: graphs replayed, the pair total read at frame end."""
    if not has_triton("cuda"):
        pytest.skip("the optional triton package is not installed")
    from tests.splat.deferred_pairs import check_deferred_pair_checks

    check_deferred_pair_checks("cuda")
