"""SDI outputs through a Blackmagic DeckLink card, with the ``blackmagic-io`` package.

``blackmagic-io`` (module ``blackmagic_io``) needs the Desktop Video driver and a DeckLink card.
When it is missing, :func:`decklink_status` says so and :class:`DeckLinkPresenter` refuses to
start with that message, so the console can grey SDI out and tell the operator why.

This module was written against the package's documented interface (``BlackmagicOutput``:
``initialize(device_index)``, ``display_static_frame(rgb, DisplayMode.X)``, ``update_frame(rgb)``)
without a card to test on; DeckLink output is unverified until someone runs it on hardware.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from fractions import Fraction
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vpstage.engine import OutputInfo
from vpstage.stage import Stage
from vpstage.timing import FrameTick

MODULE = "blackmagic_io"

# DeckLink display-mode name suffixes for the stage rates (1080p modes).
_MODE_SUFFIX = {Fraction(24000, 1001): "2398", Fraction(24): "24", Fraction(25): "25",
                Fraction(30000, 1001): "2997", Fraction(30): "30", Fraction(50): "50",
                Fraction(60000, 1001): "5994", Fraction(60): "6000"}


class OutputUnavailable(RuntimeError):
    """This output cannot run here; the message says why."""


def _load() -> tuple[ModuleType | None, str]:
    try:
        return importlib.import_module(MODULE), ""
    except ImportError as exc:
        return None, (f"SDI output needs a Blackmagic DeckLink card, the Desktop Video driver and the "
                      f"blackmagic-io package (`pip install blackmagic-io`); importing {MODULE} failed: {exc}")


def decklink_status() -> tuple[bool, str]:
    """(available, message): whether DeckLink output can be used, and the devices or the reason."""
    module, reason = _load()
    if module is None:
        return False, reason
    try:
        with module.BlackmagicOutput() as probe:
            devices = list(probe.get_available_devices())
    except Exception as exc:
        return False, f"blackmagic-io is installed but the DeckLink driver did not answer: {exc}"
    if not devices:
        return False, "blackmagic-io is installed but no DeckLink device was found"
    return True, "DeckLink devices: " + ", ".join(map(str, devices))


class DeckLinkPresenter:
    """A Presenter that plays SDI canvases out of DeckLink devices (canvas -> device index)."""

    def __init__(self, stage: Stage, devices: Mapping[str, int]) -> None:
        module, reason = _load()
        if module is None:
            raise OutputUnavailable(reason)
        rate = stage.project.frame_rate
        name = f"HD1080p{_MODE_SUFFIX.get(rate, '')}"
        self.mode = getattr(module.DisplayMode, name, None)
        if self.mode is None:
            raise OutputUnavailable(f"no DeckLink display mode {name} for {rate} fps")
        self._outputs: dict[str, Any] = {}
        self._started: set[str] = set()
        for canvas, index in devices.items():
            output = module.BlackmagicOutput()
            if not output.initialize(device_index=index):
                raise OutputUnavailable(f"DeckLink device {index} (canvas {canvas}) did not initialise")
            self._outputs[canvas] = output
        self._devices = dict(devices)

    def present(self, canvas: str, image: NDArray[np.uint8], tick: FrameTick) -> None:
        output = self._outputs.get(canvas)
        if output is None:
            return
        rgb = np.ascontiguousarray(image[..., 2::-1])
        ok = output.update_frame(rgb) if canvas in self._started else output.display_static_frame(rgb, self.mode)
        if not ok:
            raise OutputUnavailable(f"DeckLink refused frame {tick.index} of canvas {canvas}")
        self._started.add(canvas)

    def outputs(self) -> list[OutputInfo]:
        return [OutputInfo(canvas, "sdi", f"DeckLink {index}", None) for canvas, index in self._devices.items()]

    def close(self) -> None:
        for output in self._outputs.values():
            output.__exit__(None, None, None)
        self._outputs.clear()
