"""Fused NeRF field inference in one Triton kernel: hash encoding, density MLP, SH, colour MLP.

One program evaluates BLOCK samples: it reads each sample's ray and distance, encodes the
position (render/nerf/kernels/triton_encoding.py), runs both bias-free MLPs on the tensor cores
(fp16 operands, fp32 accumulation; tiny-cuda-nn keeps fp16 activations, so does this) and
writes density and colour. Nothing intermediate touches device memory.

The spherical-harmonics encoding is folded into the colour MLP: every SH basis function of degree
<= 4 is a fixed combination of the 20 monomials ``x^a y^b z^c`` (a+b+c <= 3), so the first colour
layer multiplies monomials by ``M @ W_sh^T`` (prepared once on the host) instead of SH values.
Padding columns that tiny-cuda-nn fills with ones become constant bias vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import triton
import triton.language as tl

from render.nerf.field_components.spherical_harmonics import MONOMIALS, monomial_matrix
from render.nerf.fields.ngp_field import NgpField
from render.nerf.kernels.triton_encoding import LevelBuffers, encode_block, interleave_features, load_xyz

BLOCK_FIELD = 64
MONOMIAL_WIDTH = 32
"""The 20 monomials padded to a tensor-core friendly width."""


@triton.jit
def _matrix(ptr, K: tl.constexpr, N: tl.constexpr):
    rk = tl.arange(0, K)
    rn = tl.arange(0, N)
    return tl.load(ptr + rk[:, None] * N + rn[None, :])


@triton.jit
def _power(v, e):
    return tl.where(e == 0, 1.0, tl.where(e == 1, v, tl.where(e == 2, v * v, v * v * v)))


@triton.jit
def _field_kernel(
    origins_ptr, dirs_ptr, sample_t_ptr, index_ptr, n_samples, K,
    ax, ay, az, sx, sy, sz,
    table_ptr, scale_ptr, res_ptr, size_ptr, offset_ptr, hashed_ptr,
    d_in_ptr, d_bias_ptr, d_hidden_ptr, d_out_ptr,
    r_dens_ptr, r_mono_ptr, r_bias_ptr, r_hidden_ptr, r_out_ptr, mono_exp_ptr,
    sigma_ptr, rgb_ptr,
    B: tl.constexpr, L: tl.constexpr, F: tl.constexpr, W: tl.constexpr,
    N_DH: tl.constexpr, N_RH: tl.constexpr, DO: tl.constexpr, MW: tl.constexpr,
):
    pid = tl.program_id(0)
    s = pid * B + tl.arange(0, B)
    mask = s < n_samples
    flat = tl.load(index_ptr + s, mask=mask, other=0)
    ray = flat // K
    t = tl.load(sample_t_ptr + flat, mask=mask, other=0.0)
    dx, dy, dz = load_xyz(dirs_ptr, ray, mask)
    ox, oy, oz = load_xyz(origins_ptr, ray, mask)
    x = (ox + t * dx - ax) * sx
    y = (oy + t * dy - ay) * sy
    z = (oz + t * dz - az) * sz

    lv = tl.arange(0, L)
    a0, a1, a2, a3 = encode_block(table_ptr, x, y, z, mask, tl.load(scale_ptr + lv), tl.load(res_ptr + lv),
                                  tl.load(size_ptr + lv), tl.load(offset_ptr + lv), tl.load(hashed_ptr + lv), F,
                                  PACKED=True)
    enc = interleave_features(a0, a1, a2, a3, B, L, F).to(tl.float16)

    cw = tl.arange(0, W)
    h = tl.dot(enc, _matrix(d_in_ptr, L * F, W)) + tl.load(d_bias_ptr + cw)[None, :]
    h = tl.maximum(h, 0.0).to(tl.float16)
    for i in tl.static_range(N_DH):
        h = tl.maximum(tl.dot(h, _matrix(d_hidden_ptr + i * W * W, W, W)), 0.0).to(tl.float16)
    dens = tl.dot(h, _matrix(d_out_ptr, W, DO))
    co = tl.arange(0, DO)
    sigma = tl.exp(tl.sum(tl.where(co[None, :] == 0, dens, 0.0), axis=1))
    tl.store(sigma_ptr + flat, sigma, mask=mask)

    cm = tl.arange(0, MW)
    ea = tl.load(mono_exp_ptr + cm * 3 + 0)[None, :]
    eb = tl.load(mono_exp_ptr + cm * 3 + 1)[None, :]
    ec = tl.load(mono_exp_ptr + cm * 3 + 2)[None, :]
    mono = (_power(dx[:, None], ea) * _power(dy[:, None], eb) * _power(dz[:, None], ec)).to(tl.float16)
    hr = tl.dot(dens.to(tl.float16), _matrix(r_dens_ptr, DO, W)) + tl.dot(mono, _matrix(r_mono_ptr, MW, W))
    hr = tl.maximum(hr + tl.load(r_bias_ptr + cw)[None, :], 0.0).to(tl.float16)
    for i in tl.static_range(N_RH):
        hr = tl.maximum(tl.dot(hr, _matrix(r_hidden_ptr + i * W * W, W, W)), 0.0).to(tl.float16)
    out = tl.dot(hr, _matrix(r_out_ptr, W, 16))
    rgb = tl.sigmoid(out)
    c16 = tl.arange(0, 16)
    tl.store(rgb_ptr + flat[:, None] * 3 + c16[None, :], rgb, mask=mask[:, None] & (c16[None, :] < 3))


@dataclass(kw_only=True)
class PackedField:
    """The field's weights rearranged for the kernel (fp16, [in, out] row-major), on one device."""

    table: torch.Tensor
    levels: LevelBuffers
    d_in: torch.Tensor
    d_bias: torch.Tensor
    d_hidden: torch.Tensor
    d_out: torch.Tensor
    r_dens: torch.Tensor
    r_mono: torch.Tensor
    r_bias: torch.Tensor
    r_hidden: torch.Tensor
    r_out: torch.Tensor
    mono_exp: torch.Tensor
    width: int
    density_width: int
    n_density_hidden: int
    """Hidden-to-hidden layers of the density MLP (n_hidden_layers - 1)."""
    n_rgb_hidden: int


def _stack_hidden(weights: list[torch.Tensor], width: int, device: torch.device) -> torch.Tensor:
    if not weights:
        return torch.zeros(1, width, width, dtype=torch.float16, device=device)
    return torch.stack([w.t().contiguous() for w in weights]).to(torch.float16).contiguous()


def pack_field(field: NgpField) -> PackedField:
    """Rearrange ``field``'s weights for :func:`evaluate_field` (call again after the weights change)."""
    cfg = field.config
    device = field.grid_table.device
    enc_width = cfg.grid.output_width
    dw = [w.detach().float() for w in field.density_mlp.weights]
    rw = [w.detach().float() for w in field.rgb_mlp.weights]
    d_first = dw[0]
    dens_w = cfg.density_output_width
    n_sh = cfg.sh_degree**2
    r_first = rw[0]
    r_sh = r_first[:, dens_w:dens_w + n_sh]
    m = monomial_matrix(cfg.sh_degree).to(device=device, dtype=torch.float32)
    r_mono = torch.zeros(MONOMIAL_WIDTH, cfg.n_neurons, device=device)
    r_mono[: len(MONOMIALS)] = m @ r_sh.t()
    # Columns tiny-cuda-nn pads with ones act as biases.
    r_bias = r_first[:, dens_w + n_sh:].sum(dim=1)
    exps = torch.zeros(MONOMIAL_WIDTH, 3, dtype=torch.int32)
    exps[: len(MONOMIALS)] = torch.tensor(MONOMIALS, dtype=torch.int32)
    table = field.grid_table.detach().to(torch.float16).contiguous()
    packed_rows = {2: torch.int32, 4: torch.int64}
    if cfg.grid.n_features_per_level in packed_rows:  # one integer load per grid corner
        table = table.view(packed_rows[cfg.grid.n_features_per_level]).reshape(-1)
    return PackedField(
        table=table,
        levels=LevelBuffers(field.layout, device),
        d_in=d_first[:, :enc_width].t().contiguous().to(torch.float16),
        d_bias=d_first[:, enc_width:].sum(dim=1).contiguous(),
        d_hidden=_stack_hidden(dw[1:-1], cfg.n_neurons, device),
        d_out=dw[-1].t().contiguous().to(torch.float16),
        r_dens=r_first[:, :dens_w].t().contiguous().to(torch.float16),
        r_mono=r_mono.to(torch.float16).contiguous(),
        r_bias=r_bias.contiguous(),
        r_hidden=_stack_hidden(rw[1:-1], cfg.n_neurons, device),
        r_out=rw[-1].t().contiguous().to(torch.float16),
        mono_exp=exps.to(device),
        width=cfg.n_neurons,
        density_width=dens_w,
        n_density_hidden=len(dw) - 2,
        n_rgb_hidden=len(rw) - 2,
    )


def evaluate_field(packed: PackedField, origins: torch.Tensor, dirs: torch.Tensor, sample_t: torch.Tensor,
                   index: torch.Tensor, aabb_min: tuple[float, float, float], inv_size: tuple[float, float, float],
                   block: int = BLOCK_FIELD, num_warps: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Density and colour at samples ``index`` (int32 flat slots of ``sample_t`` (n, K)).

    Returns (n*K,) density and (n*K, 3) rgb, float32; only the listed slots are written (others 0).
    ``block`` samples per program and ``num_warps`` are launch settings (bench/nerf_render.py sweeps them).
    """
    n, k = sample_t.shape
    sigma = torch.zeros(n * k, dtype=torch.float32, device=sample_t.device)
    rgb = torch.zeros(n * k, 3, dtype=torch.float32, device=sample_t.device)
    n_samples = index.numel()
    if n_samples == 0:
        return sigma, rgb
    lv = packed.levels
    grid = (triton.cdiv(n_samples, block),)
    _field_kernel[grid](
        origins, dirs, sample_t, index, n_samples, k, *aabb_min, *inv_size,
        packed.table, *lv.args(),
        packed.d_in, packed.d_bias, packed.d_hidden, packed.d_out,
        packed.r_dens, packed.r_mono, packed.r_bias, packed.r_hidden, packed.r_out, packed.mono_exp,
        sigma, rgb,
        B=block, L=lv.n_levels, F=lv.n_features, W=packed.width,
        N_DH=packed.n_density_hidden, N_RH=packed.n_rgb_hidden,
        DO=packed.density_width, MW=MONOMIAL_WIDTH, num_warps=num_warps,
    )
    return sigma, rgb
