"""FileActions: open, save, save-as and quit, through the core's validated atomic save.

They act on the ``DocumentEditor`` of the project shown (its document and undo stack; ``bind``
follows the window to the next project). Opening a project asks ``may_discard()`` first and hands
the loaded document to ``open_document``: the window decides what showing it means.

A project with errors is never written: the problems are listed in the Problems panel and in a
message box (non-blocking), and the file on disk stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ui.action_group import ActionGroup
from ui.commands import DocumentEditor
from vpstage.config import ConfigError, Problem
from vpstage.stage.document import StageDocument

FILE_FILTER = "Stage projects (*.yaml *.yml);;All files (*)"
MAX_LISTED = 15
Keys = QKeySequence.StandardKey


def show_problems(parent: QWidget, title: str, text: str, problems: list[Problem]) -> QMessageBox:
    """A window-modal but non-blocking message box listing problems (returned for tests)."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
    lines = [p.format() for p in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append(f"... and {len(problems) - MAX_LISTED} more (see the Problems panel)")
    box.setInformativeText("\n".join(lines))
    box.setObjectName("problemsBox")
    box.open()
    return box


def default_save_path(document: StageDocument) -> Path:
    """Where save-as starts: the document's file, else ``~/<project name>.yaml``."""
    return document.path or Path.home() / f"{document.project.name.replace(' ', '_')}.yaml"


class FileActions(ActionGroup):
    def __init__(self, host: QWidget, open_document: Callable[[StageDocument], None],
                 may_discard: Callable[[], bool]) -> None:
        super().__init__(host)
        self._open_document, self._may_discard = open_document, may_discard
        self._editor: DocumentEditor | None = None
        self.open = self.action("&Open project…", Keys.Open, self.open_project)
        self.save_action = self.action("&Save", Keys.Save, self.save)
        self.save_as_action = self.action("Save &as…", "Ctrl+Shift+S", self.save_as)
        self.quit = self.action("&Quit", "Ctrl+Q", host.close)

    def bind(self, editor: DocumentEditor) -> None:
        """Save through ``editor`` (its document and undo stack) from now on."""
        self._editor = editor

    def _bound(self) -> DocumentEditor:
        assert self._editor is not None, "FileActions.bind() first"
        return self._editor

    def open_project(self, path: str | Path | None = None) -> bool:
        """Open a project file (asks for one when ``path`` is None) and hand it to ``open_document``."""
        if not self._may_discard():
            return False
        if path is None:
            current = self._editor.document.path if self._editor is not None else None
            chosen, _ = QFileDialog.getOpenFileName(self.host, "Open stage project",
                                                    str(current.parent) if current else "", FILE_FILTER)
            if not chosen:
                return False
            path = chosen
        try:
            document = StageDocument.open(path)
        except ConfigError as exc:
            show_problems(self.host, "Cannot open project", f"{path} could not be loaded:", exc.problems)
            return False
        self._open_document(document)
        self.message.emit(f"opened {path}")
        return True

    def save(self) -> bool:
        """Save to the document's file; untitled documents (rehearsal) go through save-as."""
        if self._bound().document.path is None:
            return self.save_as()
        return self._write(None)

    def save_as(self, path: str | Path | None = None) -> bool:
        """Save under a new name (asks for one when ``path`` is None)."""
        if path is None:
            start = str(default_save_path(self._bound().document))
            chosen, _ = QFileDialog.getSaveFileName(self.host, "Save stage project as", start, FILE_FILTER)
            if not chosen:
                return False
            path = chosen
        return self._write(Path(path))

    def _write(self, path: Path | None) -> bool:
        editor = self._bound()
        doc = editor.document
        try:
            result = doc.save(path)
        except ConfigError as exc:
            errors = [p for p in doc.validate() if p.severity == "error"] or exc.problems
            show_problems(self.host, "Not saved", f"The project has {len(errors)} error(s); nothing was written.",
                          errors)
            self.message.emit("not saved: fix the errors listed in the Problems panel")
            return False
        except OSError as exc:
            show_problems(self.host, "Not saved", f"Could not write {path or doc.path}: {exc.strerror or exc}", [])
            return False
        if result.rebased is not None:
            # Undo history holds paths relative to the old folder; replaying it here would break them.
            editor.stack.clear()
            self.message.emit(f"saved {result.path}; file paths rewritten for the new folder (undo history cleared)")
        else:
            self.message.emit(f"saved {result.path}")
        editor.stack.setClean()
        return True
