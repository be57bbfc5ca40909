"""The ``track`` and ``simulate-tracker`` commands, run as subprocesses against each other."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.network


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _stderr_line(proc: subprocess.Popen[str], pattern: str, timeout_s: float = 20.0) -> re.Match[str]:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"no {pattern!r} in stderr: {''.join(seen)}")


def _records(stdout: str) -> tuple[list[dict[str, object]], dict[str, object]]:
    lines = [json.loads(line) for line in stdout.splitlines()]
    return lines[:-1], lines[-1]


@pytest.mark.parametrize("protocol,flag", [("freed", "--freed"), ("opentrackio", "--opentrackio"), ("osc", "--osc")])
def test_track_prints_what_the_simulator_sends(protocol: str, flag: str) -> None:
    track = _start("track", flag, "udp://127.0.0.1:0", "--count", "5", "--timeout", "20", "--jsonl")
    try:
        started = time.monotonic()
        port = _stderr_line(track, r"listening: \w+ on udp://127\.0\.0\.1:(\d+)").group(1)
        ready_s = time.monotonic() - started
        sim = subprocess.run([sys.executable, str(ROOT / "main.py"), "simulate-tracker", "--protocol", protocol,
                              "--target", f"udp://127.0.0.1:{port}", "--rate", "50", "--duration", "1",
                              "--path", "dolly"], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert sim.returncode == 0, sim.stderr
        out, err = track.communicate(timeout=30)
    finally:
        track.kill()
    assert track.returncode == 0, err
    samples, summary = _records(out)
    assert len(samples) == 5 and summary["bad_packets"] == 0 and summary["packets"] >= 5
    first = samples[0]
    assert first["protocol"] == protocol and first["camera_id"] == 1
    for key in ("pan_deg", "tilt_deg", "roll_deg", "x_m", "y_m", "z_m"):
        assert isinstance(first[key], float)
    assert first["y_m"] == pytest.approx(-2.0, abs=1e-3) and first["z_m"] == pytest.approx(1.6, abs=1e-3)
    if protocol == "freed":
        assert first["zoom_raw"] == 3500 and first["focus_raw"] == 40000  # 35 mm, 4 m in Z CAM units
    else:
        assert first["focal_length_mm"] == 35.0 and first["focus_distance_m"] == pytest.approx(4.0)
    assert ready_s < 15  # "ready within a second" on an idle machine; generous under CI load


def test_track_over_serial_with_a_simulated_pty() -> None:
    sim = _start("simulate-tracker", "--protocol", "freed", "--serial", "pty", "--rate", "60", "--duration", "5")
    try:
        device = _stderr_line(sim, r"serial device: (\S+)").group(1)
        track = subprocess.run([sys.executable, str(ROOT / "main.py"), "track", "--freed-serial", device,
                                "--count", "3", "--timeout", "20", "--jsonl"],
                               cwd=ROOT, capture_output=True, text=True, timeout=60)
    finally:
        sim.kill()
        sim.communicate()
    assert track.returncode == 0, track.stderr
    samples, summary = _records(track.stdout)
    assert len(samples) == 3 and samples[0]["source"] == device and summary["packets"] >= 3


def test_track_needs_a_source_and_a_valid_address() -> None:
    none = subprocess.run([sys.executable, str(ROOT / "main.py"), "track", "--jsonl"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert none.returncode == 2 and "at least one" in none.stderr
    bad = subprocess.run([sys.executable, str(ROOT / "main.py"), "track", "--freed", "udp://nowhere", "--jsonl"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "udp://HOST:PORT" in bad.stderr
