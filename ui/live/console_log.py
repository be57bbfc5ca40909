"""The console's log file: what the engine and the console log (INFO and above, with tracebacks)
goes to ``logs/console.log`` in the project's folder, or in the console's config folder while the
document has no file (rehearsal). The terminal gets only errors that are not the operator's to fix
(bugs), one line each with the log file named; expected failures (a project that does not
validate, a render node that could not build) are logged at WARNING and never reach it.

``ConsoleLog.install()`` puts its handlers on the root logger (the console process does this once,
in ``ui.app.run_console``), routes Python warnings into the log (``py.warnings``) and holds the
chatty third-party libraries at the levels the CLI holds them at (``vpstage.logs``:
``throttle_libraries``, ``LibraryRecords``); ``follow(document_path)`` moves the file when another
project opens; ``close()`` undoes all of it. The file is created on the first record (nothing is
written into a project folder until there is something to say) and rotated at ``MAX_BYTES``.
Help → Open log folder (``ui.help_actions``) opens its folder, for a log to send with a bug report.
"""

from __future__ import annotations

import io
import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TextIO

from ui.settings import config_dir
from vpstage.logs import LibraryRecords, LibraryThrottle, throttle_libraries

LOG_NAME = Path("logs") / "console.log"
MAX_BYTES = 2_000_000
BACKUPS = 3
FILE_FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"


def console_log_path(document_path: Path | None) -> Path:
    """Where the console logs for a document: beside its project file, else in the config folder."""
    folder = Path(document_path).resolve().parent if document_path is not None else config_dir()
    return folder / LOG_NAME


class _LazyFileHandler(RotatingFileHandler):
    """Opens (and creates the folder of) its file on the first record only."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=BACKUPS, encoding="utf-8", delay=True)

    def _open(self) -> io.TextIOWrapper:
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


class _TerminalFormatter(logging.Formatter):
    """One line, no traceback: the log file has it."""

    def __init__(self, log: ConsoleLog) -> None:
        super().__init__()
        self._log = log

    def format(self, record: logging.LogRecord) -> str:
        first = record.getMessage().splitlines()[0] if record.getMessage() else record.levelname
        return f"vpstage: {first} (details in {self._log.path})"


class ConsoleLog:
    def __init__(self, path: Path, terminal: TextIO | None = None, max_bytes: int = MAX_BYTES) -> None:
        """``max_bytes``: the file is rotated when it would grow past this (``console.log.1`` …
        ``console.log.<BACKUPS>`` keep the older records)."""
        self.path = Path(path)
        self._max_bytes = max_bytes
        self._file = self._file_handler(self.path, max_bytes)
        self._terminal = logging.StreamHandler(terminal if terminal is not None else sys.stderr)
        self._terminal.setLevel(logging.ERROR)
        self._terminal.setFormatter(_TerminalFormatter(self))
        self._terminal.addFilter(LibraryRecords())
        self._logger: logging.Logger | None = None
        self._level = logging.NOTSET
        self._throttle = LibraryThrottle()

    @classmethod
    def for_document(cls, document_path: Path | None, terminal: TextIO | None = None,
                     max_bytes: int = MAX_BYTES) -> ConsoleLog:
        """The log for a document's folder (``console_log_path``)."""
        return cls(console_log_path(document_path), terminal, max_bytes)

    @staticmethod
    def _file_handler(path: Path, max_bytes: int) -> logging.Handler:
        handler = _LazyFileHandler(path, max_bytes)
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter(FILE_FORMAT))
        handler.addFilter(LibraryRecords())
        return handler

    def install(self, logger: logging.Logger | None = None) -> ConsoleLog:
        """Log through this file (and the terminal, errors only) from now on."""
        target = logger or logging.getLogger()
        self._logger, self._level = target, target.level
        if target.getEffectiveLevel() > logging.INFO:
            target.setLevel(logging.INFO)
        target.addHandler(self._file)
        target.addHandler(self._terminal)
        self._throttle = throttle_libraries()
        logging.captureWarnings(True)
        return self

    def follow(self, document_path: Path | None) -> None:
        """Log beside ``document_path`` from now on (the console opened another project)."""
        path = console_log_path(document_path)
        if path == self.path:
            return
        old, self._file = self._file, self._file_handler(path, self._max_bytes)
        self.path = path
        if self._logger is not None:
            self._logger.addHandler(self._file)
            self._logger.removeHandler(old)
        old.close()

    def close(self) -> None:
        if self._logger is not None:
            self._logger.removeHandler(self._file)
            self._logger.removeHandler(self._terminal)
            self._logger.setLevel(self._level)
            self._logger = None
            self._throttle.undo()
            logging.captureWarnings(False)
        self._file.close()
