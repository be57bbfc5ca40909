"""SDI outputs through a Blackmagic DeckLink card, with the ``blackmagic-io`` package.

``blackmagic-io`` (module ``blackmagic_io``) needs the Desktop Video driver and a DeckLink card.
When it is missing, :func:`decklink_status` says so and :class:`DeckLinkOutput` refuses to
start with that message, so the console can grey SDI out and tell the operator why.

This module was written against the package's documented interface (``BlackmagicOutput``:
``initialize(device_index)``, ``display_static_frame(rgb, DisplayMode.X)``, ``update_frame(rgb)``)
without a card to test on; DeckLink output is unverified until someone runs it on hardware.
"""

from __future__ import annotations

import importlib
from fractions import Fraction
from types import ModuleType

import numpy as np
from numpy.typing import NDArray

from vpstage.nodes.outputs import OutputInfo

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


class DeckLinkOutput:
    """One canvas played out of one DeckLink device (a ``vpstage.nodes.CanvasOutput``)."""

    def __init__(self, canvas: str, device_index: int, rate: Fraction) -> None:
        module, reason = _load()
        if module is None:
            raise OutputUnavailable(reason)
        name = f"HD1080p{_MODE_SUFFIX.get(rate, '')}"
        self.mode = getattr(module.DisplayMode, name, None)
        if self.mode is None:
            raise OutputUnavailable(f"no DeckLink display mode {name} for {rate} fps")
        self.canvas, self.device_index = canvas, device_index
        self._output = module.BlackmagicOutput()
        if not self._output.initialize(device_index=device_index):
            raise OutputUnavailable(f"DeckLink device {device_index} (canvas {canvas}) did not initialise")
        self._started = False
        self.frames_sent = 0

    def send(self, pixels: NDArray[np.uint8], timecode_100ns: int) -> None:
        """Play one frame: ``pixels`` (H, W, 4) BGRX (the node packs SDI canvases as BGRX)."""
        if pixels.ndim != 3 or pixels.shape[2] != 4:
            raise OutputUnavailable(f"canvas {self.canvas}: DeckLink output takes BGRX, not shape {pixels.shape}")
        rgb = np.ascontiguousarray(pixels[..., 2::-1])
        ok = self._output.update_frame(rgb) if self._started else self._output.display_static_frame(rgb, self.mode)
        if not ok:
            raise OutputUnavailable(f"DeckLink device {self.device_index} refused a frame of canvas {self.canvas}")
        self._started = True
        self.frames_sent += 1

    def info(self) -> OutputInfo:
        return OutputInfo(canvas=self.canvas, kind="sdi", name=f"DeckLink {self.device_index}", address=None,
                          detail=f"{self.frames_sent} frames sent")

    def close(self) -> None:
        self._output.__exit__(None, None, None)
