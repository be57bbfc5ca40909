"""YAML loading that remembers where every value came from.

``parse_yaml`` builds plain Python data from a YAML document together with a ``LineIndex``
mapping each value's path (``("sections", 0, "radius_m")``) to its 1-based line. Pydantic
validation errors and semantic checks are then reported as ``file:line: field.path: message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from vpstage.config.problems import ConfigError, PathPart, Problem
from vpstage.config.problems import Path as KeyPath

M = TypeVar("M", bound=BaseModel)


class LineIndex:
    """Path -> line lookup; falls back to the nearest ancestor that has a line."""

    def __init__(self, file: str | None) -> None:
        self.file = file
        self._lines: dict[KeyPath, int] = {}

    def set(self, path: KeyPath, line: int) -> None:
        self._lines[path] = line

    def line(self, path: KeyPath) -> int | None:
        for cut in range(len(path), -1, -1):
            found = self._lines.get(tuple(path[:cut]))
            if found is not None:
                return found
        return None

    def problem(self, path: KeyPath, message: str, severity: str = "error") -> Problem:
        return Problem(tuple(path), message, self.file, self.line(tuple(path)),
                       "warning" if severity == "warning" else "error")


class _Builder:
    """Turns a composed YAML node tree into data, recording lines and duplicate keys."""

    def __init__(self, index: LineIndex) -> None:
        self.index = index
        self.problems: list[Problem] = []
        self._constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.index.set(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._constructor.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)):
                    key = str(key)
                if key in out:
                    self.problems.append(Problem(path + (key,), "duplicate key", self.index.file,
                                                 key_node.start_mark.line + 1))
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self._constructor.construct_object(node, deep=True)


def parse_yaml(text: str, file: str | None = None) -> tuple[Any, LineIndex]:
    """Parse one YAML document. Raises ConfigError (with the line) on malformed YAML."""
    index = LineIndex(file)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = f"malformed YAML: {exc.problem or exc}"
        if exc.context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
            context = exc.context.removeprefix("while parsing ").removeprefix("a ")
            message += f" (in the {context} that starts on line {exc.context_mark.line + 1})"
        raise ConfigError([Problem((), message, file, line)]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([Problem((), f"malformed YAML: {exc}", file, None)]) from exc
    if node is None:
        return None, index
    builder = _Builder(index)
    data = builder.build(node, ())
    if builder.problems:
        raise ConfigError(builder.problems)
    return data, index


def load_yaml(path: str | Path) -> tuple[Any, LineIndex]:
    """Read and parse a YAML file; a missing or unreadable file is a ConfigError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem((), f"cannot read file: {exc.strerror or exc}", str(p), None)]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem((), f"not UTF-8 text: {exc}", str(p), None)]) from exc
    return parse_yaml(text, str(p))


def _data_path(loc: tuple[PathPart, ...], data: Any) -> KeyPath:
    """Map a pydantic error location onto the data: drop union tags ('flat', 'arc', ...) that are
    not data keys, and keep the name of a field that is missing or not allowed."""
    out: list[PathPart] = []
    cursor = data

    def has(container: Any, key: PathPart) -> bool:
        if isinstance(container, Mapping):
            return key in container
        return isinstance(container, list) and isinstance(key, int) and 0 <= key < len(container)

    for i, part in enumerate(loc):
        if has(cursor, part):
            out.append(part)
            cursor = cursor[part]
        elif i + 1 < len(loc) and has(cursor, loc[i + 1]):
            continue  # a discriminator tag or model name inserted by pydantic
        else:
            out.extend(loc[i:])
            break
    return tuple(out)


def validation_problems(exc: ValidationError, data: Any, index: LineIndex) -> list[Problem]:
    """Convert pydantic errors into located problems."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
        path = _data_path(loc, data)
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling)"
        problems.append(index.problem(path, message))
    return problems


def validate_model(model: type[M], data: Any, index: LineIndex) -> M:
    """Validate ``data`` against ``model``; all problems come back at once in a ConfigError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, data, index)) from exc
