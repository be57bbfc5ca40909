"""The control API against a real LiveEngine in rehearsal, through a real server on 127.0.0.1:
authentication and roles, every action, and refused bodies that change nothing."""

from __future__ import annotations

import pytest

from remote.actions import PARSERS
from remote.server import check_host
from tests.remote.conftest import Served
from tests.waiting import wait_for
from vpstage.patterns import PatternSpec

pytestmark = pytest.mark.network


def test_no_token_a_wrong_token_and_a_viewer_token_on_a_control_action_are_refused(running: Served) -> None:
    engine = running.engine
    assert running.call("/api/status").status == 401
    assert running.call("/api/status", token="not-a-token").status == 401
    refused = running.call("/api/pattern", {"canvas": "ceiling", "pattern": "grid"}, token=running.viewer)
    assert refused.status == 403 and "operator" in refused.body["error"]
    assert engine.planner.pattern_for("ceiling") is None  # nothing changed
    assert running.call("/api/pattern", {"pattern": "grid"}, token="x" * 43).status == 401
    assert engine.planner.pattern_for("ceiling") is None
    status = running.call("/api/status", token=running.viewer)
    assert status.status == 200
    assert status.body["refusals"] == {"no_token": 1, "bad_token": 2, "forbidden": 1}


def test_the_viewer_page_and_the_openapi_description_are_public_and_everything_else_is_not(running: Served) -> None:
    spec = running.call("/api/openapi.json")
    assert spec.status == 200 and spec.body["openapi"].startswith("3.")
    assert {f"/api/{name}" for name in PARSERS} <= set(spec.body["paths"])
    for path in ("/api/health", "/api/views", "/api/no-such-thing"):
        assert running.call(path).status == 401
    assert running.call("/api/views", token=running.viewer).body["views"][0] == "camera"


def test_status_and_health_show_frame_timecode_tracking_and_the_wall(running: Served) -> None:
    assert wait_for(lambda: running.engine.loop.history.frames > 10)
    status = running.call("/api/status", token=running.viewer).body
    assert status["engine"] == "running" and status["frame"] > 0
    assert len(status["timecode"]) == 11 and status["timecode"][2] == ":"
    assert [c["name"] for c in status["cameras"]] == ["A"]
    assert wait_for(lambda: running.call("/api/status", token=running.viewer).body["cameras"][0]["tracking"] == "ok")
    assert isinstance(status["alarms"], list) and set(status["wall"]) == {"frames", "skipped", "late", "dropped"}
    health = running.call("/api/health", token=running.viewer).body
    assert set(health["nodes"]) == {"node1", "node2"} and health["nodes"]["node1"]["state"] == "ready"


def test_engine_start_and_stop(served: Served) -> None:
    engine = served.engine
    assert served.call("/api/status", token=served.viewer).body["engine"] == "ready"
    assert served.act("/api/engine/stop").status == 409  # not running yet
    started = served.act("/api/engine/start")
    assert started.status == 200 and started.body["result"]["engine"] == "running"
    assert wait_for(lambda: engine.loop.history.frames > 5)
    assert served.act("/api/engine/start").status == 409
    assert served.act("/api/engine/stop").status == 200
    assert engine.wait(10)
    again = served.act("/api/engine/start")
    assert again.status == 409 and "new run" in again.body["error"]
    assert served.call("/api/status", token=served.viewer).body["engine"] == "stopped"


def test_patterns_delay_and_active_camera(running: Served) -> None:
    engine = running.engine
    assert running.act("/api/pattern", {"canvas": "ceiling", "pattern": "solid", "color": [255, 0, 0]}).status == 200
    assert engine.planner.pattern_for("ceiling") == PatternSpec(name="solid", color=(255, 0, 0))
    assert running.act("/api/pattern", {"pattern": "grid"}).status == 200  # every canvas
    assert engine.planner.pattern_for("wall-left") == PatternSpec(name="grid")
    assert running.act("/api/pattern", {"canvas": "ceiling", "pattern": None}).status == 200
    assert running.act("/api/pattern", {"pattern": None}).status == 200
    assert engine.planner.pattern_for("wall-left") is None and engine.planner.pattern_for("ceiling") is None
    assert running.act("/api/tracking/delay", {"camera": "A", "ms": 12.5}).status == 200
    assert engine.tracking.delay_ms("A") == 12.5
    assert running.act("/api/camera/active", {"camera": "A"}).status == 200
    assert wait_for(lambda: engine.planner.last is not None and engine.planner.last.cameras[0].active)
    assert running.act("/api/camera/active", {"camera": None}).status == 200


def test_scene_placement_and_enabled(running: Served) -> None:
    engine = running.engine
    moved = running.act("/api/scene/placement", {"asset": "demo", "translation": [1.5, 0, -2], "yaw_deg": 30})
    assert moved.status == 200, moved.body
    placement = engine.planner.scene.placement_models[0]
    assert placement.translation == (1.5, 0.0, -2.0) and placement.yaw_deg == 30.0
    assert running.act("/api/scene/enabled", {"asset": "demo", "enabled": False}).status == 200
    assert engine.planner.scene.placements[0].enabled is False
    assert running.act("/api/scene/enabled", {"asset": "demo", "enabled": True}).status == 200
    assert engine.planner.scene.placements[0].enabled is True


def test_a_take_with_a_slate(running: Served) -> None:
    engine = running.engine
    assert running.act("/api/take/stop").status == 409
    started = running.act("/api/take/start", {"slate": "A001", "scene": "12A", "notes": "from the tablet"})
    assert started.status == 200 and started.body["result"]["take"]["name"] == "A001_T01"
    assert engine.recording is not None
    assert running.act("/api/take/start", {"slate": "A002"}).status == 409  # one take at a time
    recording = running.call("/api/status", token=running.viewer).body["recording"]
    assert recording == {"name": "A001_T01", "slate": "A001"}
    first = engine.loop.history.frames
    assert wait_for(lambda: engine.loop.history.frames > first + 10)
    stopped = running.act("/api/take/stop")
    assert stopped.status == 200
    take = stopped.body["result"]["take"]
    assert take["status"] == "complete" and take["frame_count"] > 0 and take["scene"] == "12A"
    assert engine.recording is None


@pytest.mark.parametrize(("path", "body", "status", "field"), [
    ("/api/tracking/delay", {"camera": "A", "ms": 5000}, 422, "ms"),
    ("/api/tracking/delay", {"camera": "A", "ms": -1}, 422, "ms"),
    ("/api/tracking/delay", {"camera": "A"}, 422, "ms"),
    ("/api/tracking/delay", {"camera": "A", "ms": "12"}, 422, "ms"),
    ("/api/tracking/delay", {"camera": "A", "ms": True}, 422, "ms"),
    ("/api/tracking/delay", {"camera": "Z", "ms": 10}, 422, "camera"),
    ("/api/tracking/delay", {"camera": "A", "ms": 10, "frames": 2}, 422, "frames"),
    ("/api/pattern", {"canvas": "ceiling", "pattern": "plaid"}, 422, "pattern"),
    ("/api/pattern", {"canvas": "nowhere", "pattern": "grid"}, 422, "canvas"),
    ("/api/pattern", {"pattern": "solid", "color": [300, 0, 0]}, 422, "color.0"),
    ("/api/scene/placement", {"asset": "demo", "scale": 0}, 422, "scale"),
    ("/api/scene/placement", {"asset": "demo", "translation": [0, 0]}, 422, "translation"),
    ("/api/scene/placement", {"asset": "ghost"}, 422, "asset"),
    ("/api/scene/enabled", {"asset": "demo", "enabled": "no"}, 422, "enabled"),
    ("/api/take/start", {"slate": ""}, 422, "slate"),
    ("/api/take/start", {"slate": "A/../../etc"}, 422, "slate"),
    ("/api/camera/active", {"camera": "Z"}, 422, "camera"),
])
def test_out_of_range_and_missing_values_are_refused_and_change_nothing(
        running: Served, path: str, body: dict[str, object], status: int, field: str) -> None:
    engine = running.engine
    before = (engine.tracking.delay_ms("A"), engine.planner.pattern_for("ceiling"), engine.planner.scene,
              engine.recording)
    reply = running.act(path, body)
    assert reply.status == status, reply.body
    assert reply.body["field"] == field and reply.body["error"]
    after = (engine.tracking.delay_ms("A"), engine.planner.pattern_for("ceiling"), engine.planner.scene,
             engine.recording)
    assert after == before


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe", b'"text"'])
def test_bad_json_is_refused_and_changes_nothing(running: Served, raw: bytes) -> None:
    reply = running.call("/api/tracking/delay", raw=raw, token=running.operator)
    assert reply.status == 400 and ("JSON" in reply.body["error"])
    assert running.engine.tracking.delay_ms("A") == 0.0
    offer = running.call("/api/webrtc/offer", {"sdp": "v=0 garbage", "type": "offer"}, token=running.viewer)
    assert offer.status == 400 and "SDP" in offer.body["error"]
    assert running.call("/api/webrtc/offer", {"sdp": "v=0", "type": "offer", "width": 99999},
                        token=running.viewer).status == 422


def test_the_server_listens_on_loopback_unless_the_network_mode_is_studio() -> None:
    with pytest.raises(ValueError, match="loopback"):
        check_host("0.0.0.0", "loopback")
    with pytest.raises(ValueError, match="loopback"):
        check_host("192.168.1.20", "loopback")
    check_host("127.0.0.1", "loopback")
    check_host("::1", "loopback")
    check_host("0.0.0.0", "studio")
