"""One check of the fast rasterizer's deferred pair checks (``render.splat.pair_checks``), run on
CPU through Triton's interpreter (tests/splat/triton_interpret_checks.py) and on a GPU with graph
replay (tests/gpu/test_splat_parity.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from render.splat.rasterize import rasterize_splats
from tests.splat.test_rasterize import camera, random_scene


def check_deferred_pair_checks(device: str) -> None:
    """Inside ``deferred_pair_checks`` a sized runner neither waits for nor reads its pair total;
    the check, run afterwards, finds a frame that ran out of pair room, and the runner that
    replaces it renders the frame like the one before."""
    from render.splat.backends import triton_rasterizer as tr
    from render.splat.pair_checks import deferred_pair_checks

    tr._RUNNERS.clear()
    model = random_scene(300, seed=5).to(device)
    cam = camera(64, 48, f=60.0)
    reference = rasterize_splats(model, cam, backend="torch", chunks="off")
    rasterize_splats(model, cam, backend="triton", chunks="off")  # sizes the runner's pair buffers
    with deferred_pair_checks() as checks:
        fine = rasterize_splats(model, cam, backend="triton", chunks="off")
    assert "pairs" not in fine.stats and len(checks) == 1 and not checks.overflowed()
    torch.testing.assert_close(fine.rgb, reference.rgb, atol=1e-5, rtol=0)
    ((family, runner),) = tr._RUNNERS.items()
    small = tr.FrameRunner(runner.key, runner.inputs(), 16)  # far too few pairs for this view
    small.sized = True
    tr._RUNNERS[family] = small
    with deferred_pair_checks() as checks:
        short = rasterize_splats(model, cam, backend="triton", chunks="off")
    assert checks.overflowed()
    assert tr._RUNNERS[family] is not small and tr._RUNNERS[family].capacity > 16  # replaced, with room
    assert not torch.allclose(short.rgb, fine.rgb)  # the overflowed frame lacked pairs
    tr._RUNNERS[family] = small
    away = replace(cam, world_to_camera=np.diag([1.0, 1.0, -1.0, 1.0]) @ np.diag([-1.0, 1.0, 1.0, 1.0]))
    with deferred_pair_checks() as checks:  # one frame, the same runner twice: the second fits
        rasterize_splats(model, cam, backend="triton", chunks="off")
        rasterize_splats(model, away, backend="triton", chunks="off")
    assert checks.overflowed()  # the first view's overflow is not hidden by the second's total
    assert tr._RUNNERS[family] is not small
    with deferred_pair_checks() as checks:
        again = rasterize_splats(model, cam, backend="triton", chunks="off")
    assert not checks.overflowed()
    torch.testing.assert_close(again.rgb, fine.rgb, atol=1e-6, rtol=0)
