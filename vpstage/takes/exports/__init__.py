"""Take exports for post: CSV, JSON, OpenTrackIO samples, USD camera track (see ``registry.py`` to add a
format)."""

from __future__ import annotations

from pathlib import Path

from vpstage.takes.exports import csv_export, json_export, opentrackio_export, usd_export
from vpstage.takes.exports.registry import (
    FORMATS,
    ExportError,
    ExportFormat,
    ExportProgress,
    TakeExport,
    export_format,
)
from vpstage.takes.library import TakeLibrary


def export_take(library: TakeLibrary, ref: str | int, fmt: str, path: str | Path,
                progress: ExportProgress | None = None) -> Path:
    """Write take ``ref`` from ``library`` to ``path`` in format ``fmt`` (a key of FORMATS);
    ``progress(frames written, frames in all)`` as it goes (``TakeExport.reporting``)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(sorted(FORMATS))}")
    take = library.get(ref)
    export = TakeExport(take, library.frames(take.id), library.stage_yaml(take.id), progress)
    target = Path(path)
    FORMATS[fmt].write(export, target)
    return target


__all__ = ["FORMATS", "ExportError", "ExportFormat", "ExportProgress", "TakeExport", "csv_export", "export_format",
           "export_take", "json_export", "opentrackio_export", "usd_export"]
