"""Calibration patterns: exact code values at known pixels of a 1920 x 1080 canvas, through the
painter (and the frame renderer: patterns skip the colour transform and the colour regions)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from render.node.frame_renderer import NodeFrameRenderer
from tests.engine.helpers import tiny_stage
from tests.engine.test_frame_renderer import pattern_job, pictures
from vpstage.nodes.codec import decode, encode
from vpstage.nodes.messages import FrameOrder
from vpstage.nodes.spec import node_specs
from vpstage.patterns import PATTERN_NAMES, PatternSpec
from vpstage.patterns.calibration import grey_ramp, grey_step_code, smpte_bars


def rgb(image: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    b, g, r, x_ = (int(v) for v in image[y, x])
    assert x_ == 255
    return r, g, b


def test_smpte_bars_code_values() -> None:
    image = smpte_bars(1080, 1920)  # bars 274-275 px wide (edges 0, 274, 549, 823, 1097, 1371, 1646, 1920)
    top = [rgb(image, x, 100) for x in (10, 300, 600, 900, 1200, 1500, 1900)]
    assert top == [(191, 191, 191), (191, 191, 0), (0, 191, 191), (0, 191, 0), (191, 0, 191), (191, 0, 0),
                   (0, 0, 191)]
    assert rgb(image, 273, 719) == (191, 191, 191) and rgb(image, 274, 719) == (191, 191, 0)  # bar edge, last row
    middle = [rgb(image, x, 720 + 45) for x in (10, 300, 600, 900, 1200, 1500, 1900)]  # rows 720..809
    assert middle == [(0, 0, 191), (0, 0, 0), (191, 0, 191), (0, 0, 0), (0, 191, 191), (0, 0, 0), (191, 191, 191)]
    assert rgb(image, 10, 810) == rgb(image, 548, 1079) == (255, 255, 255)
    assert rgb(image, 549, 900) == rgb(image, 1096, 900) == (0, 0, 0)
    pluge = [rgb(image, x, 900)[0] for x in (1097, 1187, 1188, 1279, 1280, 1370)]  # thirds of 1097..1371
    assert pluge == [0, 0, 5, 5, 10, 10]
    assert rgb(image, 1371, 1000) == rgb(image, 1919, 1079) == (0, 0, 0)


def test_grey_ramp_code_values() -> None:
    image = grey_ramp(1080, 1920)
    assert rgb(image, 0, 0) == (0, 0, 0) and rgb(image, 1919, 539) == (255, 255, 255)
    assert rgb(image, 959, 10) == (127, 127, 127) and rgb(image, 960, 10) == (128, 128, 128)  # round(x*255/1919)
    steps = [rgb(image, round((i + 0.5) * 1920 / 11), 800)[0] for i in range(11)]
    assert steps == [0, 26, 51, 77, 102, 128, 153, 179, 204, 230, 255] == [grey_step_code(p) for p in range(0, 101, 10)]
    assert rgb(image, 174, 540) == (0, 0, 0) and rgb(image, 175, 540) == (26, 26, 26)  # first step edge: 174.5


@pytest.mark.parametrize("name", ["colour_bars", "grey_ramp"])
def test_the_node_sends_them_as_drawn(name: str) -> None:
    assert name in PATTERN_NAMES
    order = FrameOrder(frame=1, count=1, time_ns=0, deadline_ns=1, sent_ns=0, canvases=("front",),
                       patterns={"front": PatternSpec(name=name)})  # type: ignore[arg-type]
    assert decode(encode(order)) == order
    stage = tiny_stage()
    spec = node_specs(stage)["n1"]
    renderer = NodeFrameRenderer(dataclasses.replace(spec, scene_renderer=None), {"front": "BGRX", "side": "BGRX"})
    try:
        result = renderer.render(pattern_job({"front": PatternSpec(name=name)}, 0))  # type: ignore[arg-type]
        try:
            drawn = smpte_bars(64, 192) if name == "colour_bars" else grey_ramp(64, 192)
            assert np.array_equal(dict(pictures(result))["front"], drawn)
        finally:
            result.release()
    finally:
        renderer.close()
