"""Pattern layers drawn into BGRX canvases (numpy uint8, shape (H, W, 4), X = 255).

Every function here is pure numpy and deterministic, so the golden-image tests can compare bytes.
Colours are given as RGB 0..255 and written in B, G, R, X order.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from vpstage.patterns.font import ADVANCE, GLYPH_H, draw_text, fit_scale, text_size

Image = NDArray[np.uint8]
RGB = tuple[int, int, int]

WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)

#: 75 % colour bars, left to right: white, yellow, cyan, green, magenta, red, blue.
BARS_75: tuple[RGB, ...] = ((191, 191, 191), (191, 191, 0), (0, 191, 191), (0, 191, 0),
                            (191, 0, 191), (191, 0, 0), (0, 0, 191))

#: Section tints for the cabinet pattern (cycled by section index).
SECTION_TINTS: tuple[RGB, ...] = ((40, 90, 200), (200, 120, 30), (40, 160, 80), (170, 50, 170),
                                  (30, 160, 170), (190, 60, 60), (150, 150, 40), (110, 110, 110))

COUNTER_BITS = 24
"""The frame counter strip carries the frame number modulo 2**24, least significant bit first."""


def bgrx(rgb: RGB) -> tuple[int, int, int, int]:
    return rgb[2], rgb[1], rgb[0], 255


def blank(height: int, width: int, rgb: RGB = BLACK) -> Image:
    """A canvas filled with one colour."""
    image = np.empty((height, width, 4), dtype=np.uint8)
    image[...] = bgrx(rgb)
    return image


def colour_bars(height: int, width: int) -> Image:
    """75 % bars over the top two thirds, a black-to-white ramp below."""
    image = blank(height, width)
    top = (2 * height) // 3
    edges = np.linspace(0, width, len(BARS_75) + 1).round().astype(int)
    for rgb, x0, x1 in zip(BARS_75, edges[:-1], edges[1:], strict=True):
        image[:top, x0:x1] = bgrx(rgb)
    ramp = (np.arange(width, dtype=np.float64) * 255.0 / max(width - 1, 1)).round().astype(np.uint8)
    image[top:, :, :3] = ramp[None, :, None]
    return image


def grid(height: int, width: int, spacing: int, label: str) -> Image:
    """Lines every ``spacing`` px (every fourth one brighter), a border, a centre cross and a label."""
    image = blank(height, width)
    spacing = max(2, spacing)
    for x in range(0, width, spacing):
        image[:, x] = bgrx(WHITE if (x // spacing) % 4 == 0 else (96, 96, 96))
    for y in range(0, height, spacing):
        image[y, :] = bgrx(WHITE if (y // spacing) % 4 == 0 else (96, 96, 96))
    outline(image, 0, 0, width, height, max(1, min(width, height) // 256 + 1), WHITE)
    cx, cy = width // 2, height // 2
    arm = max(4, min(width, height) // 8)
    image[cy, max(0, cx - arm):cx + arm + 1] = bgrx((255, 0, 0))
    image[max(0, cy - arm):cy + arm + 1, cx] = bgrx((255, 0, 0))
    scale = max(1, fit_scale(label, width // 3, height // 12))
    draw_text(image, label, 2 * spacing // 3 + 2, 2 * spacing // 3 + 2, scale, bgrx((255, 255, 0)))
    return image


def outline(image: Image, x: int, y: int, width: int, height: int, thickness: int, rgb: RGB) -> None:
    """Draw a rectangle's border (inside the rectangle) of ``thickness`` px."""
    colour = bgrx(rgb)
    t = max(1, min(thickness, width // 2, height // 2))
    image[y:y + t, x:x + width] = colour
    image[y + height - t:y + height, x:x + width] = colour
    image[y:y + height, x:x + t] = colour
    image[y:y + height, x + width - t:x + width] = colour


def error_card(height: int, width: int, message: str) -> Image:
    """Dark red with diagonal stripes and the reason in white: a canvas that could not render."""
    yy, xx = np.mgrid[0:height, 0:width]
    stripes = ((xx + yy) // max(8, min(width, height) // 16)) % 2 == 0
    image = blank(height, width, (90, 0, 0))
    image[stripes] = bgrx((140, 0, 0))
    scale, lines = _layout_text(["RENDER ERROR", *message.split("\n")], (9 * width) // 10, (7 * height) // 8)
    y = height // 16
    for line in lines:
        tw, th = text_size(line, scale)
        draw_text(image, line, (width - tw) // 2, y, scale, bgrx(WHITE))
        y += th + 2 * scale
    return image


def _layout_text(paragraphs: list[str], max_width: int, max_height: int) -> tuple[int, list[str]]:
    """The largest scale (up to 8) at which the wrapped paragraphs fit the box, and the lines."""
    for scale in range(8, 0, -1):
        per_line = max(1, (max_width + scale) // (ADVANCE * scale))
        lines = [line for p in paragraphs for line in _wrap(p, per_line)]
        if len(lines) * (GLYPH_H + 2) * scale <= max_height:
            return scale, lines
    return 1, lines


def _wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap to ``width`` characters; words longer than a line are cut."""
    words = [w[i:i + width] for w in text.split() for i in range(0, len(w), width)]
    lines: list[str] = []
    line = ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


# ----------------------------------------------------------------------------- moving parts


def counter_block(height: int, width: int) -> int:
    """Side of one frame-counter block for a canvas; 0 when the canvas is too small for a strip."""
    block = max(4, min(height, width) // 40)
    return block if (COUNTER_BITS + 4) * block <= width and 4 * block <= height else 0


def sync_bar_rect(height: int, width: int, frame: int, period: int = 64) -> tuple[int, int, int, int]:
    """(y0, x0, y1, x1) of the white vertical bar that crosses the canvas once every ``period``
    frames, left to right."""
    bar = max(2, width // 32)
    x = ((frame % period) * width) // period
    return 0, x, height, min(width, x + bar)


def sync_bar(image: Image, frame: int, period: int = 64) -> None:
    """Draw the moving sync bar of ``frame`` into ``image``."""
    y0, x0, y1, x1 = sync_bar_rect(image.shape[0], image.shape[1], frame, period)
    image[y0:y1, x0:x1] = bgrx(WHITE)


def frame_counter(image: Image, frame: int) -> None:
    """Binary strip of the frame number: a white and a black reference block, then COUNTER_BITS
    blocks (white = 1, LSB first), on a black band one block high, near the top-left corner, and
    the frame number in digits at the bottom left. :func:`read_frame_counter` decodes the strip
    from a received picture."""
    height, width = image.shape[:2]
    b = counter_block(height, width)
    if b == 0:
        return
    _counter_strip(image[0:3 * b, 0:(COUNTER_BITS + 4) * b], b, frame)
    label, scale, (x, y, w, h) = _counter_label(height, width, frame)
    draw_text(image[y:y + h, x:x + w], label, 0, 0, scale, bgrx(WHITE))


def _counter_strip(region: Image, b: int, frame: int) -> None:
    region[...] = bgrx(BLACK)
    x0, y0 = b, b
    region[y0:y0 + b, x0:x0 + b] = bgrx(WHITE)
    value = frame % (1 << COUNTER_BITS)
    for bit in range(COUNTER_BITS):
        if value >> bit & 1:
            x = x0 + (bit + 2) * b
            region[y0:y0 + b, x:x + b] = bgrx(WHITE)


def _counter_label(height: int, width: int, frame: int) -> tuple[str, int, tuple[int, int, int, int]]:
    """The digits of the frame counter, their scale and box (x, y, w, h) at the bottom left."""
    b = counter_block(height, width)
    label = f"F {frame:06d}"
    scale = max(1, fit_scale(label, width // 4, height // 16))
    w, h = text_size(label, scale)
    y = height - b - h
    return label, scale, (b, max(y, 0), min(w, width - b), min(h, height - max(y, 0)))


def moving_patches(still: Image, frame: int) -> list[tuple[int, int, Image]]:
    """What the moving parts (sync bar, frame counter) change over the still layer ``still`` at
    ``frame``: (y, x, BGRX pixels) rectangles, to be pasted in order. Pasting them over a copy
    of ``still`` gives exactly ``sync_bar`` then ``frame_counter`` drawn on it; a device that holds
    the still layer only uploads these few pixels per frame."""
    height, width = still.shape[:2]
    y0, x0, y1, x1 = sync_bar_rect(height, width, frame)
    bar = np.empty((y1 - y0, x1 - x0, 4), dtype=np.uint8)
    bar[...] = bgrx(WHITE)
    patches = [(y0, x0, bar)]
    b = counter_block(height, width)
    if b == 0:
        return patches
    strip = np.empty((min(3 * b, height), min((COUNTER_BITS + 4) * b, width), 4), dtype=np.uint8)
    _counter_strip(strip, b, frame)
    patches.append((0, 0, strip))
    label, scale, (x, y, w, h) = _counter_label(height, width, frame)
    box = _under(still, patches, y, x, h, w)
    draw_text(box, label, 0, 0, scale, bgrx(WHITE))
    patches.append((y, x, box))
    return patches


def _under(still: Image, patches: list[tuple[int, int, Image]], y: int, x: int, h: int, w: int) -> Image:
    """A copy of ``still[y:y+h, x:x+w]`` with the earlier ``patches`` pasted over it."""
    box = still[y:y + h, x:x + w].copy()
    for py, px, pixels in patches:
        ph, pw = pixels.shape[:2]
        ya, yb, xa, xb = max(y, py), min(y + h, py + ph), max(x, px), min(x + w, px + pw)
        if ya < yb and xa < xb:
            box[ya - y:yb - y, xa - x:xb - x] = pixels[ya - py:yb - py, xa - px:xb - px]
    return box


def paste(image: Image, patches: list[tuple[int, int, Image]]) -> None:
    """Paste (y, x, pixels) rectangles into ``image`` in order."""
    for y, x, pixels in patches:
        h, w = pixels.shape[:2]
        image[y:y + h, x:x + w] = pixels


def read_frame_counter(image: Image) -> int | None:
    """Decode the frame counter strip from a BGRX/BGRA picture (tolerates lossy codecs such as
    NDI's SpeedHQ: it thresholds each block's centre between the two reference blocks).
    Returns None when the references do not differ (no strip)."""
    height, width = image.shape[:2]
    b = counter_block(height, width)
    if b == 0:
        return None
    luma = image[..., :3].astype(np.float32).mean(axis=2)
    c0, c1 = b // 4, b - b // 4

    def level(index: int) -> float:
        x = b + index * b
        return float(luma[b + c0:b + c1, x + c0:x + c1].mean())

    white, black = level(0), level(1)
    if white - black < 64:
        return None
    threshold = (white + black) / 2
    return sum(1 << bit for bit in range(COUNTER_BITS) if level(bit + 2) > threshold)
