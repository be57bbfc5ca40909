"""Compiled Triton kernels against the torch reference on a CUDA device (VPSTAGE_GPU_TESTS=1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from render.nerf.asset import NerfAsset
from render.nerf.field_components.hash_encoding import LevelTensors, hash_encode
from render.nerf.model_components.marching import clip_rays, march
from render.nerf.model_components.renderers import RayState, composite_reference
from tests.nerf.helpers import model_with_grid, random_field, small_config

pytest.importorskip("triton", reason="triton is not installed (optional accelerator)")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
DEV = torch.device("cuda")


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).norm() / b.double().norm().clamp(min=1e-12))


@pytest.mark.parametrize(("levels", "features", "log2_size"), [(16, 2, 19), (8, 4, 19), (16, 1, 15)])
def test_encoding_parity(levels: int, features: int, log2_size: int) -> None:
    from render.nerf.kernels.triton_encoding import LevelBuffers, encode_backward, encode_forward

    field = random_field(small_config(levels, features, log2_size, 16, 1.45), seed=levels).to(DEV)
    x = torch.rand(200_000, 3, device=DEV)
    ref = hash_encode(x, field.grid_table.detach(), LevelTensors(field.layout, DEV))
    got = encode_forward(x, field.grid_table.detach(), LevelBuffers(field.layout, DEV))
    assert rel_err(got, ref) < 1e-5
    grad_out = torch.randn_like(ref)
    table = field.grid_table.detach().clone().requires_grad_(True)
    (hash_encode(x, table, LevelTensors(field.layout, DEV)) * grad_out).sum().backward()
    grad = encode_backward(x, grad_out, table.shape[0], LevelBuffers(field.layout, DEV))
    assert table.grad is not None and rel_err(grad, table.grad) < 1e-4


@pytest.mark.parametrize(("levels", "features", "width"), [(16, 2, 64), (8, 4, 64), (8, 2, 32)])
def test_fused_field_parity(levels: int, features: int, width: int) -> None:
    from render.nerf.kernels.triton_field import evaluate_field, pack_field

    field = random_field(small_config(levels, features, 19, 16, 1.5, width), grid_range=0.3).to(DEV)
    n, k = 4096, 16
    origins = torch.rand(n, 3, device=DEV) * 0.5
    dirs = torch.nn.functional.normalize(torch.randn(n, 3, device=DEV), dim=-1)
    sample_t = torch.rand(n, k, device=DEV) * 0.5
    index = torch.nonzero(torch.rand(n * k, device=DEV) < 0.7).squeeze(1).int()
    sigma, rgb = evaluate_field(pack_field(field), origins, dirs, sample_t, index, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    flat = index.long()
    ray, slot = flat // k, flat % k
    with torch.no_grad():
        ref_sigma, ref_rgb = field(origins[ray] + sample_t[ray, slot][:, None] * dirs[ray], dirs[ray])
    assert rel_err(sigma[flat], ref_sigma) < 2e-2  # fp16 operands, as tiny-cuda-nn
    assert float((rgb[flat] - ref_rgb).abs().max()) < 1e-2


def fox_like_model():
    """Random field, 3 cascades, about a fifth of the cells occupied around the centre."""
    field = random_field(small_config(16, 2, 19, 16, 1.45, 64), grid_range=0.2)
    occupied = torch.zeros(3, 128, 128, 128, dtype=torch.bool)
    r = torch.arange(128) - 63.5
    ball = (r[:, None, None] ** 2 + r[None, :, None] ** 2 + r[None, None, :] ** 2) < 40**2
    occupied[0] = ball & (torch.rand(128, 128, 128) < 0.6)
    occupied[1] = ball & (torch.rand(128, 128, 128) < 0.05)
    model = model_with_grid(field, occupied, n_cascades=3, resolution=128, aabb_scale=4.0, scale=0.33,
                            cone_angle=1 / 256, min_step=math.sqrt(3) / 1024)
    return model.to(DEV)


def test_march_and_composite_parity() -> None:
    from render.nerf.kernels import triton_march

    model = fox_like_model()
    n = 20_000
    o = torch.tensor([[0.5, 0.5, -2.0]], device=DEV) + 0.3 * torch.randn(n, 3, device=DEV)
    d = torch.nn.functional.normalize(torch.tensor([[0.0, 0.0, 1.0]], device=DEV) + 0.4 * torch.randn(n, 3, device=DEV),
                                      dim=-1)
    start, end = clip_rays(o, d, model.clip_boxes(None))
    params = model.march_params()
    ref = march(o, d, start, end, model.grid, params, 16)
    got = triton_march.march(o, d, start, end, model.grid, params, 16)
    # Float rounding (fused multiply-adds) can flip an occupancy test at a cell border; the ray's
    # later samples then shift. Such rays must stay rare.
    slots = torch.arange(16, device=DEV)[None, :] < ref[2][:, None]
    identical = (got[2].long() == ref[2]) & (((got[0] - ref[0]).abs() < 1e-4) | ~slots).all(dim=1)
    assert float(identical.float().mean()) > 0.995
    sigma = torch.rand(n, 16, device=DEV) * 200
    rgb = torch.rand(n, 16, 3, device=DEV)
    rows = torch.randperm(n, device=DEV)
    a, b = RayState.empty(n, DEV), RayState.empty(n, DEV)
    composite_reference(a, rows, sigma, rgb, ref[0], ref[1], ref[2], 0.01)
    triton_march.composite(rows, sigma, rgb, ref[0], ref[1], ref[2].int(), b.transmittance, b.rgb, b.depth, 0.01)
    assert rel_err(b.rgb, a.rgb) < 1e-4 and rel_err(b.transmittance, a.transmittance) < 1e-4


def test_full_render_parity() -> None:
    from render.assets import PinholeCamera
    from vpstage.geometry import look_at_rotation

    model = fox_like_model()
    eye = np.array([0.0, -3.0, 0.8])
    rot = look_at_rotation(eye, np.zeros(3))
    w2c = np.eye(4)
    w2c[:3, :3] = rot.T
    w2c[:3, 3] = -rot.T @ eye
    cam = PinholeCamera(world_to_camera=w2c, fx=300.0, fy=300.0, cx=160.0, cy=120.0, width=320, height=240)
    ref = NerfAsset(model, "a", backend="torch").render_pinhole(cam)
    fast_asset = NerfAsset(model, "a", backend="triton")
    fast = fast_asset.render_pinhole(cam)
    assert fast_asset.backend.name == "triton"
    assert float(ref.alpha.mean()) > 0.05
    mse = float(((fast.rgb - ref.rgb) ** 2).mean())
    assert -10 * math.log10(max(mse, 1e-12)) > 40.0
    assert float((fast.alpha - ref.alpha).abs().mean()) < 1e-3
