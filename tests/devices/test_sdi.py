"""SDI through DeckLink: without blackmagic-io and a card, a clear message instead of an output;
with the card (here a double of the ``blackmagic_io`` package), a render node plays its SDI canvas
out of the DeckLink device the project assigns to it."""

from __future__ import annotations

import importlib.util
import sys
import time
from fractions import Fraction

import numpy as np
import pytest

from devices.outputs import DeckLinkOutput, OutputUnavailable, decklink_status
from render.node.cluster import default_outputs, make_node_cluster
from tests.devices import decklink_double
from tests.engine.helpers import tiny_stage
from vpstage.frame_master import FrameLoop, PatternSource
from vpstage.patterns import PatternPainter, PatternSpec, read_frame_counter
from vpstage.stage import Stage


@pytest.mark.skipif(importlib.util.find_spec("blackmagic_io") is not None, reason="blackmagic-io is installed here")
def test_missing_decklink_support_is_explained() -> None:
    available, message = decklink_status()
    assert not available and "blackmagic-io" in message and "DeckLink" in message
    with pytest.raises(OutputUnavailable, match="pip install blackmagic-io"):
        DeckLinkOutput("front", 0, Fraction(30))


@pytest.fixture
def decklink(monkeypatch: pytest.MonkeyPatch) -> dict[int, list[np.ndarray]]:
    monkeypatch.setitem(sys.modules, "blackmagic_io", decklink_double.module())
    return decklink_double.played


def sdi_stage() -> Stage:
    """The tiny stage with its side canvas an HD SDI output on DeckLink device 2."""
    stage = tiny_stage()
    project = stage.project.model_copy(deep=True)
    side = next(c for c in project.canvases if c.name == "side")
    side.width, side.height, side.transport, side.sdi_device = 1920, 1080, "sdi", 2
    project.nodes = [n for n in project.nodes if not n.spare]
    return Stage.from_project(project, stage.layout.base_dir)


def test_decklink_status_lists_the_devices(decklink: dict[int, list[np.ndarray]]) -> None:
    available, message = decklink_status()
    assert available and "DeckLink 8K Pro (3)" in message


def test_a_node_plays_its_sdi_canvas_out_of_its_decklink(decklink: dict[int, list[np.ndarray]]) -> None:
    stage = sdi_stage()
    cluster = make_node_cluster(stage, "threads", outputs=default_outputs(stage))
    loop = FrameLoop(stage, PatternSource(stage, PatternSpec(name="sync")), cluster)
    try:
        loop.cluster.start()
        ready = loop.cluster.node_info("n2")  # opened before the node said Ready, before any frame
        assert [(o["canvas"], o["kind"]) for o in ready["outputs"]] == [("side", "sdi")]  # type: ignore[union-attr]
        loop.start()
        deadline = time.monotonic() + 30
        while len(decklink.get(2, [])) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        outputs = {o["canvas"]: o for o in loop.report()["outputs"]}
    finally:
        loop.stop()
        loop.close()
    assert set(decklink) == {2} and len(decklink[2]) >= 5  # only the SDI canvas, on its own device
    assert outputs["side"]["kind"] == "sdi" and outputs["side"]["name"] == "DeckLink 2"
    painter = PatternPainter(stage.layout)
    for rgb in decklink[2]:
        bgrx = np.concatenate([rgb[..., ::-1], np.full((*rgb.shape[:2], 1), 255, np.uint8)], axis=-1)
        frame = read_frame_counter(bgrx)
        assert frame is not None
        np.testing.assert_array_equal(bgrx, painter.paint("side", PatternSpec(name="sync"), frame))


def test_an_sdi_canvas_without_a_decklink_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("NDIlib", reason="ndi-python is not installed")
    monkeypatch.setitem(sys.modules, "blackmagic_io", None)  # importing it fails, as without the package
    stage = sdi_stage()
    errors: list[tuple[str, str]] = []
    loop = FrameLoop(stage, PatternSource(stage, PatternSpec(name="sync")),
                     make_node_cluster(stage, "threads", outputs=default_outputs(stage, prefix="vpstage-sdi-test")))
    loop.events.output_error.connect(lambda canvas, why: errors.append((canvas, why)))
    try:
        loop.run(8)
        outputs = {o["canvas"]: o for o in loop.report()["outputs"]}
    finally:
        loop.close()
    assert loop.history.frames == 8 and loop.error is None
    assert [canvas for canvas, _ in errors] == ["side"] and "blackmagic-io" in errors[0][1]  # said once
    assert set(outputs) == {"front"} and outputs["front"]["kind"] == "ndi"  # the NDI canvas carries on
