"""The ``--device`` of commands that run torch: ``cpu`` or ``cuda[:N]``, checked before any work."""

from __future__ import annotations


def device_problem(name: str) -> str | None:
    """Why ``name`` cannot be used on this machine, or None."""
    import torch

    if name == "cpu":
        return None
    if name.startswith("cuda"):
        return None if torch.cuda.is_available() else "CUDA is not available on this machine (use --device cpu)"
    return f"unknown device {name!r} (use cpu or cuda)"
