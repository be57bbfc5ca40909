"""The Triton rasterizer against the torch reference, on CPU through Triton's interpreter.

Needs the optional ``triton`` package (CI does not install it: these tests are skipped there).
The same comparison on a GPU is tests/gpu/test_splat_parity.py.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import torch

# Before the kernels are defined: run them on CPU tensors. Never on a CUDA machine, where the
# compiled kernels are tested (tests/gpu) and the interpreter must not replace them.
if not torch.cuda.is_available() and "render.splat.backends.triton_kernels" not in sys.modules:
    os.environ["TRITON_INTERPRET"] = "1"
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


def test_empty_view() -> None:
    model = random_scene(10, seed=1)
    model.positions[:, 2] = -5.0  # everything behind the camera
    out = rasterize_splats(model, camera(32, 16), backend="triton", background=(0.0, 1.0, 0.0))
    assert float(out.alpha.max()) == 0.0 and float(out.rgb[..., 1].min()) == 1.0
