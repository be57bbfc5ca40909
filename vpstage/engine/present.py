"""The output side of the loop: where presented canvases go (NDI, SDI, previews).

Implementations live in ``devices/outputs``; the loop only knows this protocol. ``present`` is
called on the loop's thread, once per canvas per frame, after the swap barrier released, with the
canvas's fresh picture or its repeated previous one. It must not block for long: senders queue
or send asynchronously.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vpstage.engine.jobs import CanvasImage
from vpstage.timing import FrameTick


@dataclass(frozen=True)
class OutputInfo:
    """One output, for the report and the console."""

    canvas: str
    kind: str
    """'ndi', 'sdi', ..."""
    name: str
    address: str | None
    detail: str = ""


class Presenter(Protocol):
    def present(self, canvas: str, image: CanvasImage, tick: FrameTick) -> None:
        """Send ``image`` (H, W, 4) uint8 BGRX, which stays unchanged afterwards, as frame ``tick``."""
        ...

    def outputs(self) -> list[OutputInfo]: ...

    def close(self) -> None: ...
