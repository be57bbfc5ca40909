"""Why the engine did not start (or ended before its first frame), in the two forms the console
shows it: one line for the toolbar, the status bar and the alarm strip, and the full text for the
details pane and the log file (Qt-free).

*Expected* failures are the operator's to fix: the project breaks a validation rule, a render node
could not build itself, a scene file is missing, a port is taken, NDI is not there. They are
reported in the console and logged to the console's log file, never as a traceback on the
terminal. Anything else is a bug: reported the same way, with its traceback in the log file.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from vpstage.config import ConfigError, Problem
from vpstage.frame_master import WorkerStartError
from vpstage.takes.database import TakeDatabaseError
from vpstage.takes.recorder import RecorderError

SUMMARY_CHARS = 160
"""A summary never runs longer than this (widgets elide it further to the room they have)."""
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (ConfigError, WorkerStartError, TakeDatabaseError,
                                                     RecorderError, OSError, ValueError)
EXPECTED_ERROR_NAMES = frozenset({"AssetError", "NdiUnavailable", "CanvasError", "WorkerStartError",
                                  "ConfigError"})
"""Expected errors of render/ and devices/, matched by class name so the console does not import
those packages (and what they import) before an engine is built; also what a loop's error text
names (``error: WorkerStartError: ...``)."""


@dataclass(frozen=True, kw_only=True)
class EngineFailure:
    summary: str
    """One line, at most ``SUMMARY_CHARS``: what went wrong and how much of it."""
    details: str
    """Everything, one problem a line (what the details pane and the log show)."""
    kind: str
    """The exception's class name (``ConfigError``, ``WorkerStartError``, ...)."""
    expected: bool
    """True when the operator can fix it (see the module docstring); False for a bug."""
    when: float
    """Wall-clock time (``time.time()``) it happened."""
    log_path: Path | None = None
    """The log file holding it (and its traceback), when the console keeps one."""

    def with_log(self, path: Path | None) -> EngineFailure:
        return replace(self, log_path=path)

    def full_text(self) -> str:
        """The details, the time and where the log is: what the details pane shows."""
        stamp = time.strftime("%H:%M:%S", time.localtime(self.when))
        where = f"\n\nLogged to {self.log_path}" if self.log_path is not None else ""
        return f"The engine did not start ({self.kind}, {stamp}):\n\n{self.details}{where}"


def is_expected(exc: BaseException) -> bool:
    """An error the operator can fix (see the module docstring)."""
    return isinstance(exc, EXPECTED_ERRORS) or any(c.__name__ in EXPECTED_ERROR_NAMES for c in type(exc).__mro__)


def one_line(text: str, limit: int = SUMMARY_CHARS) -> str:
    """``text`` on one line (its lines joined), cut with an ellipsis at ``limit`` characters."""
    flat = " ".join(part.strip() for part in text.splitlines() if part.strip())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _problem_text(problem: Problem) -> str:
    """A problem without the ``<memory>`` placeholder of a project that is not on disk."""
    text = problem.format()
    return text.removeprefix("<memory>: ")


def _lines_summary(lines: Sequence[str], one: str, many: str) -> str:
    if len(lines) == 1:
        return one_line(f"{one}: {lines[0]}")
    return one_line(f"{len(lines)} {many}: {lines[0]} (+{len(lines) - 1} more)")


def failure_from_exception(exc: BaseException, when: float | None = None) -> EngineFailure:
    """The failure an exception raised by an engine start describes."""
    kind = type(exc).__name__
    stamp = time.time() if when is None else when
    if isinstance(exc, ConfigError) and exc.problems:
        errors = [p for p in exc.problems if p.severity == "error"] or list(exc.problems)
        lines = [_problem_text(p) for p in errors]
        summary = _lines_summary(lines, "a problem in the project", "problems in the project")
        return EngineFailure(summary=summary, details="\n".join(_problem_text(p) for p in exc.problems), kind=kind,
                             expected=True, when=stamp)
    return failure_from_text(kind, str(exc) or kind, is_expected(exc), stamp)


def failure_from_text(kind: str, text: str, expected: bool, when: float | None = None) -> EngineFailure:
    lines = [line.strip() for line in text.splitlines() if line.strip()] or [kind]
    summary = one_line(f"{kind}: {lines[0]}" + (f" (+{len(lines) - 1} more)" if len(lines) > 1 else ""))
    return EngineFailure(summary=summary, details="\n".join(lines), kind=kind, expected=expected,
                         when=time.time() if when is None else when)


def failure_from_loop_error(reason: str, when: float | None = None) -> EngineFailure:
    """The failure a frame loop reports when it ends on an error before its first frame
    (``error: WorkerStartError: node n1: ...``: a render node could not build itself)."""
    text = reason.removeprefix("error:").strip()
    kind, sep, rest = text.partition(": ")
    if not sep or not kind.isidentifier():
        return failure_from_text("FrameLoopError", text or reason, False, when)
    return failure_from_text(kind, rest, kind in EXPECTED_ERROR_NAMES, when)

