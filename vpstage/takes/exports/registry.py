"""Export formats: each is one function registered under a name.

A writer takes a :class:`TakeExport` (the take, its frames, the stage YAML it was recorded with)
and a target path, and writes the file atomically. Adding a format is one decorated function::

    @export_format("myformat", suffix=".txt", description="...")
    def write_myformat(export: TakeExport, path: Path) -> None: ...

plus importing its module in ``vpstage/takes/exports/__init__.py``. A writer walks the frames
through ``export.reporting(frames)`` so that a long export says how far it is (``progress``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from vpstage.takes.frame_records import FrameRecord, TakeInfo

T = TypeVar("T")
ExportProgress = Callable[[int, int], None]
"""(items written, items in all), called on the writer's thread."""


class ExportError(Exception):
    """The take cannot be written in the requested format (the message says why)."""


@dataclass(frozen=True)
class TakeExport:
    """What a writer gets: the take, its frames in frame order, its stage configuration YAML, and
    whom to tell how far the writing is (``reporting``)."""

    take: TakeInfo
    frames: Sequence[FrameRecord]
    stage_yaml: str | None = None
    progress: ExportProgress | None = None

    def reporting(self, items: Sequence[T], passes: int = 1, pass_index: int = 0) -> Iterator[T]:
        """``items`` one by one, telling ``progress`` after each; a writer that walks the frames
        ``passes`` times (once per camera) counts them all: (``pass_index`` x len + i + 1, ``passes`` x len)."""
        total = passes * len(items)
        for i, item in enumerate(items, start=pass_index * len(items) + 1):
            yield item
            if self.progress is not None:
                self.progress(i, total)


Writer = Callable[[TakeExport, Path], None]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    suffix: str
    """Usual file name ending (the writer may accept others)."""
    description: str
    write: Writer


FORMATS: dict[str, ExportFormat] = {}


def export_format(name: str, *, suffix: str, description: str) -> Callable[[Writer], Writer]:
    """Register the decorated function as the writer for ``name``."""

    def register(write: Writer) -> Writer:
        if name in FORMATS:
            raise ValueError(f"export format {name!r} is registered twice")
        FORMATS[name] = ExportFormat(name, suffix, description, write)
        return write

    return register
