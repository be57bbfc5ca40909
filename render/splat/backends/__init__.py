"""Optional rasterizer backends, loaded lazily behind capability probes.

Nothing here imports triton or gsplat, or builds CUDA code, at import time: ``has_triton()`` and
``has_gsplat()`` only look for the packages (and a CUDA device), and the backend modules are
imported on first use. ``TRITON_INTERPRET=1`` makes the Triton backend usable on CPU tensors (slow;
for tests and development).
"""

from __future__ import annotations

import functools
import importlib.util
import os

import torch


def triton_interpreter() -> bool:
    """True when Triton runs its CPU interpreter (``TRITON_INTERPRET=1``)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


@functools.cache
def _importable(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def has_triton(device: torch.device | str | None = None) -> bool:
    """Whether the Triton backend can run on ``device`` (default: CUDA if present)."""
    if not _importable("triton"):
        return False
    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return dev.type == "cuda" or triton_interpreter()


def has_gsplat(device: torch.device | str | None = None) -> bool:
    """Whether gsplat is installed and a CUDA device is there for it (gsplat is CUDA only)."""
    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return dev.type == "cuda" and torch.cuda.is_available() and _importable("gsplat")


def available_backends(device: torch.device | str) -> list[str]:
    """Backends that can render on ``device``, fastest first; 'torch' is always last."""
    names = []
    if has_triton(device):
        names.append("triton")
    if has_gsplat(device):
        names.append("gsplat")
    return [*names, "torch"]
