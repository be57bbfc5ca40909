"""Shared colour-test setup: the ACES 2.0 studio config the demo stage uses, and its two views."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vpstage.colour.ocio_config import load_config
from vpstage.colour.outputs import OutputTarget

ACES_CONFIG = "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5"
SDR = OutputTarget("sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)")
PQ_1000 = OutputTarget("Rec.2100-PQ - Display", "ACES 2.0 - HDR 1000 nits (P3 D65)")
SRGB_TEXTURE = "sRGB Encoded Rec.709 (sRGB)"


@pytest.fixture(scope="session")
def aces() -> Any:
    """The built-in ACES 2.0 studio config (OpenColorIO >= 2.5)."""
    return load_config(ACES_CONFIG, Path("."))
