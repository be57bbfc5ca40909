"""Problems found in config files, reported as ``file:line: field.path: message``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

PathPart = str | int
Path = tuple[PathPart, ...]


def format_path(path: Sequence[PathPart]) -> str:
    """``("sections", 2, "radius_m")`` -> ``sections[2].radius_m``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One finding. ``line`` is 1-based, or None when it has no place in a file."""

    path: Path
    message: str
    file: str | None = None
    line: int | None = None
    severity: Literal["error", "warning"] = "error"

    def format(self) -> str:
        where = self.file or "<memory>"
        if self.line is not None:
            where += f":{self.line}"
        tag = "" if self.severity == "error" else "warning: "
        return f"{where}: {format_path(self.path)}: {tag}{self.message}"


class ConfigError(Exception):
    """Raised with every problem found in one go."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))
