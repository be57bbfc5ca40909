"""Checks of the Triton kernels against the torch reference under Triton's interpreter.

Not collected directly (the file name does not start with ``test_``): Triton decides at import
whether it interprets, so tests/nerf/test_triton_kernels.py runs this file in a fresh process
with ``TRITON_INTERPRET=1``. The interpreter is slow, so the sizes are small.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from types import ModuleType

import pytest
import torch

from render.nerf.field_components.hash_encoding import LevelTensors, hash_encode
from render.nerf.model_components.marching import clip_rays, march
from render.nerf.model_components.renderers import RayState, TorchBackend, composite_reference
from tests.nerf.helpers import model_with_grid, random_field, small_config

if os.environ.get("TRITON_INTERPRET") != "1":
    raise RuntimeError("run with TRITON_INTERPRET=1 (see tests/nerf/test_triton_kernels.py)")


@pytest.fixture
def kernels() -> Iterator[dict[str, ModuleType]]:
    names = ("triton_encoding", "triton_field", "triton_march", "triton_backend")
    yield {n: importlib.import_module(f"render.nerf.kernels.{n}") for n in names}


@pytest.mark.parametrize("features", [1, 2, 4])
def test_encoding_forward_and_backward(kernels: dict[str, ModuleType], features: int) -> None:
    enc = kernels["triton_encoding"]
    field = random_field(small_config(n_levels=16 // features * (2 if features == 1 else 1), features=features))
    x = torch.rand(40, 3, generator=torch.Generator().manual_seed(0))
    x[0] = torch.tensor([0.0, 1.0, 0.5])  # faces of the unit cube
    levels = enc.LevelBuffers(field.layout, x.device)
    reference = hash_encode(x, field.grid_table.detach(), LevelTensors(field.layout, x.device))
    assert torch.allclose(enc.encode_forward(x, field.grid_table.detach(), levels), reference, atol=1e-5)
    grad_out = torch.randn_like(reference)
    table = field.grid_table.detach().clone().requires_grad_(True)
    (hash_encode(x, table, LevelTensors(field.layout, x.device)) * grad_out).sum().backward()
    got = enc.encode_backward(x, grad_out, table.shape[0], levels)
    assert table.grad is not None and torch.allclose(got, table.grad, atol=1e-5)


@pytest.mark.parametrize(("levels", "features"), [(16, 1), (8, 2), (8, 4)])
def test_fused_field_matches_reference(kernels: dict[str, ModuleType], levels: int, features: int) -> None:
    fk = kernels["triton_field"]
    field = random_field(small_config(n_levels=levels, features=features, log2_size=10), grid_range=0.5)
    g = torch.Generator().manual_seed(1)
    origins = torch.rand(8, 3, generator=g)
    dirs = torch.nn.functional.normalize(torch.randn(8, 3, generator=g), dim=-1)
    sample_t = torch.rand(8, 8, generator=g) * 0.3
    index = torch.arange(0, 64, 2, dtype=torch.int32)
    sigma, rgb = fk.evaluate_field(fk.pack_field(field), origins, dirs, sample_t, index, (0.0, 0.0, 0.0),
                                   (1.0, 1.0, 1.0))
    flat = index.long()
    ray, slot = flat // 8, flat % 8
    with torch.no_grad():
        ref_sigma, ref_rgb = field(origins[ray] + sample_t[ray, slot][:, None] * dirs[ray], dirs[ray])
    # fp16 weights and activations in the kernel, as in tiny-cuda-nn
    assert torch.allclose(sigma[flat], ref_sigma, rtol=2e-2, atol=1e-3)
    assert torch.allclose(rgb[flat], ref_rgb, atol=5e-3)
    untouched = torch.ones(64, dtype=torch.bool)
    untouched[flat] = False
    assert (sigma[untouched] == 0).all()


@pytest.mark.parametrize(("n_cascades", "cone", "k"), [(2, 1 / 64, 6), (3, 1 / 256, 64), (1, 0.0, 64)])
def test_march_and_composite_match_reference(kernels: dict[str, ModuleType], n_cascades: int, cone: float,
                                             k: int) -> None:
    """The kernel skips empty cells in whole steps of stepping space; the reference tests every
    candidate: the same samples, and the same resume distance (the first candidate past the end)."""
    mk = kernels["triton_march"]
    occupied = torch.rand(n_cascades, 16, 16, 16, generator=torch.Generator().manual_seed(2)) < 0.2
    model = model_with_grid(random_field(small_config()), occupied, n_cascades=n_cascades, resolution=16,
                            aabb_scale=float(2 ** (n_cascades - 1)), cone_angle=cone)
    g = torch.Generator().manual_seed(3)
    o = torch.tensor([[0.5, 0.5, -1.5]]) + 0.4 * torch.randn(24, 3, generator=g)
    d = torch.nn.functional.normalize(torch.tensor([[0.0, 0.0, 1.0]]) + 0.3 * torch.randn(24, 3, generator=g), dim=-1)
    start, end = clip_rays(o, d, model.clip_boxes(None))
    params = model.march_params()
    ref = march(o, d, start, end, model.grid, params, k)
    got = mk.march(o, d, start, end, model.grid, params, k)
    assert torch.equal(got[2].long(), ref[2]) and int(ref[2].sum()) > 24
    assert torch.allclose(got[0], ref[0], atol=1e-5) and torch.allclose(got[1], ref[1], atol=1e-6)
    assert torch.allclose(got[3], ref[3], atol=1e-5)
    sigma = torch.rand(24, k, generator=g) * 50
    rgb = torch.rand(24, k, 3, generator=g)
    rows = torch.randperm(24, generator=g)
    a, b = RayState.empty(24, o.device), RayState.empty(24, o.device)
    a.transmittance[:] = b.transmittance[:] = torch.rand(24, generator=g)
    composite_reference(a, rows, sigma, rgb, ref[0], ref[1], ref[2], 0.05)
    mk.composite(rows, sigma, rgb, ref[0], ref[1], ref[2].int(), b.transmittance, b.rgb, b.depth, 0.05)
    for x, y in ((a.transmittance, b.transmittance), (a.rgb, b.rgb), (a.depth, b.depth)):
        assert torch.allclose(x, y, atol=1e-5)


def test_render_parity(kernels: dict[str, ModuleType]) -> None:
    backend = kernels["triton_backend"]
    model = model_with_grid(random_field(small_config(log2_size=10), grid_range=0.5), resolution=16, scale=0.5)
    g = torch.Generator().manual_seed(4)
    o = torch.tensor([[0.0, -2.0, 0.0]]) + 0.2 * torch.randn(12, 3, generator=g)
    d = torch.nn.functional.normalize(torch.tensor([[0.0, 1.0, 0.0]]) + 0.2 * torch.randn(12, 3, generator=g), dim=-1)
    a = model.render_rays(o, d, TorchBackend())
    b = model.render_rays(o, d, backend.TritonBackend(model.field))
    assert a.stats.samples == b.stats.samples > 0
    assert torch.allclose(a.rgb, b.rgb, atol=5e-3) and torch.allclose(a.alpha, b.alpha, atol=5e-3)
