"""Functional rasterization API: one call for every backend, with DoD crop and window rendering.

``rasterize_splats(model, camera, rect=..., crop=..., background=..., backend=...)`` culls splats
whose support (``raster_inputs.support_radius``) lies wholly outside the oriented crop box (asset
frame) before anything else, so a splat centred outside the box that still reaches a ray through it
is kept (no seams where two crops meet); then renders
the window ``rect`` of the pinhole image with the chosen backend.

**Compaction** (``chunks``; off by default, on with ``VPSTAGE_SPLAT_COMPACT=1`` or an explicit chunk
index): the model is cut once into
spatial chunks (``render.splat.chunks``); each frame tests the chunks against the window's frustum
and the crop on the host (``chunk_culling``, no device sync) and hands the backend only the splats
of the chunks that survive, so depth sort, prefix sum and binning cost what the window shows, not
the whole model. The culling is conservative: the image is the same as without it. A frame whose
visible chunks hold nearly every splat (``chunk_culling.MOSTLY_VISIBLE``) runs uncompacted.
Measured on an H200 (docs/benchmarks.md, "DoD tiles"), the host-side culling cost more than the
shorter sort saved on 10 of the demo stage's 11 node tiles, hence off by default.

Backends:

* ``"torch"``: the pure-torch reference (``rasterize_torch``), CPU or CUDA;
* ``"triton"``: the fast Triton kernels (CUDA, or CPU under ``TRITON_INTERPRET=1``);
* ``"gsplat"``: nerfstudio's gsplat, when importable (CUDA only);
* ``"auto"``: on CUDA the first available of triton, gsplat, torch; on CPU the torch reference.
"""

from __future__ import annotations

import os
from typing import Literal

import torch

from render.assets import Color, PinholeCamera, Rect
from render.splat.backends import available_backends
from render.splat.chunk_culling import select_chunks
from render.splat.chunks import SplatChunks, chunks_for
from render.splat.model import SplatModel
from render.splat.raster_inputs import TILE_SIZE, RasterCamera, crop_mask, support_radius
from render.splat.rasterize_torch import RasterResult, rasterize_torch
from vpstage.geometry import OrientedBox

Backend = Literal["auto", "torch", "triton", "gsplat"]
Chunking = SplatChunks | Literal["auto", "off"]
COMPACT = os.environ.get("VPSTAGE_SPLAT_COMPACT", "0") == "1"
"""Whether ``chunks="auto"`` compacts (VPSTAGE_SPLAT_COMPACT=1; off by default, see the module)."""
CPU_TILE_SIZE = 4
"""Tile edge the torch reference uses on CPU: small tiles waste fewer pixel evaluations on small
splats (biker.spz at 640x360: 0.16 s compositing at 4 px against 1.0 s at 16 px; same image)."""


def resolve_backend(backend: Backend, device: torch.device) -> str:
    """The concrete backend for ``backend`` on ``device``; ValueError if it cannot run there."""
    available = available_backends(device)
    if backend == "auto":  # the Triton interpreter is far too slow to be picked for CPU renders
        return available[0] if device.type == "cuda" else "torch"
    if backend not in available:
        raise ValueError(f"splat backend {backend!r} is not available on {device} (available: {available})")
    return backend


def resolve_chunks(model: SplatModel, chunks: Chunking) -> SplatChunks | None:
    """The chunk index a render uses: ``chunks`` itself, the model's cached one for ``"auto"`` (when
    ``COMPACT``), or None (every splat goes to the backend)."""
    if isinstance(chunks, SplatChunks):
        if chunks.splats != model.num_splats or chunks.perm.device != model.device:
            raise ValueError(f"the chunk index holds {chunks.splats} splats on {chunks.perm.device}, "
                             f"the model {model.num_splats} on {model.device}")
        return chunks
    if chunks == "off" or not COMPACT:
        return None
    return chunks_for(model.positions, model.scales, model.opacities)


def rasterize_splats(model: SplatModel, camera: PinholeCamera, *, rect: Rect | None = None,
                     crop: OrientedBox | None = None, background: Color = (0.0, 0.0, 0.0),
                     backend: Backend = "auto", chunks: Chunking = "auto") -> RasterResult:
    """Render ``model`` through ``camera``; outputs have the window's shape, on the model's device.

    ``chunks``: the spatial chunk index to compact with (see the module docstring), ``"auto"`` for
    the model's cached one (built on first use), ``"off"`` to give the backend every splat.
    """
    device = model.device
    name = resolve_backend(backend, device)
    tile = CPU_TILE_SIZE if (device.type == "cpu" and name == "torch") else TILE_SIZE
    raster_camera = RasterCamera.from_pinhole(camera, rect, device, tile_size=tile)
    bg = (float(background[0]), float(background[1]), float(background[2]))
    index = resolve_chunks(model, chunks)
    if name == "triton":  # the crop test is fused into the projection kernel
        from render.splat.backends.triton_rasterizer import rasterize_triton

        return rasterize_triton(model.positions, model.quats, model.scales, model.opacities, model.sh,
                                raster_camera, bg, crop, chunks=index)
    selection = select_chunks(index, raster_camera, crop)
    if selection is not None:
        model = model.subset(selection.chunks.splat_ids(selection.visible))
    if crop is not None:
        model = model.subset(crop_mask(model.positions, crop, support_radius(model.scales, model.opacities)))
    result = _render_subset(model, raster_camera, bg, name)
    if index is not None:
        result.stats["candidates"] = index.splats if selection is None else selection.candidates
    return result


def _render_subset(model: SplatModel, camera: RasterCamera, background: tuple[float, float, float],
                   name: str) -> RasterResult:
    if name == "gsplat":
        from render.splat.backends.gsplat_backend import rasterize_gsplat

        return rasterize_gsplat(model.positions, model.quats, model.scales, model.opacities, model.sh,
                                camera, background)
    return rasterize_torch(model.positions, model.quats, model.scales, model.opacities, model.sh, camera, background)
