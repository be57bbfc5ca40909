"""Hash-grid layout and indices against hand-computed cases; the encoder against a direct evaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from render.nerf.config import FieldConfig, HashGridConfig, default_per_level_scale
from render.nerf.field_components.hash_encoding import LevelTensors, grid_index, hash_encode, level_layout
from render.nerf.field_components.spherical_harmonics import monomial_matrix, monomials, sh_encode
from render.nerf.fields.ngp_field import NgpField

U32 = 0xFFFFFFFF


def hand_hash(x: int, y: int, z: int) -> int:
    return ((x * 1) & U32) ^ ((y * 2654435761) & U32) ^ ((z * 805459861) & U32)


def test_level_layout_matches_hand_computation() -> None:
    layout = level_layout(HashGridConfig(n_levels=4, n_features_per_level=2, log2_hashmap_size=14,
                                         base_resolution=16, per_level_scale=2.0))
    # scale = 16 * 2**l - 1; res = ceil(scale) + 1
    assert layout.scale.tolist() == [15.0, 31.0, 63.0, 127.0]
    assert layout.resolution.tolist() == [16, 32, 64, 128]
    # 16^3 = 4096 <= 2^14: dense; 32^3 = 32768 > 16384: hashed from level 1 on
    assert layout.size.tolist() == [4096, 16384, 16384, 16384]
    assert layout.hashed.tolist() == [False, True, True, True]
    assert layout.offset.tolist() == [0, 4096, 20480, 36864]
    assert layout.n_params == (4096 + 3 * 16384) * 2


def test_dense_level_size_rounds_up_to_multiple_of_8() -> None:
    layout = level_layout(HashGridConfig(n_levels=2, n_features_per_level=1, log2_hashmap_size=10,
                                         base_resolution=3, per_level_scale=1.0))
    # scale = 3 - 1 = 2, res = 3, 27 cells -> 32 entries
    assert layout.resolution.tolist() == [3, 3]
    assert layout.size.tolist() == [32, 32]
    assert not layout.hashed.any()


def test_default_per_level_scale_is_instant_ngp_formula() -> None:
    assert default_per_level_scale(16, 16, 1) == pytest.approx(math.exp(math.log(2048 / 16) / 15))
    assert default_per_level_scale(16, 16, 1) == pytest.approx(1.3819, abs=1e-4)
    assert FieldConfig().with_aabb_scale(4).grid.per_level_scale == pytest.approx((8192 / 16) ** (1 / 7))


@pytest.mark.parametrize(("corner", "expected"), [
    ((1, 2, 3), 1 + 2 * 16 + 3 * 256),   # dense index x + y res + z res^2
    ((15, 15, 15), 15 + 15 * 16 + 15 * 256),
    ((16, 0, 0), 16),                      # one past the last cell on x: still < size
    ((15, 15, 16), (15 + 15 * 16 + 16 * 256) % 4096),  # wraps modulo the level size
])
def test_dense_indices(corner: tuple[int, int, int], expected: int) -> None:
    index = grid_index(torch.tensor([corner]), torch.tensor(16), torch.tensor(4096), torch.tensor(False))
    assert int(index) == expected


@pytest.mark.parametrize("corner", [(1, 2, 3), (0, 0, 1), (31, 17, 5), (100000, 70000, 123456)])
def test_hashed_indices(corner: tuple[int, int, int]) -> None:
    index = grid_index(torch.tensor([corner]), torch.tensor(32), torch.tensor(16384), torch.tensor(True))
    assert int(index) == hand_hash(*corner) % 16384


def test_hash_of_known_corner() -> None:
    # 2*2654435761 = 5308871522 -> & U32 = 1013904226; 3*805459861 = 2416379583
    assert hand_hash(1, 2, 3) == 1 ^ 1013904226 ^ 2416379583
    index = grid_index(torch.tensor([[1, 2, 3]]), torch.tensor(64), torch.tensor(1 << 19), torch.tensor(True))
    assert int(index) == (1 ^ 1013904226 ^ 2416379583) % (1 << 19)


def direct_encoding(x: np.ndarray, table: np.ndarray, layout) -> np.ndarray:
    """Trilinear interpolation written out per level and corner with Python integers."""
    out = []
    for level in range(layout.n_levels):
        s = float(layout.scale[level])
        res, size, off = int(layout.resolution[level]), int(layout.size[level]), int(layout.offset[level])
        pos = np.float32(x) * np.float32(s) + np.float32(0.5)
        base = np.floor(pos).astype(int)
        frac = pos - base
        acc = np.zeros(table.shape[1])
        for c in range(8):
            bits = [(c >> d) & 1 for d in range(3)]
            corner = [int(base[d] + bits[d]) for d in range(3)]
            w = np.prod([frac[d] if bits[d] else 1 - frac[d] for d in range(3)])
            if layout.hashed[level]:
                idx = hand_hash(*corner) % size
            else:
                idx = (corner[0] + corner[1] * res + corner[2] * res * res) % size
            acc += w * table[off + idx]
        out.append(acc)
    return np.concatenate(out)


def test_encoding_matches_direct_evaluation() -> None:
    config = HashGridConfig(n_levels=4, n_features_per_level=2, log2_hashmap_size=10, base_resolution=5,
                            per_level_scale=2.3)
    layout = level_layout(config)
    assert layout.hashed.tolist() == [False, True, True, True]
    table = torch.randn(layout.n_entries, 2, generator=torch.Generator().manual_seed(0))
    x = torch.rand(20, 3, generator=torch.Generator().manual_seed(1))
    got = hash_encode(x, table, LevelTensors(layout, x.device)).numpy()
    for i in range(x.shape[0]):
        np.testing.assert_allclose(got[i], direct_encoding(x[i].numpy(), table.numpy(), layout), atol=1e-5)


def test_encoding_has_table_gradient_at_the_used_entries() -> None:
    field = NgpField(FieldConfig(grid=HashGridConfig(n_levels=4, n_features_per_level=2, log2_hashmap_size=10,
                                                     base_resolution=5, per_level_scale=2.0), n_neurons=16))
    x = torch.full((1, 3), 0.3)
    field.encode(x).sum().backward()
    grad = field.grid_table.grad
    assert grad is not None
    # 8 corners per level, each gradient entry equals its trilinear weight (summing to 1 per level)
    assert int((grad[:, 0] != 0).sum()) <= 8 * 4
    assert float(grad[:, 0].sum()) == pytest.approx(4.0, abs=1e-5)


def test_sh_matches_monomial_form() -> None:
    d = torch.randn(50, 3, generator=torch.Generator().manual_seed(2))
    d = d / d.norm(dim=-1, keepdim=True)
    m = monomial_matrix(4).float()
    np.testing.assert_allclose(sh_encode(d).numpy(), (monomials(d) @ m).numpy(), atol=1e-5)
    # l=0 constant and tiny-cuda-nn's sign for the l=1 y term
    assert torch.allclose(sh_encode(d)[:, 0], torch.full((50,), 0.28209479177387814))
    assert torch.allclose(sh_encode(d)[:, 1], -0.48860251190291987 * d[:, 1])


def test_mlp_parameter_layout_is_fully_fused_mlp() -> None:
    field = NgpField(FieldConfig())
    assert field.density_mlp.shapes == [(64, 32), (16, 64)]
    assert field.rgb_mlp.shapes == [(64, 32), (64, 64), (16, 64)]
    flat = field.flat_params()
    assert flat.numel() == 3072 + 7168 + field.layout.n_params
    # row-major [out x in]: element (r, c) of the first density matrix sits at r * 32 + c
    assert float(flat[5 * 32 + 7]) == float(field.density_mlp.weights[0].detach()[5, 7])
    assert float(flat[3072 + 64 * 32 + 2 * 64 + 3]) == float(field.rgb_mlp.weights[1].detach()[2, 3])
    assert torch.equal(flat[10240:10250], field.grid_table.detach().reshape(-1)[:10])


def test_encoding_gradients_in_table_and_positions() -> None:
    """The fused gather's backward (table rows and, through the trilinear weights, positions)."""
    config = HashGridConfig(n_levels=3, n_features_per_level=2, log2_hashmap_size=8, base_resolution=3,
                            per_level_scale=2.0)
    layout = level_layout(config)
    assert layout.hashed.tolist() == [False, False, True]
    levels = LevelTensors(layout, torch.device("cpu"))
    g = torch.Generator().manual_seed(3)
    table = torch.randn(layout.n_entries, 2, generator=g, dtype=torch.float64).requires_grad_(True)
    x = (0.05 + 0.9 * torch.rand(6, 3, generator=g, dtype=torch.float64)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t, p: hash_encode(p, t, levels), (table, x), eps=1e-6, atol=1e-5)
