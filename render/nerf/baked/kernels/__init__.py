"""Fast paths of the baked NeRF, loaded lazily (importing this imports no Triton).

``triton_texture_march.py``: the texture marcher as one Triton kernel. The field's hash encoders
use the source NeRF's Triton encoding kernels (render/nerf/kernels). Availability follows
``render.nerf.kernels.triton_unavailable_reason``: Triton installed and a CUDA device (or
``TRITON_INTERPRET=1``).
"""

from __future__ import annotations

import torch

from render.nerf.kernels import triton_unavailable_reason


def march_kernel_unavailable_reason(device: torch.device) -> str | None:
    """Why the Triton texture marcher cannot run on ``device`` (None when it can)."""
    return triton_unavailable_reason(device)
