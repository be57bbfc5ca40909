"""Bias-free MLP with tiny-cuda-nn FullyFusedMLP shapes and parameter layout.

Weights are row-major [out x in] matrices: first layer (width x padded_in), then
(n_hidden - 1) x (width x width), then the output layer (padded_out x width). ReLU between
layers, no output activation. The flat parameter vector is the concatenation in that order, which
is how instant-ngp snapshots store each network.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class FullyFusedMLP(nn.Module):
    """``forward(x)``: (N, padded_in) -> (N, padded_out) in the weights' dtype."""

    def __init__(self, padded_in: int, width: int, n_hidden_layers: int, padded_out: int) -> None:
        super().__init__()
        shapes = [(width, padded_in)] + [(width, width)] * (n_hidden_layers - 1) + [(padded_out, width)]
        self.weights = nn.ParameterList(nn.Parameter(torch.empty(shape)) for shape in shapes)
        self.reset_parameters()

    @property
    def shapes(self) -> list[tuple[int, int]]:
        return [tuple(w.shape) for w in self.weights]  # type: ignore[misc]

    @property
    def n_params(self) -> int:
        return sum(w.numel() for w in self.weights)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Xavier-uniform, as tiny-cuda-nn initialises FullyFusedMLP weights."""
        with torch.no_grad():
            for w in self.weights:
                bound = math.sqrt(6.0 / (w.shape[0] + w.shape[1]))
                w.uniform_(-bound, bound, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        last = len(self.weights) - 1
        for i, w in enumerate(self.weights):
            h = h @ w.t()
            if i < last:
                h = torch.relu(h)
        return h

    def flat(self) -> torch.Tensor:
        """All weights, row-major, concatenated (float32, detached)."""
        return torch.cat([w.detach().reshape(-1).float() for w in self.weights])

    def load_flat(self, flat: torch.Tensor) -> None:
        """Inverse of :meth:`flat`; ``flat`` must hold exactly ``n_params`` values."""
        if flat.numel() != self.n_params:
            raise ValueError(f"expected {self.n_params} MLP weights, got {flat.numel()}")
        with torch.no_grad():
            start = 0
            for w in self.weights:
                w.copy_(flat[start:start + w.numel()].reshape(w.shape).to(w.dtype))
                start += w.numel()
