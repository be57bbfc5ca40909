"""Rendering (torch): asset formats, Gaussian splats, hash-grid NeRF, compositing, render workers.

Nothing here loads CUDA code at import; fast backends load lazily and report their availability.
Triton's compiled kernels are kept across runs in the user's cache folder (``kernel_cache``).
"""

from render.kernel_cache import use_kernel_cache

use_kernel_cache()  # before any render module imports Triton
