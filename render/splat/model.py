"""One in-memory Gaussian splat model, whatever file format it came from.

Every loader decodes into :class:`SplatModel`; every rasterizer backend reads from it. Values are
stored *activated* (the form the rasterizer uses), not in the logit / log form of a 3DGS .ply:

* ``positions`` (N, 3) float32, centres in the asset frame (scene units, usually metres).
* ``scales`` (N, 3) float32, standard deviations along the splat's local axes (> 0, scene units).
* ``quats`` (N, 4) float32, unit quaternions (w, x, y, z): local axes -> asset frame.
* ``opacities`` (N,) float32 in [0, 1].
* ``sh`` (N, K, 3) float32, real spherical-harmonic colour coefficients, K = (degree + 1)^2 with
  degree 0..3; ``sh[:, 0]`` is the DC term (a .ply's ``f_dc``), colour = 0.5 + SH_C0 * dc + ...

All tensors live on one device. :class:`AssetFrame` records what the coordinates mean.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch

SH_C0 = 0.28209479177387814
"""Degree-0 real spherical harmonic, 1 / (2 sqrt(pi))."""

MAX_SH_DEGREE = 3
UP_AXES = ("x", "y", "z", "-x", "-y", "-z")


def sh_coeff_count(degree: int) -> int:
    """Coefficients per colour channel for SH ``degree`` (0..3): 1, 4, 9, 16."""
    return (degree + 1) ** 2


def sh_degree_for_count(count: int) -> int:
    """Inverse of :func:`sh_coeff_count`; raises ValueError for counts that are not a square."""
    degree = math.isqrt(max(count, 0)) - 1
    if degree < 0 or degree > MAX_SH_DEGREE or sh_coeff_count(degree) != count:
        raise ValueError(f"{count} SH coefficients per channel is not a degree 0..{MAX_SH_DEGREE} layout")
    return degree


@dataclass(frozen=True)
class AssetFrame:
    """What a splat model's coordinates mean.

    ``convention`` names the axis layout, e.g. ``"RDF"`` (x right, y down, z forward: the 3DGS /
    COLMAP convention of .ply files) or ``"stage"`` (Z up, metres). ``up`` is the axis that points
    up in the scene when known (one of :data:`UP_AXES`), else ``None``. ``note`` says where the
    frame came from (e.g. "SPZ RUB converted to RDF").
    """

    convention: str = "RDF"
    up: str | None = None
    note: str = ""


@dataclass(kw_only=True)
class SplatModel:
    """Gaussian splats in the asset frame (see the module docstring for shapes and units)."""

    positions: torch.Tensor
    scales: torch.Tensor
    quats: torch.Tensor
    opacities: torch.Tensor
    sh: torch.Tensor
    frame: AssetFrame = field(default_factory=AssetFrame)
    source: str = ""
    """File (or procedural scheme) the model was decoded from."""
    source_format: str = ""
    """Format tag, e.g. '3dgs-ply', 'supersplat-ply', 'antimatter15-splat', 'spz-v4'."""
    metadata: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.positions.shape[0]
        expected = {"positions": (n, 3), "scales": (n, 3), "quats": (n, 4), "opacities": (n,)}
        for name, shape in expected.items():
            if tuple(getattr(self, name).shape) != shape:
                raise ValueError(f"{name} has shape {tuple(getattr(self, name).shape)}, expected {shape}")
        if self.sh.ndim != 3 or self.sh.shape[0] != n or self.sh.shape[2] != 3:
            raise ValueError(f"sh has shape {tuple(self.sh.shape)}, expected ({n}, K, 3)")
        sh_degree_for_count(self.sh.shape[1])

    @staticmethod
    def from_numpy(positions: np.ndarray, scales: np.ndarray, quats_wxyz: np.ndarray, opacities: np.ndarray,
                   sh: np.ndarray, *, frame: AssetFrame | None = None, source: str = "", source_format: str = "",
                   device: str | torch.device = "cpu") -> SplatModel:
        """Build a model from decoded arrays; normalises the quaternions (zero ones become identity)."""
        quats = np.asarray(quats_wxyz, dtype=np.float32)
        norms = np.linalg.norm(quats, axis=1, keepdims=True)
        identity = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
        quats = np.where(norms > 1e-12, quats / np.maximum(norms, 1e-12), identity)

        def t(a: np.ndarray) -> torch.Tensor:
            array = np.ascontiguousarray(a, dtype=np.float32)
            if not array.flags.writeable:  # e.g. a view of file bytes; torch needs its own copy
                array = array.copy()
            return torch.from_numpy(array).to(device)

        return SplatModel(positions=t(positions), scales=t(scales), quats=t(quats), opacities=t(opacities), sh=t(sh),
                          frame=frame or AssetFrame(), source=source, source_format=source_format)

    # ------------------------------------------------------------------ properties
    @property
    def num_splats(self) -> int:
        return int(self.positions.shape[0])

    @property
    def sh_degree(self) -> int:
        return sh_degree_for_count(int(self.sh.shape[1]))

    @property
    def device(self) -> torch.device:
        return self.positions.device

    def __len__(self) -> int:
        return self.num_splats

    # ------------------------------------------------------------------ derived models
    def to(self, device: str | torch.device) -> SplatModel:
        return self._map(lambda x: x.to(device))

    def subset(self, index: torch.Tensor) -> SplatModel:
        """The splats selected by a boolean mask or an index tensor (same order)."""
        return self._map(lambda x: x[index])

    def with_sh_degree(self, degree: int) -> SplatModel:
        """Truncate (or zero-pad) the SH coefficients to ``degree``."""
        k = sh_coeff_count(degree)
        sh = self.sh[:, :k]
        if sh.shape[1] < k:
            pad = torch.zeros(self.num_splats, k - sh.shape[1], 3, dtype=sh.dtype, device=sh.device)
            sh = torch.cat([sh, pad], dim=1)
        return replace(self, sh=sh.contiguous())

    def _map(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> SplatModel:
        return replace(self, positions=fn(self.positions), scales=fn(self.scales), quats=fn(self.quats),
                       opacities=fn(self.opacities), sh=fn(self.sh))

    @staticmethod
    def concatenate(models: list[SplatModel]) -> SplatModel:
        """Join models in the same frame; the SH degree becomes the largest of them."""
        degree = max(m.sh_degree for m in models)
        parts = [m.with_sh_degree(degree) for m in models]
        first = parts[0]
        return replace(first, positions=torch.cat([m.positions for m in parts]),
                       scales=torch.cat([m.scales for m in parts]), quats=torch.cat([m.quats for m in parts]),
                       opacities=torch.cat([m.opacities for m in parts]), sh=torch.cat([m.sh for m in parts]))

    # ------------------------------------------------------------------ summaries
    def base_colors(self) -> torch.Tensor:
        """View-independent colour (N, 3) from the DC term alone, clamped to [0, 1]."""
        return (0.5 + SH_C0 * self.sh[:, 0]).clamp(0.0, 1.0)

    def trimmed_bounds(self, trim: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
        """Per-axis ``trim`` and ``1 - trim`` quantiles of the positions (robust to floaters)."""
        if self.num_splats == 0:
            zero = np.zeros(3)
            return zero, zero
        pos = self.positions.detach().to("cpu", torch.float64)
        if pos.shape[0] > 1_000_000:  # quantiles of a fixed stride sample are plenty
            pos = pos[:: pos.shape[0] // 1_000_000 + 1]
        q = torch.tensor([trim, 1.0 - trim], dtype=torch.float64)
        qs = torch.quantile(pos, q, dim=0).numpy()
        return qs[0], qs[1]

    def content_hash(self) -> str:
        """SHA-256 over the activated float32 values (stable across devices and file formats)."""
        digest = hashlib.sha256()
        for tensor in (self.positions, self.scales, self.quats, self.opacities, self.sh):
            digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
        return digest.hexdigest()
