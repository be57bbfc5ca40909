"""Small validated value types used across project files."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer

#: Stage rates the console supports (exact rationals).
STANDARD_RATES = tuple(
    Fraction(n, d) for n, d in [(24000, 1001), (24, 1), (25, 1), (30000, 1001), (30, 1), (48, 1),
                                (50, 1), (60000, 1001), (60, 1), (120, 1)]
)

_RATE_RE = re.compile(r"^\s*(\d{1,12})\s*(?:/\s*(\d{1,12}))?\s*$")
"""``N`` or ``N/D``; twelve digits each is far beyond any real rate, and keeps the number small."""


def parse_rate(value: Any) -> Fraction:
    """``"24000/1001"``, ``24`` or ``Fraction`` -> Fraction. Decimals like 23.976 are refused:
    they are ambiguous, and the exact rational is what genlock and timecode need."""
    if isinstance(value, Fraction):
        rate = value
    elif isinstance(value, bool):
        raise ValueError("frame rate must be a number or 'N/D'")
    elif isinstance(value, int):
        rate = Fraction(value)
    elif isinstance(value, str):
        match = _RATE_RE.match(value)
        if not match:
            raise ValueError(f"frame rate {value[:40]!r} is not 'N' or 'N/D' (e.g. 24000/1001)")
        numerator, denominator = int(match.group(1)), int(match.group(2) or 1)
        if denominator == 0:
            raise ValueError(f"frame rate {value.strip()!r} divides by zero (e.g. 24000/1001)")
        rate = Fraction(numerator, denominator)
    else:
        raise ValueError(f"frame rate must be 'N' or 'N/D' (e.g. 24000/1001), not {value!r}")
    if rate <= 0:
        raise ValueError("frame rate must be positive")
    return rate


def format_rate(rate: Fraction) -> str:
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def _check_standard(rate: Fraction) -> Fraction:
    if rate not in STANDARD_RATES:
        allowed = ", ".join(format_rate(r) for r in STANDARD_RATES)
        raise ValueError(f"unsupported frame rate {format_rate(rate)}; use one of {allowed}")
    return rate


def _serialize_rate(rate: Fraction) -> int | str:
    return rate.numerator if rate.denominator == 1 else format_rate(rate)


FrameRate = Annotated[
    Fraction,
    BeforeValidator(parse_rate),
    AfterValidator(_check_standard),
    PlainSerializer(_serialize_rate, return_type=int | str),
]


def _finite_vec(value: tuple[float, ...]) -> tuple[float, ...]:
    if not all(math.isfinite(v) for v in value):
        raise ValueError("values must be finite numbers")
    return value


Vec3 = Annotated[tuple[float, float, float], AfterValidator(_finite_vec)]
Vec2 = Annotated[tuple[float, float], AfterValidator(_finite_vec)]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Finite = Annotated[float, AfterValidator(_finite)]
PositiveFinite = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
"""A positive finite number (``.inf`` and ``.nan`` are refused)."""

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def _check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError(f"{value!r}: names use letters, digits, '_', '-', '.' and start with a letter or digit")
    return value


Name = Annotated[str, AfterValidator(_check_name)]


OscFieldName = Literal["", "x_m", "y_m", "z_m", "pan_deg", "tilt_deg", "roll_deg", "qx", "qy", "qz", "qw",
                      "focus_raw", "iris_raw", "zoom_raw", "focus_norm", "iris_norm", "zoom_norm",
                      "focal_length_mm", "focus_distance_m", "f_stop"]
"""Names an OSC argument may fill (``vpstage.protocols.osc_map``); an empty name skips that argument."""
