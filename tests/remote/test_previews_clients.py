"""Previews wanted by several clients (the console and the web viewer): the loop asks for the
union at the widest width; each client's wishes replace only its own; the rate can be raised to
30 Hz within the same byte budget per round."""

from __future__ import annotations

import pytest

from vpstage.frame_master.previews import DEFAULT_MAX_BYTES, Previews


def test_two_clients_get_the_union_of_what_they_want_at_the_widest_width() -> None:
    previews = Previews({"left": 1920, "right": 1920, "ceiling": 1024})
    previews.want({"left": 320, "ceiling": 200})  # the console
    previews.want({"left": 640, "right": 640}, client="web")
    assert previews.wanted() == {"left": 640, "right": 640, "ceiling": 200}
    previews.want({}, client="web")  # the last viewer left
    assert previews.wanted() == {"left": 320, "ceiling": 200}
    previews.want({})
    assert previews.wanted() == {}
    with pytest.raises(KeyError):
        previews.want({"nowhere": 10}, client="web")


def test_the_rate_can_be_raised_to_30_hz_and_the_budget_per_round_stays() -> None:
    previews = Previews({"left": 1920})
    previews.want({"left": 640}, client="web")
    owners = {"left": "node1"}
    assert len(previews.requests(0, owners)) == 1
    assert previews.requests(int(50e6), owners) == []  # 10 Hz: not before 100 ms
    previews.set_rate(30.0)
    assert len(previews.requests(int(100e6), owners)) == 1
    [(_, request)] = previews.requests(int(134e6), owners)  # 30 Hz: every 33.3 ms
    assert request.max_bytes == DEFAULT_MAX_BYTES
    with pytest.raises(ValueError):
        previews.set_rate(60.0)


def test_requests_carry_the_scene_referred_choice() -> None:
    previews = Previews({"left": 1920})
    previews.want({"left": 640})
    [(_, request)] = previews.requests(0, {"left": "node1"})
    assert not request.scene_referred
    previews.set_scene_referred(True)
    [(_, request)] = previews.requests(int(1e9), {"left": "node1"})
    assert request.scene_referred and previews.report()["scene_referred"] is True
