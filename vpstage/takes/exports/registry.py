"""Export formats: each is one function registered under a name.

A writer takes a :class:`TakeExport` (the take, its frames, the stage YAML it was recorded with)
and a target path, and writes the file atomically. Adding a format is one decorated function::

    @export_format("myformat", suffix=".txt", description="...")
    def write_myformat(export: TakeExport, path: Path) -> None: ...

plus importing its module in ``vpstage/takes/exports/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vpstage.takes.records import FrameRecord, TakeInfo


class ExportError(Exception):
    """The take cannot be written in the requested format (the message says why)."""


@dataclass(frozen=True)
class TakeExport:
    """What a writer gets: the take, its frames in frame order, and its stage configuration YAML."""

    take: TakeInfo
    frames: Sequence[FrameRecord]
    stage_yaml: str | None = None


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
