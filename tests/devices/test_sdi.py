"""SDI through DeckLink: without blackmagic-io and a card, a clear message instead of an output."""

from __future__ import annotations

import importlib.util

import pytest

from devices.outputs import DeckLinkPresenter, OutputUnavailable, decklink_status
from tests.engine.helpers import tiny_stage


@pytest.mark.skipif(importlib.util.find_spec("blackmagic_io") is not None, reason="blackmagic-io is installed here")
def test_missing_decklink_support_is_explained() -> None:
    available, message = decklink_status()
    assert not available and "blackmagic-io" in message and "DeckLink" in message
    with pytest.raises(OutputUnavailable, match="pip install blackmagic-io"):
        DeckLinkPresenter(tiny_stage(), {"front": 0})
