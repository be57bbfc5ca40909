"""Rendering (torch): asset formats, Gaussian splats, hash-grid NeRF, compositing, render workers.

Nothing here loads CUDA code at import; fast backends load lazily and report their availability.
"""
