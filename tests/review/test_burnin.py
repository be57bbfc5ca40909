"""Burnt-in text: inside its box, legible size for the image, fits narrow images."""

from __future__ import annotations

import numpy as np

from vpstage.patterns.burnin import ALERT, TEXT, BurnInLine, burn_in, burn_in_box

LINES = [BurnInLine("A001_T03  CAM A"), BurnInLine("TC 01:02:03:04"), BurnInLine("tracking gap - hold", True)]


def test_text_only_inside_the_box_and_the_box_darkened() -> None:
    image = np.full((360, 640, 3), 200, dtype=np.uint8)
    x0, y0, x1, y1 = burn_in(image, LINES)
    assert 0 < x0 < x1 < 640 and 0 < y0 < y1 < 360 and y1 > 300  # bottom-left corner
    outside = np.ones((360, 640), dtype=bool)
    outside[y0:y1, x0:x1] = False
    assert (image[outside] == 200).all()
    box = image[y0:y1, x0:x1].reshape(-1, 3)
    colours = {tuple(int(c) for c in px) for px in box}
    assert colours == {(50, 50, 50), TEXT, ALERT}


def test_scale_follows_height_and_fits_the_width() -> None:
    assert burn_in_box(1080, 1920, LINES)[4] == 6
    assert burn_in_box(360, 640, LINES)[4] == 2
    assert burn_in_box(90, 160, LINES)[4] == 1
    _, _, x1, _, scale = burn_in_box(1080, 200, LINES)  # tall and narrow: shrinks to fit
    assert scale == 1 and x1 <= 200


def test_different_timecodes_differ_only_in_the_box() -> None:
    a = np.zeros((90, 160, 3), dtype=np.uint8)
    b = a.copy()
    burn_in(a, [BurnInLine("TC 01:00:00:01")])
    burn_in(b, [BurnInLine("TC 01:00:00:02")])
    ys, xs = np.nonzero((a != b).any(axis=2))
    assert len(ys) > 0 and ys.min() > 70 and xs.max() < 90
