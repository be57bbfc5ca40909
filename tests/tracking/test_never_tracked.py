"""NEVER TRACKED: a camera whose source has sent nothing since it started, after the source's
``never_tracked_after_ms``; distinct from TRACKING LOST. Qt-free: the hub on a fake clock, the
console's alarm rules (``ui.live.alarms``), the run report and the receiver's log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from devices.tracking.decoders import FreeDDecoder
from devices.tracking.hub import TrackingHub
from devices.tracking.receiver import Receiver
from devices.tracking.transports import Read
from tests.conftest import STAGES
from ui.live.alarms import AlarmMonitor, tracking_alarms
from vpstage.protocols import freed
from vpstage.stage import load_project
from vpstage.stage.model import Project
from vpstage.tracking.sample import CameraSample

pytestmark = pytest.mark.network
MS = 1_000_000
START = 1_000_000 * MS


class FakeClock:
    def __init__(self, now_ns: int) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns


def project(grace_ms: float | None = None) -> Project:
    data = load_project(STAGES / "flat_wall.yaml").project.model_dump(mode="json")
    source = {"name": "tracker", "protocol": "freed", "address": "udp://127.0.0.1:0", "camera_id": 1,
              "lost_after_ms": 200}
    if grace_ms is not None:
        source["never_tracked_after_ms"] = grace_ms
    data["tracking"] = [source]
    data["cameras"] = [{"name": "A", "tracker": "tracker", "sensor_width_mm": 24.0, "sensor_height_mm": 13.5,
                        "lens": "zcam-freed"}]
    return Project.model_validate(data)


def sample(arrival_ns: int, camera_id: int = 1) -> CameraSample:
    return CameraSample(protocol="freed", source="127.0.0.1", camera_id=camera_id, arrival_ns=arrival_ns, x_m=0.0,
                        y_m=0.0, z_m=1.5, pan_deg=0.0, tilt_deg=0.0, roll_deg=0.0)


@pytest.fixture
def hub() -> Iterator[TrackingHub]:
    """A started hub (its receiver on 127.0.0.1:0) whose clock stands still at START."""
    hub = TrackingHub(project(grace_ms=2000.0), clock=FakeClock(START))
    assert hub.start() == {}
    yield hub
    hub.stop()


def camera_alarm(hub: TrackingHub, now_ns: int) -> tuple[str, str, str] | None:
    found = [a for a in tracking_alarms(hub, now_ns) if a.key == "tracking:A"]
    return (found[0].severity, found[0].title, found[0].detail) if found else None


def test_the_setting_defaults_to_a_few_seconds() -> None:
    assert project().tracking[0].never_tracked_after_ms == 3000.0
    with pytest.raises(ValueError):
        project(grace_ms=0.0)


def test_waiting_then_never_tracked_after_the_grace_period(hub: TrackingHub) -> None:
    severity, title, detail = camera_alarm(hub, START + 1999 * MS)  # type: ignore[misc]
    assert (severity, title) == ("warning", "NO TRACKING") and "waiting for tracker" in detail
    assert not hub.never_tracked("A", START + 1999 * MS)
    severity, title, detail = camera_alarm(hub, START + 2000 * MS)  # type: ignore[misc]
    assert (severity, title) == ("critical", "NEVER TRACKED")
    assert "no sample from tracker since it started" in detail and detail.endswith("nothing arrives")
    assert hub.never_tracked("A", START + 2000 * MS)


def test_a_tracked_camera_is_never_never_tracked_it_is_lost(hub: TrackingHub) -> None:
    hub.push("tracker", sample(START + 500 * MS))
    assert camera_alarm(hub, START + 600 * MS) is None
    assert not hub.never_tracked("A", START + 10_000 * MS)
    severity, title, _ = camera_alarm(hub, START + 10_000 * MS)  # type: ignore[misc]
    assert (severity, title) == ("critical", "TRACKING LOST")


def test_the_detail_says_what_the_source_did_receive(hub: TrackingHub) -> None:
    receiver = hub._receivers["tracker"]
    receiver.feed(b"\xd1" + bytes(28), ("127.0.0.1", 9), START)  # wrong checksum
    assert camera_alarm(hub, START + 3000 * MS)[2].endswith("only bad packets (checksum)")  # type: ignore[index]
    other = freed.write_d1(freed.FreeDPosition(camera_id=7, pan_deg=0, tilt_deg=0, roll_deg=0, x_mm=0, y_mm=0, z_mm=0,
                                               zoom_raw=0, focus_raw=0))  # a camera id nobody listens to
    receiver.feed(other, ("127.0.0.1", 9), START)
    assert camera_alarm(hub, START + 3000 * MS)[2].endswith("samples for other camera ids")  # type: ignore[index]


def test_the_report_flags_sources_and_cameras_never_tracked(hub: TrackingHub) -> None:
    (entry,) = hub.report()  # the report reads after the run: no grace period
    assert entry["never_tracked"] and entry["cameras_never_tracked"] == ["A"]
    assert entry["samples"] == 0 and entry["bad_by_reason"] == {} and entry["discarded_by_reason"] == {}
    hub._receivers["tracker"].feed(freed.write_d1(freed.FreeDPosition(camera_id=1, pan_deg=0, tilt_deg=0, roll_deg=0,
                                                                      x_mm=0, y_mm=0, z_mm=0, zoom_raw=0, focus_raw=0)),
                                   ("127.0.0.1", 9), START)
    (entry,) = hub.report()
    assert not entry["never_tracked"] and entry["cameras_never_tracked"] == []


def test_a_restarted_source_gets_a_new_grace_period(hub: TrackingHub) -> None:
    clock: FakeClock = hub._clock  # type: ignore[assignment]
    clock.now_ns = START + 5000 * MS
    assert hub.never_tracked("A")
    hub.update_source(hub.project.tracking[0].model_copy(update={"never_tracked_after_ms": 1000.0}))
    assert not hub.never_tracked("A") and hub.never_tracked("A", clock.now_ns + 1000 * MS)
    assert hub.tracker_started_ns("A") == START + 5000 * MS


def test_the_monitor_orders_never_tracked_with_other_critical_alarms(hub: TrackingHub) -> None:
    alarms = AlarmMonitor().evaluate(START + 2500 * MS, hub)
    assert [(a.key, a.title) for a in alarms] == [("tracking:A", "NEVER TRACKED")]


def test_the_receiver_logs_never_tracked_once(caplog: pytest.LogCaptureFixture) -> None:
    class Null:
        address = "udp://127.0.0.1:9"

        def open(self) -> None: ...
        def read(self, timeout_s: float) -> Read:
            return []
        def close(self) -> None: ...

    receiver = Receiver("tracker", Null(), FreeDDecoder(), never_tracked_after_ms=1000.0)
    assert not receiver.check_never_tracked(START)  # not started
    receiver.started_ns = START  # what start() sets, without its thread
    receiver.feed(b"junk", ("127.0.0.1", 1), START)
    with caplog.at_level(logging.WARNING, logger="devices.tracking.receiver"):
        assert not receiver.check_never_tracked(START + 999 * MS)
        assert receiver.check_never_tracked(START + 1000 * MS)
        assert receiver.check_never_tracked(START + 2000 * MS)
    (record,) = caplog.records
    assert "tracker" in record.getMessage() and "NEVER TRACKED" in record.getMessage()
    assert "1 bad packets (size 1)" in record.getMessage()
    receiver.feed(freed.write_d1(freed.FreeDPosition(camera_id=1, pan_deg=0, tilt_deg=0, roll_deg=0, x_mm=0, y_mm=0,
                                                     z_mm=0, zoom_raw=0, focus_raw=0)), ("127.0.0.1", 1), START)
    assert not receiver.check_never_tracked(START + 3000 * MS)
