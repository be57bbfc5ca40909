"""Spherical-harmonics direction encoding with tiny-cuda-nn's signs and ordering (degree <= 4).

tiny-cuda-nn takes directions warped to [0, 1]^3 and maps them back with ``2 x - 1``; here the
input is the unit direction itself. Output k is the real SH basis function k in the order
(l=0), (l=1: y, z, x), (l=2 ...), with tiny-cuda-nn's sign convention (negative for odd m<0 terms).
"""

from __future__ import annotations

import torch

# Monomials x^a y^b z^c of degree <= 3 used by the degree-4 basis, and each basis function as a
# linear combination of them. The fast kernels fold this matrix into the colour MLP's weights.
MONOMIALS: tuple[tuple[int, int, int], ...] = (
    (0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, 1), (1, 0, 1), (2, 0, 0), (0, 2, 0),
    (0, 0, 2), (3, 0, 0), (0, 3, 0), (0, 0, 3), (2, 1, 0), (2, 0, 1), (1, 2, 0), (0, 2, 1), (1, 0, 2),
    (0, 1, 2), (1, 1, 1),
)
_C = {
    "c0": 0.28209479177387814, "c1": 0.48860251190291987, "c2a": 1.0925484305920792,
    "c2b": 0.94617469575755997, "c2c": 0.31539156525251999, "c2d": 0.54627421529603959,
    "c3a": 0.59004358992664352, "c3b": 2.8906114426405538, "c3c": 0.45704579946446572,
    "c3d": 0.3731763325901154, "c3e": 1.4453057213202769,
}
# basis k -> {monomial: coefficient}
SH_POLYNOMIALS: tuple[dict[tuple[int, int, int], float], ...] = (
    {(0, 0, 0): _C["c0"]},
    {(0, 1, 0): -_C["c1"]},
    {(0, 0, 1): _C["c1"]},
    {(1, 0, 0): -_C["c1"]},
    {(1, 1, 0): _C["c2a"]},
    {(0, 1, 1): -_C["c2a"]},
    {(0, 0, 2): _C["c2b"], (0, 0, 0): -_C["c2c"]},
    {(1, 0, 1): -_C["c2a"]},
    {(2, 0, 0): _C["c2d"], (0, 2, 0): -_C["c2d"]},
    {(2, 1, 0): -3.0 * _C["c3a"], (0, 3, 0): _C["c3a"]},
    {(1, 1, 1): _C["c3b"]},
    {(0, 1, 0): _C["c3c"], (0, 1, 2): -5.0 * _C["c3c"]},
    {(0, 0, 3): 5.0 * _C["c3d"], (0, 0, 1): -3.0 * _C["c3d"]},
    {(1, 0, 0): _C["c3c"], (1, 0, 2): -5.0 * _C["c3c"]},
    {(2, 0, 1): _C["c3e"], (0, 2, 1): -_C["c3e"]},
    {(3, 0, 0): -_C["c3a"], (1, 2, 0): 3.0 * _C["c3a"]},
)


def sh_encode(directions: torch.Tensor, degree: int = 4) -> torch.Tensor:
    """(N, 3) unit directions -> (N, degree**2) basis values, float32."""
    d = directions.to(torch.float32)
    x, y, z = d.unbind(-1)
    xy, yz, xz, x2, y2, z2 = x * y, y * z, x * z, x * x, y * y, z * z
    c = _C
    cols = [torch.full_like(x, c["c0"])]
    if degree > 1:
        cols += [-c["c1"] * y, c["c1"] * z, -c["c1"] * x]
    if degree > 2:
        cols += [c["c2a"] * xy, -c["c2a"] * yz, c["c2b"] * z2 - c["c2c"], -c["c2a"] * xz, c["c2d"] * (x2 - y2)]
    if degree > 3:
        cols += [
            c["c3a"] * y * (-3.0 * x2 + y2), c["c3b"] * xy * z, c["c3c"] * y * (1.0 - 5.0 * z2),
            c["c3d"] * z * (5.0 * z2 - 3.0), c["c3c"] * x * (1.0 - 5.0 * z2), c["c3e"] * z * (x2 - y2),
            c["c3a"] * x * (-x2 + 3.0 * y2),
        ]
    return torch.stack(cols, dim=-1)


def monomial_matrix(degree: int = 4) -> torch.Tensor:
    """(len(MONOMIALS), degree**2) float64 M with ``sh_encode(d) == monomials(d) @ M``."""
    m = torch.zeros(len(MONOMIALS), degree * degree, dtype=torch.float64)
    for k, poly in enumerate(SH_POLYNOMIALS[: degree * degree]):
        for mono, coef in poly.items():
            m[MONOMIALS.index(mono), k] += coef
    return m


def monomials(directions: torch.Tensor) -> torch.Tensor:
    """(N, 3) -> (N, len(MONOMIALS)) float32 values x^a y^b z^c."""
    d = directions.to(torch.float32)
    cols = [d[:, 0] ** a * d[:, 1] ** b * d[:, 2] ** c for a, b, c in MONOMIALS]
    return torch.stack(cols, dim=-1)
