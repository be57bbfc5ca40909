"""Small host arrays to the device without waiting for its queue.

``torch.as_tensor(array, device="cuda")`` copies from pageable host memory with a blocking copy,
which first waits for every kernel already queued on the stream: one such copy in a frame turns
the render thread's launches and the device's work from overlapped into serial (and, with two
node processes on one GPU, waits behind the other process's kernels too). A non-blocking copy from
pageable memory is staged by the driver before the call returns, so the host array may be reused
at once, and nothing waits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def upload(values: Any, dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
    """``values`` (array-like) as a ``dtype`` tensor on ``device``, queued behind earlier work."""
    host = torch.from_numpy(np.ascontiguousarray(values)).to(dtype)
    device = torch.device(device)
    return host.to(device, non_blocking=True) if device.type == "cuda" else host
