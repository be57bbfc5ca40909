"""Shared test setup.

GPU tests live in tests/gpu and are collected only with ``VPSTAGE_GPU_TESTS=1`` (run them on a
GPU machine: ``VPSTAGE_GPU_TESTS=1 python -m pytest tests/gpu``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
STAGES = ROOT / "configs" / "stages"

collect_ignore = [] if os.environ.get("VPSTAGE_GPU_TESTS") == "1" else ["gpu"]


@pytest.fixture
def shared_data() -> Path:
    """The read-only real test data beside the checkout (../shared/data); skips when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA}")
    return SHARED_DATA
