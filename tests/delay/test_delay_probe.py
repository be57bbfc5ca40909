"""The delay probe end to end on loopback: a simulated tracker pans the camera, the live engine
(render nodes on threads, NDI outputs) shows its inner frustum, a real NDI receiver watches the
canvas, and the tool finds the latency, with and without a known delay injected on the tracker
side; plus its parts (delay line, timecode inverse, aim, capture watcher, CLI arguments)."""

from __future__ import annotations

import json
import socket
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from cli import EXIT_INVALID, main
from devices.delay_probe import CaptureWatcher, DelayLine, ndi_100ns_to_count
from devices.tracking.simulator import UdpLink
from live.delay_probe import ProbeSettings, aim_at_canvas, azimuth_map, choose_canvas, run_probe
from live.options import TRACKER_LEAD_MS
from live.setup import REHEARSAL_CAMERA
from tests.waiting import wait_for
from vpstage.stage import Stage
from vpstage.stage.scaling import scaled_stage
from vpstage.timing import count_to_ndi_100ns
from vpstage.tracking.delay_measure import WindowSignal

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "configs" / "stages" / "demo.yaml"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Stage:
    return scaled_stage(Stage.open(DEMO), 8, tmp_path_factory.mktemp("demo8"))


# ----------------------------------------------------------------------------- parts


@pytest.mark.network
def test_the_delay_line_holds_every_packet_back_in_order() -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5.0)
    line = DelayLine(UdpLink("127.0.0.1", receiver.getsockname()[1]), 40.0)
    handed: list[int] = []
    try:
        for i in range(5):
            handed.append(time.monotonic_ns())
            assert line.send(bytes([i]))
        got = []
        for _ in range(5):
            data = receiver.recv(16)
            got.append((data[0], time.monotonic_ns()))
    finally:
        line.close()
        receiver.close()
    assert [i for i, _ in got] == [0, 1, 2, 3, 4]
    for (i, arrived), sent in zip(got, handed, strict=True):
        assert arrived - sent >= 40_000_000, f"packet {i} came {(arrived - sent) / 1e6:.1f} ms after it was handed over"
    assert line.sent == 5 and line.dropped == 0
    assert not line.send(b"x")  # closed
    with pytest.raises(ValueError, match="early"):
        DelayLine(UdpLink("127.0.0.1", 9), -1.0)


@pytest.mark.parametrize("rate", [Fraction(30), Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60)])
def test_ndi_timecodes_give_back_their_frame_count(rate: Fraction) -> None:
    for count in (0, 1, 29, 1799, 107_892, 2_589_407, 5_183_999):
        assert ndi_100ns_to_count(count_to_ndi_100ns(count, rate), rate) == count
    assert ndi_100ns_to_count(count_to_ndi_100ns(1000, rate) + 1, rate) is None


def test_the_probe_aims_at_a_wall_it_can_pan_across(small: Stage) -> None:
    aim = aim_at_canvas(small, "wall-centre", REHEARSAL_CAMERA)
    assert aim.pan_deg == pytest.approx(0.0, abs=1e-3) and aim.tilt_deg == 0.0  # the demo arc faces -y there
    assert aim.amplitude_deg == 10.0
    room = min(-aim.span_deg[0], aim.span_deg[1])
    assert aim.window_half_deg + aim.amplitude_deg < room  # the window never leaves the canvas
    azimuth = azimuth_map(small, aim)
    assert azimuth.shape == (135, 240)
    assert np.nanmin(azimuth) == pytest.approx(aim.span_deg[0], abs=1.0)
    assert np.nanmax(azimuth) == pytest.approx(aim.span_deg[1], abs=1.0)
    assert np.isnan(azimuth).any()  # the canvas has pixels without an LED (the split bottom rows)
    with pytest.raises(ValueError, match="sideways"):
        aim_at_canvas(small, "ceiling", REHEARSAL_CAMERA)
    with pytest.raises(ValueError, match="no canvas"):
        aim_at_canvas(small, "nowhere", REHEARSAL_CAMERA)
    assert choose_canvas(small, REHEARSAL_CAMERA, 3.0, 10.0).canvas in {"wall-left", "wall-centre", "wall-right"}


def test_the_capture_watcher_stamps_and_reduces_every_frame(tmp_path: Path) -> None:
    """A video file through OpenCV (a camera stands in for it on a stage): a bright bar moving
    right four pixels a frame comes back as a column signal rising four a frame."""
    import cv2

    path = tmp_path / "bar.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (160, 90))
    for i in range(20):
        frame = np.full((90, 160, 3), 10, np.uint8)
        frame[:, 20 + 4 * i:30 + 4 * i] = 240
        writer.write(frame)
    writer.release()
    watcher = CaptureWatcher(str(path), WindowSignal())
    watcher.start()
    try:
        assert wait_for(lambda: watcher.ended, 10.0)
    finally:
        watcher.stop()
    samples = watcher.samples()
    assert len(samples) == 20 and watcher.error is None
    assert all(s.timecode_100ns is None and (s.width, s.height) == (160, 90) for s in samples)
    assert np.diff([s.receive_ns for s in samples]).min() >= 0
    np.testing.assert_allclose([s.value for s in samples], 24.5 + 4 * np.arange(20), atol=1.0)


def test_bad_arguments_exit_2_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["measure-delay", "--seconds", "0.2"]) == EXIT_INVALID
    assert main(["measure-delay", "--inject-ms", "-5"]) == EXIT_INVALID
    assert main(["measure-delay", "--stage", str(DEMO), "--canvas", "ceiling", "--cluster", "threads",
                 "--seconds", "1"]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "seconds must be within" in err and "inject-ms" in err and "sideways" in err


# ----------------------------------------------------------------------------- closed loop


@pytest.mark.slow
@pytest.mark.network
def test_the_tool_recovers_a_known_injected_delay(small: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    """Baseline through the CLI (threads cluster, demo stage / 8, JSON), then the same with 100 ms
    injected in the tracking path: the delay line is the only thing that knows. Every figure must
    come out within a frame of what the frame lock makes it by design."""
    pytest.importorskip("NDIlib", reason="ndi-python is not installed")
    period_ms = 1000 / 30
    assert main(["measure-delay", "--stage", str(DEMO), "--seconds", "3", "--cluster", "local", "--json"]) == 0
    base = json.loads(capsys.readouterr().out)
    assert base["scale"] == 8 and base["canvas"] == "wall-centre" and base["reliable"]
    assert "listening on 127.0.0.1" in base["watched"]  # node processes bind NDI to loopback only
    assert base["pictures_with_signal"] >= 0.9 * 90
    # planner: the genlocked frame instant falls TRACKER_LEAD_MS after the newest sample was sent
    assert base["plan"]["lag_ms"] == pytest.approx(TRACKER_LEAD_MS, abs=period_ms)
    # present: one period later, at the frame's deadline (its NDI timecode names the frame)
    assert base["present"]["lag_ms"] == pytest.approx(period_ms + TRACKER_LEAD_MS, abs=period_ms)
    # the wall (arrival over NDI) comes after the present, and the picture follows the pan 1:1
    assert base["present"]["lag_ms"] - 1.0 <= base["latency_ms"] <= base["present"]["lag_ms"] + period_ms
    assert base["wall"]["gain"] == pytest.approx(1.0, abs=0.25)
    assert base["proposed_delay_ms"] == pytest.approx(-base["latency_ms"], abs=0.1)

    injected = run_probe(small, ProbeSettings(seconds=3, inject_ms=100.0, cluster="local"))
    got = injected.to_dict()
    assert got["reliable"] and not injected.problems, injected.problems
    assert got["inject_ms"] == 100.0 and got["delay_ms"] == 0.0
    assert got["latency_ms"] - base["latency_ms"] == pytest.approx(100.0, abs=period_ms)
    assert got["present"]["lag_ms"] - base["present"]["lag_ms"] == pytest.approx(100.0, abs=period_ms)
    assert got["plan"]["lag_ms"] == pytest.approx(100.0 + TRACKER_LEAD_MS, abs=period_ms)
    assert got["proposed_delay_ms"] == pytest.approx(-got["latency_ms"], abs=0.1)
    assert got["proposed_extrapolate_ms"] >= -got["proposed_delay_ms"]
