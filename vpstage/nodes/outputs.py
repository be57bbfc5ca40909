"""A render node's outputs: what each one is, and what the node's present step needs from it.

Implementations live in ``devices/outputs`` (NDI senders, DeckLink SDI); the node runtime
(``render.node``) opens one per canvas it renders now and hands each the canvas's pixels at the
frame's deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, kw_only=True)
class OutputInfo:
    """One output, for the report and the console."""

    canvas: str
    kind: str
    """'ndi', 'sdi', ..."""
    name: str
    address: str | None
    detail: str = ""


class CanvasOutput(Protocol):
    """One canvas's output (an NDI sender, a DeckLink output). Used from one thread."""

    def send(self, pixels: NDArray[np.uint8], timecode_100ns: int) -> None:
        """Send one frame: ``pixels`` is (H, W, 2) UYVY or (H, W, 4) BGRX, and stays untouched
        until the next ``send`` on this output returns (double buffering is the caller's)."""
        ...

    def info(self) -> OutputInfo: ...

    def close(self) -> None: ...
