"""Exporting a recorded take from the console (Takes panel → Export…): the format is chosen with the
file name (one save dialog whose filters are ``vpstage.takes.exports.FORMATS``), and the export
runs as a ``BackgroundJob`` (its progress and Cancel in the status bar) with the same writers and
progress callback as ``main.py takes export``.

The job opens its own ``TakeLibrary`` on the takes database (SQLite connections stay on the thread
that opened them; WAL readers never block the recorder), so a take can be exported while the
engine records the next one.
"""

from __future__ import annotations

from pathlib import Path

from ui.background_job import BackgroundJob, Progress
from vpstage.takes import TakeLibrary
from vpstage.takes.database import TakeDatabaseError
from vpstage.takes.exports import FORMATS, ExportError, export_take


def export_filters() -> dict[str, str]:
    """Save-dialog filter -> export format, in the registry's order."""
    return {f"{fmt.name} export (*{fmt.suffix})": name for name, fmt in FORMATS.items()}


def with_suffix(path: Path, fmt: str) -> Path:
    """``path`` ending as the format's files usually do (a name typed without it gets it)."""
    return path if path.suffix else path.with_suffix(FORMATS[fmt].suffix)


def take_export_job(library_path: Path, take_id: int, take_name: str, fmt: str, path: Path) -> BackgroundJob:
    """A (not yet started) job writing take ``take_id`` of the database at ``library_path`` to ``path``."""

    def work(progress: Progress) -> str:
        library = TakeLibrary(library_path, recover=False)  # recovery is the panel's library's business
        try:
            written = export_take(library, take_id, fmt, path, progress=progress)
        finally:
            library.close()
        return f"wrote {fmt} export of {take_name} to {written}"

    return BackgroundJob(f"export {take_name} ({fmt})", work, expected=(ExportError, TakeDatabaseError, OSError))
