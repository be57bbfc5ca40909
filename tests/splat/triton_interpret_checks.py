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


CROPS = {
    "box": OrientedBox(np.array([0.3, -0.2, 5.5]), quat_to_matrix(np.array([0.9, 0.1, 0.3, -0.2])),
                       np.array([1.2, 0.8, 1.5])),
    "sliver": OrientedBox(np.array([0.0, -1.2, 5.0]), np.eye(3), np.array([3.0, 0.08, 4.0])),
    "nothing": OrientedBox(np.array([0.0, 0.0, -40.0]), np.eye(3), np.array([1.0, 1.0, 1.0])),
}


@pytest.mark.parametrize(("crop", "rect"), [(None, None), ("box", (5, 9, 42, 40)), ("sliver", (0, 40, 64, 44)),
                                          ("nothing", None)])
def test_compacted_matches_uncompacted_and_reference(crop: str | None, rect: tuple[int, int, int, int] | None
                                                     ) -> None:
    """The projection kernel over the visible chunks' slots (8-splat chunks, so the padding, the
    chunk list's -1 tail and several runners' slot buckets are all exercised)."""
    from render.splat.chunks import build_chunks

    model = random_scene(200, seed=31, degree=1)
    chunks = build_chunks(model.positions, model.scales, model.opacities, 8)
    kwargs = {"rect": rect, "crop": None if crop is None else CROPS[crop], "background": (0.1, 0.2, 0.3)}
    cam = camera(64, 48, f=60.0)
    compacted = rasterize_splats(model, cam, backend="triton", chunks=chunks, **kwargs)
    plain = rasterize_splats(model, cam, backend="triton", chunks="off", **kwargs)
    for name in ("rgb", "alpha", "depth"):
        torch.testing.assert_close(getattr(compacted, name), getattr(plain, name), atol=1e-6, rtol=0)
    _compare(model, cam, chunks=chunks, **kwargs)
    if crop == "sliver":
        assert compacted.stats["candidates"] < model.num_splats / 2
    if crop == "nothing":
        assert compacted.stats["candidates"] == 0 and float(compacted.alpha.max()) == 0.0


def test_compacted_runners_are_bucketed_by_visible_chunks() -> None:
    """A frame that shows few chunks gets a runner with few slots; a frame whose count rounds to
    a nearby bucket (within twice) reuses a cached runner rather than capturing another."""
    from render.splat.backends import triton_rasterizer as tr
    from render.splat.chunk_culling import visible_chunks
    from render.splat.chunks import build_chunks, chunk_slots
    from render.splat.raster_inputs import RasterCamera

    tr._RUNNERS.clear()
    model = random_scene(1500, seed=41)
    chunks = build_chunks(model.positions, model.scales, model.opacities, 8)
    cam = camera(64, 48, f=60.0)
    rects = ((0, 0, 64, 48), (0, 0, 8, 48), (0, 0, 1, 48))  # the whole view, a strip, a narrower one
    slots = [chunk_slots(len(visible_chunks(chunks, RasterCamera.from_pinhole(cam, rect, "cpu"), None)),
                         chunks.num_chunks) for rect in rects]
    assert slots[0] == chunks.num_chunks and slots[2] < slots[1] <= 2 * slots[2]  # the premise
    for rect in rects:
        rasterize_splats(model, cam, backend="triton", chunks=chunks, rect=rect)
    # the whole view shows every chunk: it runs uncompacted (no slots), over every splat
    keys = sorted((r.key for r in tr._RUNNERS.values()), key=lambda k: k.chunk_slots)
    assert [k.chunk_slots for k in keys] == [0, slots[1]]
    assert keys[0].count == model.num_splats and keys[1].count == slots[1] * 8



def test_deferred_pair_checks_find_an_overflow_and_the_grown_runner_renders_right() -> None:
    from tests.splat.deferred_pairs import check_deferred_pair_checks

    check_deferred_pair_checks("cpu")
