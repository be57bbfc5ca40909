"""Canvas pixels into what an output sends, on the render device (torch; CPU or CUDA).

A scene canvas is float RGB code values 0..1 (after the canvas's colour transform, if it has one);
a test pattern is 8-bit BGRX. Outputs take 8-bit BGRX or 8-bit 4:2:2 UYVY (NDI's native format:
half the bytes, and no conversion inside the NDI encoder). RGB is quantised to 8 bits first
(round to nearest), then converted with the same integer Rec. 709 video-range arithmetic as
:func:`devices.outputs.pixels.bgrx_to_uyvy` (the numpy reference), so both paths give identical
bytes.

Canvases whose colour settings ask for 10 or 16 bits go out as **P216**: 4:2:2 Y'CbCr with 16-bit
samples, a Y' plane (H rows of W) then an interleaved Cb Cr plane (H rows of W/2 pairs), video
range (Y' 16..235, C 16..240, times 256), with the Rec. 709 matrix for SDR and the BT.2020 one
for PQ (Rec. 2100). At 10 bits every sample is a 10-bit code shifted into the top bits (what a
10-bit SDI or LED processor input sees); the packed buffer is (2H, W, 2) bytes, little-endian.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from devices.outputs.pixels import COEFF, SHIFT

LUMA_WEIGHTS = {"709": (0.2126, 0.0722), "2020": (0.2627, 0.0593)}
"""(Kr, Kb) of the Y'CbCr matrices."""


@dataclass(frozen=True)
class Packing:
    """How a canvas's code values are packed: the sender's format, bits per sample, the matrix."""

    fourcc: Literal["BGRX", "UYVY", "P216"] = "BGRX"
    bits: int = 8
    matrix: Literal["709", "2020"] = "709"

    @property
    def channels(self) -> int:
        return 4 if self.fourcc == "BGRX" else 2

    def shape(self, width: int, height: int) -> tuple[int, int, int]:
        """The packed buffer's shape (bytes) for a ``width`` x ``height`` canvas."""
        return (2 * height if self.fourcc == "P216" else height, width, self.channels)

_COEFF_CACHE: dict[torch.device, torch.Tensor] = {}


def _coeff(device: torch.device) -> torch.Tensor:
    table = _COEFF_CACHE.get(device)
    if table is None:
        table = torch.as_tensor(COEFF, dtype=torch.int32, device=device)
        _COEFF_CACHE[device] = table
    return table


def quantise(rgb: torch.Tensor) -> torch.Tensor:
    """(H, W, 3) float RGB 0..1 -> (H, W, 3) int32 RGB 0..255 (round to nearest, clamped)."""
    return (rgb.clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.int32)


def rgb8_to_uyvy(rgb8: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """(H, W, 3) int32 RGB 0..255 -> ``out`` (H, W, 2) uint8 U Y V Y (W even); returns ``out``."""
    c = _coeff(rgb8.device)
    r, g, b = rgb8[..., 0], rgb8[..., 1], rgb8[..., 2]
    half = 1 << (SHIFT - 1)
    luma = (b * c[0, 0] + g * c[0, 1] + r * c[0, 2] + half) >> SHIFT
    out[..., 1] = (luma + 16).clamp(16, 235).to(torch.uint8)
    pb, pg, pr = b[:, 0::2] + b[:, 1::2], g[:, 0::2] + g[:, 1::2], r[:, 0::2] + r[:, 1::2]
    cb = (pb * c[1, 0] + pg * c[1, 1] + pr * c[1, 2] + (1 << SHIFT)) >> (SHIFT + 1)
    cr = (pb * c[2, 0] + pg * c[2, 1] + pr * c[2, 2] + (1 << SHIFT)) >> (SHIFT + 1)
    out[:, 0::2, 0] = (cb + 128).clamp(16, 240).to(torch.uint8)
    out[:, 1::2, 0] = (cr + 128).clamp(16, 240).to(torch.uint8)
    return out


def rgb_to_bgrx(rgb: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """(H, W, 3) float RGB 0..1 -> ``out`` (H, W, 4) uint8 B G R X (X = 255)."""
    out[..., :3] = quantise(rgb).flip(-1).to(torch.uint8)
    out[..., 3] = 255
    return out


def pack_rgb(rgb: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Float RGB into ``out``'s format: (H, W, 2) UYVY or (H, W, 4) BGRX."""
    if out.shape[-1] == 2:
        return rgb8_to_uyvy(quantise(rgb), out)
    return rgb_to_bgrx(rgb, out)


def pack_bgrx(bgrx: torch.Tensor, out: torch.Tensor, packing: Packing | None = None) -> torch.Tensor:
    """8-bit BGRX (H, W, 4) into ``out``'s format (a copy for BGRX)."""
    if packing is not None and packing.fourcc == "P216":
        return rgb_to_p216(bgrx[..., :3].flip(-1).to(torch.float32) / 255.0, out, packing)
    if out.shape[-1] == 4:
        return out.copy_(bgrx)
    return rgb8_to_uyvy(bgrx[..., :3].flip(-1).to(torch.int32), out)


def pack(rgb: torch.Tensor, out: torch.Tensor, packing: Packing) -> torch.Tensor:
    """Float RGB code values into ``out`` as ``packing`` says."""
    if packing.fourcc == "P216":
        return rgb_to_p216(rgb, out, packing)
    return pack_rgb(rgb, out)


def rgb_to_p216(rgb: torch.Tensor, out: torch.Tensor, packing: Packing) -> torch.Tensor:
    """(H, W, 3) float R'G'B' code values 0..1 -> ``out`` (2H, W, 2) uint8: P216 (module docstring),
    each sample quantised to ``packing.bits`` (10 or 16) and left-aligned in 16 bits."""
    height, width = rgb.shape[:2]
    if width % 2:
        raise ValueError(f"P216 needs an even width, not {width}")
    kr, kb = LUMA_WEIGHTS[packing.matrix]
    c = rgb.clamp(0.0, 1.0)
    r, g, b = c[..., 0], c[..., 1], c[..., 2]
    luma = kr * r + (1.0 - kr - kb) * g + kb * b
    pairs = (c[:, 0::2] + c[:, 1::2]) * 0.5
    pair_luma = kr * pairs[..., 0] + (1.0 - kr - kb) * pairs[..., 1] + kb * pairs[..., 2]
    cb = (pairs[..., 2] - pair_luma) / (2.0 * (1.0 - kb))
    cr = (pairs[..., 0] - pair_luma) / (2.0 * (1.0 - kr))
    scale = float(1 << (packing.bits - 8))
    shift = 16 - packing.bits
    samples = out.view(torch.int16).view(2 * height, width)
    samples[:height] = _code16(16.0 + 219.0 * luma, scale, shift)
    chroma = samples[height:].view(height, width // 2, 2)
    chroma[..., 0] = _code16(128.0 + 224.0 * cb, scale, shift)
    chroma[..., 1] = _code16(128.0 + 224.0 * cr, scale, shift)
    return out


def _code16(value8: torch.Tensor, scale: float, shift: int) -> torch.Tensor:
    """An 8-bit-scale video level as a ``bits`` code left-aligned in 16 bits, in int16's bit pattern."""
    code = (value8 * scale + 0.5).floor().clamp(0.0, 256.0 * scale - 1.0).to(torch.int32) << shift
    return torch.where(code > 32767, code - 65536, code).to(torch.int16)


def uyvy_to_bgrx(uyvy: torch.Tensor) -> torch.Tensor:
    """(H, W, 2) UYVY -> (H, W, 4) uint8 BGRX (Rec. 709 video range back to full range; for
    thumbnails and tests, not bit-exact with the forward path)."""
    y = (uyvy[..., 1].to(torch.float32) - 16.0) * (255.0 / 219.0)
    cb = uyvy[:, 0::2, 0].to(torch.float32).repeat_interleave(2, dim=1) - 128.0
    cr = uyvy[:, 1::2, 0].to(torch.float32).repeat_interleave(2, dim=1) - 128.0
    scale = 255.0 / 224.0
    r = y + 2.0 * (1 - 0.2126) * scale * cr
    b = y + 2.0 * (1 - 0.0722) * scale * cb
    g = (y - 0.2126 * r - 0.0722 * b) / 0.7152
    out = torch.empty((*uyvy.shape[:2], 4), dtype=torch.uint8, device=uyvy.device)
    out[..., :3] = torch.stack([b, g, r], dim=-1).round().clamp(0, 255).to(torch.uint8)
    out[..., 3] = 255
    return out
