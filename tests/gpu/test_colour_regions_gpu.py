"""Colour regions on a CUDA device give the numpy reference's code values, and a frame allocates
no memory once the regions are prepared (GPU; run through ``device``)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from render.node.regions import CanvasRegions
from vpstage.colour.grading import RegionGrade, grade_reference

pytestmark = [
    pytest.mark.skipif(os.environ.get("VPSTAGE_GPU_TESTS") != "1", reason="GPU tests run on the device machine"),
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]
GRADES = (
    RegionGrade(canvas="wall", rect=(100, 80, 1300, 900), feather_px=64.0, lift=(0.02, 0.0, -0.01),
                gamma=(1.2, 1.0, 0.85), gain=(1.1, 0.95, 0.9), saturation=0.7),
    RegionGrade(canvas="wall", rect=(1000, 500, 2100, 1200), feather_px=16.0, gain=(0.8, 1.0, 1.3), saturation=1.4),
)


def test_cuda_matches_the_reference_and_allocates_nothing_per_frame() -> None:
    image = np.random.default_rng(5).random((1080, 1920, 3), dtype=np.float32)
    colour = torch.from_numpy(image).to("cuda")
    regions = CanvasRegions("cuda")
    regions.apply("wall", GRADES, colour)
    np.testing.assert_allclose(colour.cpu().numpy(), grade_reference(image, GRADES, "wall"), atol=1e-5)
    torch.cuda.synchronize()
    before = torch.cuda.memory_stats()["allocation.all.allocated"]  # allocations made so far, freed or not
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(20):
        regions.apply("wall", GRADES, colour)
    end.record()
    end.synchronize()
    assert torch.cuda.memory_stats()["allocation.all.allocated"] == before
    print(f"\ntwo regions (1200x820 and 920x580 px) on 1920x1080: {start.elapsed_time(end) / 20:.3f} ms per frame "
          f"on {torch.cuda.get_device_name()}")
