"""The fused colour kernel gives the torch reference's code values (GPU; run through ``device``)."""

from __future__ import annotations

import os

import pytest
import torch

from render.colour.apply import apply_lut
from render.colour.bake import bake_canvas_lut
from render.colour.canvas_luts import device_lut
from render.splat.backends import has_triton
from vpstage.colour.ocio_config import load_config
from vpstage.colour.outputs import OutputTarget
from vpstage.colour.transforms import CanvasTransform

pytestmark = [
    pytest.mark.skipif(os.environ.get("VPSTAGE_GPU_TESTS") != "1", reason="GPU tests run on the device machine"),
    pytest.mark.skipif(not torch.cuda.is_available() or not has_triton("cuda"), reason="needs CUDA and Triton"),
]
CONFIG = "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5"


@pytest.mark.parametrize("source,display,view", [
    ("ACEScg", "Rec.2100-PQ - Display", "ACES 2.0 - HDR 1000 nits (P3 D65)"),   # log2 shaper
    ("sRGB Encoded Rec.709 (sRGB)", "sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)"),  # linear shaper
])
def test_the_fused_kernel_matches_the_torch_reference(source: str, display: str, view: str) -> None:
    from pathlib import Path

    import render.colour.apply as apply_module

    baked = bake_canvas_lut(load_config(CONFIG, Path(".")), CanvasTransform(source, OutputTarget(display, view)), 65)
    lut = device_lut(baked, "cuda")
    generator = torch.Generator().manual_seed(3)
    rgb = (torch.rand((270, 480, 3), generator=generator) * 3.0 - 0.2).pow(2).to("cuda")  # HDR, near black, < 0
    fused = apply_lut(rgb, lut, torch.empty_like(rgb))
    apply_module.FUSED = False
    try:
        reference = apply_lut(rgb, lut, torch.empty_like(rgb))
    finally:
        apply_module.FUSED = True
    assert float((fused - reference).abs().max()) <= 2e-5
    in_place = rgb.clone()
    apply_lut(in_place, lut, in_place)  # what a render node does: the colour buffer in place
    assert float((in_place - reference).abs().max()) <= 2e-5
