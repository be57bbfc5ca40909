"""The control API's actions as plain values, parsed and range-checked from JSON bodies.

``parse_action(name, body)`` returns one of the frozen dataclasses below or raises
``ApiError`` (nothing changed). What an action does is up to a ``Controls``
(:mod:`remote.engine_controls` headless, :mod:`remote.console_controls` in the console).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from remote.requests import NAME, ApiError, Body
from vpstage.patterns import PATTERN_NAMES

SETTABLE_PATTERNS = tuple(p for p in PATTERN_NAMES if p != "error")
DELAY_MS_RANGE = (0.0, 1000.0)
TRANSLATION_M = 1000.0


@dataclass(frozen=True)
class StartEngine:
    pass


@dataclass(frozen=True)
class StopEngine:
    pass


@dataclass(frozen=True)
class StartTake:
    slate: str
    scene: str = ""
    notes: str = ""
    camera_roll: str = ""


@dataclass(frozen=True)
class StopTake:
    pass


@dataclass(frozen=True)
class SetPattern:
    canvas: str | None
    """None: every canvas."""
    pattern: str | None
    """None: back to the scene."""
    color: tuple[int, int, int] = (255, 255, 255)


@dataclass(frozen=True)
class SetDelay:
    camera: str
    ms: float


@dataclass(frozen=True)
class SetActiveCamera:
    camera: str | None


@dataclass(frozen=True, kw_only=True)
class SetPlacement:
    asset: str
    translation: tuple[float, float, float]
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    scale: float


@dataclass(frozen=True)
class SetAssetEnabled:
    asset: str
    enabled: bool


Action = (StartEngine | StopEngine | StartTake | StopTake | SetPattern | SetDelay | SetActiveCamera | SetPlacement
          | SetAssetEnabled)


def _start_take(b: Body) -> Action:
    slate = b.string("slate", max_len=32, pattern=NAME) or ""
    return StartTake(slate, b.string("scene", required=False, max_len=64) or "",
                     b.string("notes", required=False, max_len=2000) or "",
                     b.string("camera_roll", required=False, max_len=32) or "")


def _set_pattern(b: Body) -> Action:
    canvas = b.string("canvas", required=False, pattern=NAME)
    pattern = b.string("pattern", required=False, choices=SETTABLE_PATTERNS)
    color = b.vector("color", 0, 255, required=False)
    if color is not None and any(c != int(c) for c in color):
        raise ApiError(422, "color must be three integers 0..255", "color")
    rgb = (255, 255, 255) if color is None else (int(color[0]), int(color[1]), int(color[2]))
    return SetPattern(canvas, pattern, rgb)


def _set_delay(b: Body) -> Action:
    return SetDelay(b.string("camera", pattern=NAME) or "", b.number("ms", *DELAY_MS_RANGE) or 0.0)


def _set_placement(b: Body) -> Action:
    asset = b.string("asset", pattern=NAME) or ""
    translation = b.vector("translation", -TRANSLATION_M, TRANSLATION_M, required=False) or (0.0, 0.0, 0.0)
    angles = [b.number(name, -360.0, 360.0, required=False) or 0.0 for name in ("yaw_deg", "pitch_deg", "roll_deg")]
    scale = b.number("scale", 1e-3, 1e3, required=False)
    return SetPlacement(asset=asset, translation=(translation[0], translation[1], translation[2]), yaw_deg=angles[0],
                        pitch_deg=angles[1], roll_deg=angles[2], scale=1.0 if scale is None else scale)


PARSERS: dict[str, Callable[[Body], Action]] = {
    "engine/start": lambda b: StartEngine(),
    "engine/stop": lambda b: StopEngine(),
    "take/start": _start_take,
    "take/stop": lambda b: StopTake(),
    "pattern": _set_pattern,
    "tracking/delay": _set_delay,
    "camera/active": lambda b: SetActiveCamera(b.string("camera", required=False, pattern=NAME)),
    "scene/placement": _set_placement,
    "scene/enabled": lambda b: SetAssetEnabled(b.string("asset", pattern=NAME) or "", bool(b.boolean("enabled"))),
}


def parse_action(name: str, data: dict[str, Any]) -> Action:
    """The action ``name`` (a path under ``/api/``) from its JSON body; ApiError when invalid."""
    parser = PARSERS.get(name)
    if parser is None:
        raise ApiError(404, f"no action {name!r}")
    body = Body(data)
    action = parser(body)
    body.done()
    return action
