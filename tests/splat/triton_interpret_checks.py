"""The Triton rasterizer against the torch reference, on CPU through Triton's interpreter.

Not collected by the normal run: tests/splat/test_triton_backend.py runs this file in a fresh
pytest process with ``TRITON_INTERPRET=1``, so the interpreter never leaks into other tests.
Needs the optional ``triton`` package. The same comparison on a GPU is tests/gpu/test_splat_parity.py.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import torch

if os.environ.get("TRITON_INTERPRET") != "1" or "render.splat.backends.triton_kernels" in sys.modules:
    raise RuntimeError("run through tests/splat/test_triton_backend.py (needs TRITON_INTERPRET=1 before import)")
pytest.importorskip("triton", reason="the optional triton package is not installed (pip install triton)")

from render.splat.backends import has_triton
from render.splat.rasterize import rasterize_splats
from tests.splat.test_rasterize import camera, random_scene
from vpstage.geometry import OrientedBox, quat_to_matrix

pytestmark = [
    pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present: the compiled kernels run in tests/gpu"),
    pytest.mark.skipif(not has_triton("cpu"), reason="Triton's CPU interpreter is not enabled"),
]


def _compare(model, cam, **kwargs) -> None:  # type: ignore[no-untyped-def]
    ref = rasterize_splats(model, cam, backend="torch", **kwargs)
    fast = rasterize_splats(model, cam, backend="triton", **kwargs)
    torch.testing.assert_close(fast.rgb, ref.rgb, atol=1e-5, rtol=0)
    torch.testing.assert_close(fast.alpha, ref.alpha, atol=1e-5, rtol=0)
    torch.testing.assert_close(fast.depth, ref.depth, atol=2e-4, rtol=1e-5)


@pytest.mark.parametrize("degree", [0, 3])
def test_full_frame_matches_reference(degree: int) -> None:
    _compare(random_scene(120, seed=11 + degree, degree=degree), camera(48, 32, f=40.0), background=(0.2, 0.1, 0.0))


def test_crop_and_window_match_reference() -> None:
    box = OrientedBox(np.array([0.3, -0.2, 5.5]), quat_to_matrix(np.array([0.9, 0.1, 0.3, -0.2])),
                      np.array([1.2, 0.8, 1.5]))
    _compare(random_scene(150, seed=21, degree=1), camera(64, 48, f=60.0), crop=box, rect=(5, 9, 42, 40))


@pytest.mark.parametrize("shape", [dict(batch=16, warps=4), dict(batch=8, warps=8), dict(batch=32, warps=1)])
def test_blend_shapes_match_reference(shape: dict[str, object]) -> None:
    """Every blend-kernel variant the benchmark sweep may choose gives the reference image."""
    from render.splat.backends import triton_rasterizer as tr

    previous = tr.BLEND
    tr.BLEND = tr.BlendShape(**shape)  # type: ignore[arg-type]
    tr._RUNNERS.clear()
    try:
        # dense enough that pixels saturate (T < 1e-4) inside a batch
        model = random_scene(300, seed=5, degree=1)
        model.opacities[:] = 0.97
        model.scales *= 2.0  # about a third of the pixels end with T near 1e-4
        _compare(model, camera(48, 32, f=40.0), background=(0.0, 0.3, 0.6))
        _compare(random_scene(150, seed=21, degree=0), camera(64, 48, f=60.0), rect=(5, 9, 42, 40))
    finally:
        tr.BLEND = previous
        tr._RUNNERS.clear()


def test_empty_view() -> None:
    model = random_scene(10, seed=1)
    model.positions[:, 2] = -5.0  # everything behind the camera
    out = rasterize_splats(model, camera(32, 16), backend="triton", background=(0.0, 1.0, 0.0))
    assert float(out.alpha.max()) == 0.0 and float(out.rgb[..., 1].min()) == 1.0
