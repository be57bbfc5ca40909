"""Output pixel formats packed on the render device (torch) give the numpy reference's bytes."""

from __future__ import annotations

import numpy as np
import torch

from devices.outputs.pixels import bgrx_to_uyvy
from render.node.pixel_formats import pack_bgrx, pack_rgb, uyvy_to_bgrx


def random_rgb(height: int = 6, width: int = 10) -> torch.Tensor:
    generator = torch.Generator().manual_seed(5)
    rgb = torch.rand((height, width, 3), generator=generator) * 1.2 - 0.1  # includes values to clamp
    rgb[0, 0] = torch.tensor([0.5 / 255, 1.5 / 255, 254.5 / 255])  # exact rounding boundaries
    return rgb


def reference_bgrx(rgb: torch.Tensor) -> np.ndarray:
    rgb8 = np.floor(np.clip(rgb.numpy(), 0, 1) * 255 + 0.5).astype(np.uint8)
    out = np.full((*rgb8.shape[:2], 4), 255, np.uint8)
    out[..., :3] = rgb8[..., ::-1]
    return out


def test_float_rgb_packs_to_the_reference_bgrx_and_uyvy() -> None:
    rgb = random_rgb()
    bgrx = pack_rgb(rgb, torch.empty((6, 10, 4), dtype=torch.uint8)).numpy()
    np.testing.assert_array_equal(bgrx, reference_bgrx(rgb))
    uyvy = pack_rgb(rgb, torch.empty((6, 10, 2), dtype=torch.uint8)).numpy()
    np.testing.assert_array_equal(uyvy, bgrx_to_uyvy(reference_bgrx(rgb)))


def test_8bit_bgrx_packs_to_uyvy_like_the_reference() -> None:
    pixels = np.random.default_rng(3).integers(0, 256, (4, 16, 4), dtype=np.uint8)
    out = pack_bgrx(torch.from_numpy(pixels.copy()), torch.empty((4, 16, 2), dtype=torch.uint8)).numpy()
    np.testing.assert_array_equal(out, bgrx_to_uyvy(pixels))
    same = pack_bgrx(torch.from_numpy(pixels.copy()), torch.empty((4, 16, 4), dtype=torch.uint8)).numpy()
    np.testing.assert_array_equal(same, pixels)


def test_uyvy_reads_back_close_to_the_picture() -> None:
    flat = np.zeros((2, 8, 4), np.uint8)
    flat[..., 3] = 255
    flat[:, :4, :3] = (40, 160, 220)   # B G R: an orange, flat over each chroma pair
    flat[:, 4:, :3] = (250, 250, 250)
    back = uyvy_to_bgrx(torch.from_numpy(bgrx_to_uyvy(flat))).numpy()
    assert np.abs(back.astype(int) - flat.astype(int)).max() <= 2
