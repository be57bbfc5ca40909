"""Open, save and save-as for the console window, through the core's validated atomic save.

A project with errors is never written: the problems are listed in the Problems panel and in a
message box (non-blocking), and the file on disk stays as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMessageBox

from vpstage.config import ConfigError, Problem
from vpstage.stage.document import StageDocument

if TYPE_CHECKING:
    from ui.window_api import ConsoleWindowApi

FILE_FILTER = "Stage projects (*.yaml *.yml);;All files (*)"
MAX_LISTED = 15


def show_problems(window: ConsoleWindowApi, title: str, text: str, problems: list[Problem]) -> QMessageBox:
    """A window-modal but non-blocking message box listing problems (returned for tests)."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, window)
    lines = [p.format() for p in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append(f"... and {len(problems) - MAX_LISTED} more (see the Problems panel)")
    box.setInformativeText("\n".join(lines))
    box.setObjectName("problemsBox")
    box.open()
    return box


def open_project(window: ConsoleWindowApi, path: str | Path | None = None) -> bool:
    """Open a project file in the window (asks for one when ``path`` is None)."""
    if not window.confirm_discard():
        return False
    if path is None:
        start = str(window.document.path.parent) if window.document and window.document.path else ""
        chosen, _ = QFileDialog.getOpenFileName(window, "Open stage project", start, FILE_FILTER)
        if not chosen:
            return False
        path = chosen
    try:
        document = StageDocument.open(path)
    except ConfigError as exc:
        show_problems(window, "Cannot open project", f"{path} could not be loaded:", exc.problems)
        return False
    window.install_document(document, rehearsal=False)
    window.status.say(f"opened {path}")
    return True


def save(window: ConsoleWindowApi) -> bool:
    """Save to the document's file; untitled documents (rehearsal) go through save-as."""
    assert window.document is not None
    if window.document.path is None:
        return save_as(window)
    return _write(window, None)


def save_as(window: ConsoleWindowApi, path: str | Path | None = None) -> bool:
    """Save under a new name (asks for one when ``path`` is None)."""
    assert window.document is not None
    if path is None:
        doc = window.document
        start = str(doc.path) if doc.path else str(Path.home() / f"{doc.project.name.replace(' ', '_')}.yaml")
        chosen, _ = QFileDialog.getSaveFileName(window, "Save stage project as", start, FILE_FILTER)
        if not chosen:
            return False
        path = chosen
    return _write(window, Path(path))


def _write(window: ConsoleWindowApi, path: Path | None) -> bool:
    doc = window.document
    assert doc is not None
    try:
        result = doc.save(path)
    except ConfigError as exc:
        problems = doc.validate()
        errors = [p for p in problems if p.severity == "error"] or exc.problems
        show_problems(window, "Not saved", f"The project has {len(errors)} error(s); nothing was written.", errors)
        window.status.say("not saved: fix the errors listed in the Problems panel")
        return False
    except OSError as exc:
        show_problems(window, "Not saved", f"Could not write {path or doc.path}: {exc.strerror or exc}", [])
        return False
    if result.rebased is not None:
        # Undo history holds paths relative to the old folder; replaying it here would break them.
        window.stack.clear()
        window.status.say(f"saved {result.path}; file paths rewritten for the new folder (undo history cleared)")
    else:
        window.status.say(f"saved {result.path}")
    window.stack.setClean()
    window.update_title()
    return True
