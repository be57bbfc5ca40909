"""The splat Triton kernels: against the torch reference under Triton's CPU interpreter, and
compacted against uncompacted frames on a GPU.

The interpreter checks (tests/splat/triton_interpret_checks.py) run in a fresh pytest process with
``TRITON_INTERPRET=1``: Triton reads that variable when kernels are defined, and setting it in this
process would switch every later test that asks for Triton onto the (slow) interpreter. The GPU
check runs the compiled kernels with CUDA-graph replay, as a render node does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("triton", reason="the optional triton package is not installed (pip install triton)")

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present: the compiled kernels run in tests/gpu")
def test_triton_rasterizer_matches_reference_under_interpreter() -> None:
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(Path(__file__).with_name("triton_interpret_checks.py"))],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (the compiled kernels, graph replay)")
def test_compacted_frames_equal_uncompacted_frames_on_the_gpu() -> None:
    """Compaction (the default) against every splat, with captured graphs replayed: full frames,
    windows, a box crop, a thin sliver and a crop that keeps nothing, each rendered twice (the
    second frame replays the graph) with the camera moving in between."""
    from render.camera_poses import look_at_camera
    from render.splat.backends import triton_rasterizer as tr
    from render.splat.chunks import build_chunks
    from render.splat.rasterize import rasterize_splats
    from tests.splat.test_chunks import world_scene
    from vpstage.geometry import OrientedBox

    model = world_scene(60_000, seed=3).to("cuda")
    chunks = build_chunks(model.positions, model.scales, model.opacities, 128)
    crops = [None, OrientedBox(np.array([1.0, 0.5, 2.0]), np.eye(3), np.array([2.5, 1.5, 3.0])),
             OrientedBox(np.array([0.0, -1.0, 0.0]), np.eye(3), np.array([9.0, 0.05, 9.0])),
             OrientedBox(np.array([0.0, 0.0, 500.0]), np.eye(3), np.array([1.0, 1.0, 1.0]))]
    rects = [None, (100, 50, 700, 400), (0, 300, 960, 330), None]
    for step in range(4):
        eye = np.array([0.3 * step, -0.5, -7.0])
        cam = look_at_camera(eye, np.zeros(3), np.array([0.0, -1.0, 0.0]), width=960, height=540,
                             vertical_fov_deg=70.0)
        for crop, rect in zip(crops, rects, strict=True):
            compacted = rasterize_splats(model, cam, backend="triton", rect=rect, crop=crop, chunks=chunks)
            plain = rasterize_splats(model, cam, backend="triton", rect=rect, crop=crop, chunks="off")
            for name in ("rgb", "alpha"):
                diff = (getattr(compacted, name) - getattr(plain, name)).abs()
                # the same splats in the same depth order: equal, up to a rare threshold tipped by
                # a blend variant that rounds differently (tuned warp counts)
                assert float(diff.max()) <= 1e-4 or float((diff > 1e-5).float().mean()) <= 1e-5, name
            assert compacted.stats["candidates"] <= model.num_splats
    assert any(r.graph is not None and r.key.chunk_slots for r in tr._RUNNERS.values())
