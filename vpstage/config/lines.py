"""Where values came from: a path -> line index for one parsed document."""

from __future__ import annotations

from vpstage.config.problems import Path as KeyPath
from vpstage.config.problems import Problem


class LineIndex:
    """Path -> line lookup; falls back to the nearest ancestor that has a line."""

    def __init__(self, file: str | None) -> None:
        self.file = file
        self._lines: dict[KeyPath, int] = {}
        self.values = 0
        """How many values the document held (aliases and merge keys expanded), as read."""

    def set(self, path: KeyPath, line: int) -> None:
        self._lines[path] = line

    def line(self, path: KeyPath) -> int | None:
        for cut in range(len(path), -1, -1):
            found = self._lines.get(tuple(path[:cut]))
            if found is not None:
                return found
        return None

    def problem(self, path: KeyPath, message: str, severity: str = "error") -> Problem:
        return Problem(path=tuple(path), message=message, file=self.file, line=self.line(tuple(path)),
                       severity="warning" if severity == "warning" else "error")
