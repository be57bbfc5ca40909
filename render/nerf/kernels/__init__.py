"""Fast backends, loaded lazily, with capability probes.

Importing this package imports neither Triton nor tiny-cuda-nn and compiles nothing; the kernel
modules (``triton_*.py``) are imported only when a fast backend is asked for. Kernels compile on
first use (Triton JIT). With ``TRITON_INTERPRET=1`` the Triton kernels run on CPU tensors through
Triton's interpreter (slow; used by the CPU tests to check them against the torch reference).
"""

from __future__ import annotations

import functools
import importlib.util
import os

import torch

from render.nerf.config import FieldConfig

SUPPORTED_FEATURES = (1, 2, 4)


@functools.cache
def has_triton() -> bool:
    """Triton is importable (says nothing about a GPU)."""
    return importlib.util.find_spec("triton") is not None


@functools.cache
def has_tcnn() -> bool:
    """tiny-cuda-nn's torch bindings are importable."""
    return importlib.util.find_spec("tinycudann") is not None


def triton_interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET") == "1"


def config_unsupported_reason(config: FieldConfig) -> str | None:
    """Why the Triton kernels cannot evaluate this network, or None."""
    g = config.grid
    if g.n_features_per_level not in SUPPORTED_FEATURES:
        return f"{g.n_features_per_level} features per level (kernels handle {SUPPORTED_FEATURES})"
    if g.n_levels & (g.n_levels - 1):
        return f"{g.n_levels} levels (kernels need a power of two)"
    if g.output_width < 16:
        return f"encoding width {g.output_width} < 16"
    return None


def triton_unavailable_reason(device: torch.device, config: FieldConfig | None = None) -> str | None:
    """Why the Triton backend cannot run on ``device`` (None when it can)."""
    if not has_triton():
        return "triton is not installed"
    if device.type != "cuda" and not triton_interpreting():
        return f"device {device} is not CUDA (set TRITON_INTERPRET=1 to run the kernels on CPU, slowly)"
    if config is not None:
        return config_unsupported_reason(config)
    return None
