"""TrackingHub: a project's sources and cameras, live on loopback, sampled with delay and alignment."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from devices.tracking.hub import TrackingHub
from devices.tracking.receiver_health import StreamStats
from devices.tracking.transports import UdpTransport
from tests.conftest import STAGES
from tests.tracking.conftest import wait_until
from vpstage.config import ConfigError
from vpstage.geometry.rotations import body_rotation
from vpstage.protocols import freed
from vpstage.stage import load_project
from vpstage.stage.model import Alignment, Project, TrackingSource
from vpstage.tracking.alignment import AlignmentTransform
from vpstage.tracking.sample import CameraSample

MS = 1_000_000


def project(**camera: object) -> Project:
    base = load_project(STAGES / "flat_wall.yaml").project
    data = base.model_dump(mode="json")
    data["tracking"] = [{"name": "tracker", "protocol": "freed", "address": "udp://127.0.0.1:0", "camera_id": 1,
                         "lost_after_ms": 150}]
    data["cameras"] = [{"name": "A", "tracker": "tracker", "sensor_width_mm": 24.0, "sensor_height_mm": 13.5,
                        "lens": "zcam-freed", **camera}]
    return Project.model_validate(data)


def freed_sample(t_ms: float, x_m: float, pan: float = 0.0, camera_id: int = 1) -> CameraSample:
    return CameraSample(protocol="freed", source="127.0.0.1", camera_id=camera_id, arrival_ns=round(t_ms * MS), x_m=x_m,
                        y_m=0.0, z_m=1.5, pan_deg=pan, tilt_deg=0.0, roll_deg=0.0, zoom_raw=3500, focus_raw=20000)


def test_state_at_applies_lens_delay_and_alignment_and_set_delay_is_immediate() -> None:
    hub = TrackingHub(project(delay_ms=20.0))
    for i in range(11):
        hub.push("tracker", freed_sample(i * 10, x_m=i * 0.1))
    state = hub.state_at("A", 100 * MS)
    assert state is not None
    assert state.eye == pytest.approx([0.8, 0.0, 1.5])  # sampled at 80 ms
    assert (state.focal_length_mm, state.focus_distance_m) == pytest.approx((35.0, 2.0))
    hub.set_delay("A", 55.0)
    assert hub.state_at("A", 100 * MS).eye[0] == pytest.approx(0.45)  # type: ignore[union-attr]
    hub.set_delay_frames("A", 1)  # one frame of 24000/1001 = 41.708 ms
    assert hub.delay_ms("A") == pytest.approx(41.708333, abs=1e-6)
    hub.set_alignment("A", AlignmentTransform(body_rotation(90, 0, 0), np.array([0.0, 0.0, 0.1])))
    aligned = hub.state_at("A", 100 * MS)
    assert aligned is not None and aligned.forward == pytest.approx([1.0, 0.0, 0.0])
    assert aligned.eye == pytest.approx([0.0, -(1.0 - 0.41708333), 1.6], abs=1e-6)


def test_delay_in_frames_from_the_project_and_alignment_from_the_file() -> None:
    hub = TrackingHub(project(delay_frames=2, alignment={"translation": [1.0, 0.0, 0.0]}))
    assert hub.delay_ms("A") == pytest.approx(2 * 1001 / 24)
    hub.push("tracker", freed_sample(0, x_m=0.0))
    assert hub.state_at("A", 0).eye[0] == pytest.approx(1.0)  # type: ignore[union-attr]
    hub.set_alignment("A", Alignment(translation=(2.0, 0.0, 0.0)))
    assert hub.state_at("A", 0).eye[0] == pytest.approx(2.0)  # type: ignore[union-attr]


def test_samples_route_by_source_and_camera_id() -> None:
    hub = TrackingHub(project())
    received: list[tuple[str, CameraSample]] = []
    hub.sample_received.connect(lambda name, sample: received.append((name, sample)))
    hub.push("tracker", freed_sample(0, 1.0, camera_id=2))  # another camera on the same source
    hub.push("elsewhere", freed_sample(0, 1.0))
    assert hub.latest_sample("A") is None and received == []
    hub.push("tracker", freed_sample(0, 1.0, camera_id=1))
    assert hub.latest_sample("A") is not None and [n for n, _ in received] == ["A"]
    with pytest.raises(KeyError, match="no camera named"):
        hub.state_at("B", 0)


def test_an_unknown_lens_profile_is_a_located_config_problem() -> None:
    with pytest.raises(ConfigError) as info:
        TrackingHub(project(lens="no-such-lens"))
    assert "cameras[0].lens: unknown lens profile 'no-such-lens'" in str(info.value)


def test_problems_in_a_project_file_are_located(tmp_path: Path) -> None:
    path = tmp_path / "stage.yaml"
    path.write_text((STAGES / "flat_wall.yaml").read_text().replace("  sensor_height_mm: 13.99",
                                                                      "  sensor_height_mm: 13.99\n  lens: nope"))
    with pytest.raises(ConfigError) as info:
        TrackingHub.from_file(path)
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.line is not None and problem.path == ("cameras", 0, "lens")


def test_project_lens_library_relative_to_the_project(tmp_path: Path) -> None:
    (tmp_path / "lenses.yaml").write_text("lenses:\n- name: prime50\n  nominal_focal_length_mm: 50\n")
    proj = project(lens="prime50").model_copy(update={"lens_library": "lenses.yaml"})
    hub = TrackingHub(proj, base_dir=tmp_path)
    hub.push("tracker", freed_sample(0, 0.0))
    assert hub.state_at("A", 0).focal_length_mm == 50.0  # type: ignore[union-attr]


@pytest.mark.network
def test_loopback_network_mode_keeps_receivers_on_127_0_0_1() -> None:
    data = project().model_dump(mode="json")
    data["tracking"][0]["address"] = "udp://0.0.0.0:0"
    data["tracking"].append({"name": "otio", "protocol": "opentrackio", "address": "udp://127.0.0.1:0",
                             "multicast_group": "239.135.1.1"})
    hub = TrackingHub(Project.model_validate(data))
    try:
        assert hub.start() == {}
        addresses = [r.address for r in hub.receiver_health()]
    finally:
        hub.stop()
    assert all(a.startswith("udp://127.0.0.1:") for a in addresses)


@pytest.mark.network
def test_live_hub_receives_reports_loss_and_restarts_on_a_port_change() -> None:
    hub = TrackingHub(project())
    lost: list[StreamStats] = []
    recovered: list[StreamStats] = []
    threads: set[str] = set()
    hub.stream_lost.connect(lost.append)
    hub.stream_recovered.connect(recovered.append)
    hub.sample_received.connect(lambda *_: threads.add(threading.current_thread().name))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    message = freed.write_d1(freed.FreeDPosition(camera_id=1, pan_deg=10.0, tilt_deg=0.0, roll_deg=0.0, x_mm=500.0,
                                                 y_mm=0.0, z_mm=1500.0, zoom_raw=3500, focus_raw=20000))
    try:
        assert hub.start() == {} and hub.running

        def port() -> int:
            (stats,) = hub.receiver_health()
            return int(stats.address.rsplit(":", 1)[1])

        sender.sendto(message, ("127.0.0.1", port()))
        assert wait_until(lambda: hub.latest_sample("A") is not None)
        assert hub.state_at("A", hub.latest_sample("A").arrival_ns).eye[0] == pytest.approx(0.5)  # type: ignore[union-attr]
        assert threads == {"tracking-tracker"}
        assert wait_until(lambda: len(lost) == 1, 3.0)
        sender.sendto(message, ("127.0.0.1", port()))
        assert wait_until(lambda: len(recovered) == 1, 3.0)
        (stream,) = hub.stream_health()
        assert (stream.receiver, stream.camera_id, stream.samples) == ("tracker", 1, 2)

        old_port = port()
        blocker = UdpTransport("127.0.0.1", 0)
        blocker.open()
        new_port = blocker.bound()[1]
        blocker.close()
        source = TrackingSource(name="tracker", protocol="freed", address=f"udp://127.0.0.1:{new_port}",
                                camera_id=1)
        assert hub.update_source(source) is None
        assert port() == new_port != old_port
        sender.sendto(message, ("127.0.0.1", new_port))
        assert wait_until(lambda: hub.receiver_health()[0].samples == 1)
    finally:
        hub.stop()
        sender.close()
    assert not hub.running
