"""A frame counter stamped into the picture's top rows, readable after video compression.

The top ``BAR_ROWS`` rows of a frame are cut into ``CELLS`` equal cells: cell 0 white and cell 1
black (guards: they give the reader its threshold), then ``DATA_BITS`` bits of the counter (most
significant first) and ``CHECK_BITS`` bits of its check value, white for 1. The viewer page reads
it back the same way from a canvas draw of the video element (``static/viewer.js``,
``readBarcode``): glass-to-glass latency, and a test that the picture really advances.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

DATA_BITS = 24
CHECK_BITS = 6
CELLS = 2 + DATA_BITS + CHECK_BITS
BAR_ROWS = 16
MODULUS = 1 << DATA_BITS


def check_value(value: int) -> int:
    """``CHECK_BITS`` bits derived from the counter (catches a misread cell)."""
    return (value * 37 + (value >> 7) + 11) % (1 << CHECK_BITS)


def cell_bits(value: int) -> list[int]:
    """Every cell's bit, guards first."""
    value %= MODULUS
    data = [(value >> (DATA_BITS - 1 - i)) & 1 for i in range(DATA_BITS)]
    check = check_value(value)
    return [1, 0, *data, *[(check >> (CHECK_BITS - 1 - i)) & 1 for i in range(CHECK_BITS)]]


def stamp(image: NDArray[np.uint8], value: int) -> None:
    """Write ``value`` into the top rows of ``image`` ((h, w, c) uint8, in place)."""
    height, width = image.shape[:2]
    rows = min(BAR_ROWS, height)
    cell = width / CELLS
    for i, bit in enumerate(cell_bits(value)):
        image[:rows, round(i * cell): round((i + 1) * cell)] = 255 if bit else 0


def read(image: NDArray[np.uint8]) -> int | None:
    """The counter stamped into ``image`` ((h, w, c) or (h, w) uint8), or None if unreadable."""
    height, width = image.shape[:2]
    row = image[min(BAR_ROWS, height) // 2]
    levels = row.reshape(width, -1)[:, :3].mean(axis=1) if row.ndim > 1 else row.astype(np.float64)
    cell = width / CELLS
    means = [float(levels[round((i + 0.3) * cell): round((i + 0.7) * cell) + 1].mean()) for i in range(CELLS)]
    white, black = means[0], means[1]
    if white - black < 64:
        return None
    threshold = (white + black) / 2
    bits = [int(m > threshold) for m in means[2:]]
    value = int("".join(map(str, bits[:DATA_BITS])), 2)
    check = int("".join(map(str, bits[DATA_BITS:])), 2)
    return value if check == check_value(value) else None
