"""``main.py track`` listens on loopback unless told otherwise (nothing exposed by default)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_track_refuses_a_network_address_without_allow_network() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "track", "--freed", "udp://0.0.0.0:0",
                             "--timeout", "1", "--jsonl"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "0.0.0.0" in result.stderr and "--allow-network" in result.stderr
    assert "listening" not in result.stderr  # refused before anything was bound
