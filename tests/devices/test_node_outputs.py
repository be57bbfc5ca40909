"""A render node's outputs: an output that cannot open is reported once per reason and tried again
every ``OPEN_RETRY_S``, so a canvas whose name was still held elsewhere (or whose card was missing)
gets its output as soon as it can open, without a report every frame."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest

from render.node.cluster import default_outputs
from render.node.outputs import OPEN_RETRY_S, NodeOutputs
from tests.devices import decklink_double
from tests.devices.test_sdi import sdi_stage


def test_a_failed_output_is_reported_once_and_opens_when_it_can(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "blackmagic_io", decklink_double.module())
    stage = sdi_stage()
    settings = default_outputs(stage, kind="ndi")
    outputs = NodeOutputs(stage.project, dataclasses.replace(settings, sdi_devices={}))  # no card assigned
    attempts = []
    real_open = outputs._open
    monkeypatch.setattr(outputs, "_open", lambda canvas: attempts.append(canvas) or real_open(canvas))

    first = outputs.reconcile(["side"], now_s=100.0)
    assert list(first) == ["side"] and "no DeckLink device" in first["side"]
    assert outputs.reconcile(["side"], now_s=100.0 + OPEN_RETRY_S / 2) == {}  # not tried again yet
    assert attempts == ["side"]
    assert outputs.reconcile(["side"], now_s=100.0 + OPEN_RETRY_S) == {}  # tried again: same reason, not told
    assert attempts == ["side", "side"] and "side" in outputs.errors

    outputs.forget_failures(["side"])  # forgotten: tried at once, and its failure told as new
    assert list(outputs.reconcile(["side"], now_s=100.0 + OPEN_RETRY_S)) == ["side"]
    assert attempts == ["side"] * 3
    outputs.settings = settings  # the card is assigned now: the next attempt opens it
    assert outputs.reconcile(["side"], now_s=100.0 + 2 * OPEN_RETRY_S) == {}
    assert outputs.open_canvases() == ("side",) and outputs.errors == {}
    assert outputs.send("side", np.zeros((1080, 1920, 4), np.uint8), 0) is None
    outputs.reconcile([], now_s=100.0 + 2 * OPEN_RETRY_S)  # the canvas moved away: its output closes
    assert outputs.open_canvases() == ()
