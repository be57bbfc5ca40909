"""A stand-in for the ``blackmagic_io`` package (Blackmagic DeckLink cards are not on this machine).

It offers the calls ``devices.outputs.sdi`` makes and holds them to what the package documents:
``BlackmagicOutput`` (a context manager) lists devices, ``initialize(device_index)`` opens one
(False for a device that is not there), ``display_static_frame(rgb, mode)`` starts playout of a
uint8 R'G'B' (H, W, 3) frame whose size must be the display mode's, and ``update_frame(rgb)``
replaces the frame being played (False before playout started). Every frame a device accepted is
kept, per device index, in ``played``.
"""

from __future__ import annotations

import enum
import threading
from types import ModuleType

import numpy as np

DEVICES = ("DeckLink 8K Pro (1)", "DeckLink 8K Pro (2)", "DeckLink 8K Pro (3)", "DeckLink 8K Pro (4)")


class DisplayMode(enum.Enum):
    HD1080p2398 = (1920, 1080)
    HD1080p24 = (1920, 1080)
    HD1080p25 = (1920, 1080)
    HD1080p2997 = (1920, 1080)
    HD1080p30 = (1920, 1080)
    HD1080p50 = (1920, 1080)
    HD1080p5994 = (1920, 1080)
    HD1080p6000 = (1920, 1080)


played: dict[int, list[np.ndarray]] = {}
_lock = threading.Lock()


class BlackmagicOutput:
    def __init__(self) -> None:
        self.device: int | None = None
        self.mode: DisplayMode | None = None

    def __enter__(self) -> BlackmagicOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.device = self.mode = None

    def get_available_devices(self) -> list[str]:
        return list(DEVICES)

    def initialize(self, device_index: int = 0) -> bool:
        if not 0 <= device_index < len(DEVICES):
            return False
        self.device = device_index
        return True

    def display_static_frame(self, frame: np.ndarray, display_mode: DisplayMode) -> bool:
        if self.device is None:
            return False
        self._check(frame, display_mode)
        self.mode = display_mode
        self._keep(frame)
        return True

    def update_frame(self, frame: np.ndarray) -> bool:
        if self.device is None or self.mode is None:
            return False
        self._check(frame, self.mode)
        self._keep(frame)
        return True

    @staticmethod
    def _check(frame: np.ndarray, mode: DisplayMode) -> None:
        width, height = mode.value
        if frame.dtype != np.uint8 or frame.shape != (height, width, 3):
            raise ValueError(f"{mode.name} takes a ({height}, {width}, 3) uint8 frame, not {frame.shape} {frame.dtype}")

    def _keep(self, frame: np.ndarray) -> None:
        assert self.device is not None
        with _lock:
            played.setdefault(self.device, []).append(frame.copy())


def module() -> ModuleType:
    """This double as an importable ``blackmagic_io`` module."""
    double = ModuleType("blackmagic_io")
    double.BlackmagicOutput = BlackmagicOutput  # type: ignore[attr-defined]
    double.DisplayMode = DisplayMode  # type: ignore[attr-defined]
    played.clear()
    return double
