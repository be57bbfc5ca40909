"""YAML loading that remembers where every value came from, within explicit limits.

``parse_yaml`` builds plain Python data from a YAML document together with a ``LineIndex``
mapping each value's path (``("sections", 0, "radius_m")``) to its 1-based line. Pydantic
validation errors and semantic checks are then reported as ``file:line: field.path: message``.

Parsing is bounded (:class:`YamlLimits`): the file size, the nesting depth, the length of one
scalar and the number of values built, aliases and merge keys (``<<``) expanded, are capped, and
integers must fit in 64 bits. Crossing a limit stops parsing at once with a located problem, so any
input is read in bounded time and memory (an alias "billion laughs" or merge-key bomb included).
The document is built from the parser's event stream without recursion.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from vpstage.config.fail_fast import fail_fast_model
from vpstage.config.lines import LineIndex
from vpstage.config.problems import ConfigError, PathPart, Problem
from vpstage.config.problems import Path as KeyPath
from vpstage.config.yaml_builder import DEFAULT_YAML_LIMITS, EventBuilder, LimitError, YamlLimits

__all__ = ["DEFAULT_YAML_LIMITS", "LineIndex", "YamlLimits", "load_yaml", "parse_yaml", "validate_model",
           "validation_problems"]

M = TypeVar("M", bound=BaseModel)

_MAX_REPORTED_PROBLEMS = 1000


def _events(text: str) -> Iterator[yaml.Event]:
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return iter(yaml.parse(text, Loader=loader_class))


def _malformed(exc: yaml.YAMLError, file: str | None, limits: YamlLimits) -> ConfigError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        if "maximum nesting depth" in str(exc.problem):  # libyaml's own cap, met before ours (flow style)
            return ConfigError([Problem(path=(),
                                        message=f"nested deeper than {limits.max_depth} levels (YAML limit max_depth)",
                                        file=file, line=line)])
        message = f"malformed YAML: {exc.problem or exc}"
        if exc.context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
            context = exc.context.removeprefix("while parsing ").removeprefix("a ")
            message += f" (in the {context} that starts on line {exc.context_mark.line + 1})"
        return ConfigError([Problem(path=(), message=message, file=file, line=line)])
    return ConfigError([Problem(path=(), message=f"malformed YAML: {exc}", file=file, line=None)])


def parse_yaml(text: str, file: str | None = None, limits: YamlLimits = DEFAULT_YAML_LIMITS) -> tuple[Any, LineIndex]:
    """Parse one YAML document. Raises ConfigError (located) on malformed YAML or a crossed limit."""
    if len(text) > limits.max_file_bytes:
        raise ConfigError([Problem(path=(),
                                   message=f"larger than {limits.max_file_bytes:,} bytes (YAML limit max_file_bytes)",
                                   file=file, line=None)])
    builder = EventBuilder(file, limits)
    try:
        for event in _events(text):
            builder.feed(event)
    except LimitError as exc:
        raise ConfigError(builder.problems[:_MAX_REPORTED_PROBLEMS] + [exc.problem]) from None
    except yaml.YAMLError as exc:
        raise _malformed(exc, file, limits) from None
    except UnicodeError as exc:
        raise ConfigError([Problem(path=(), message=f"not UTF-8 text: {exc}", file=file, line=None)]) from None
    if builder.problems:
        raise ConfigError(builder.problems[:_MAX_REPORTED_PROBLEMS])
    return builder.root, builder.index


def load_yaml(path: str | Path, limits: YamlLimits = DEFAULT_YAML_LIMITS) -> tuple[Any, LineIndex]:
    """Read and parse a YAML file; a missing, unreadable or oversized file is a ConfigError."""
    p = Path(path)
    try:
        if p.exists() and not p.is_file():  # a FIFO or a device could block or never end
            raise ConfigError([Problem(path=(), message="not a regular file", file=str(p), line=None)])
        with p.open("rb") as handle:
            raw = handle.read(limits.max_file_bytes + 1)
    except OSError as exc:
        raise ConfigError([Problem(path=(), message=f"cannot read file: {exc.strerror or exc}", file=str(p),
                                   line=None)]) from exc
    if len(raw) > limits.max_file_bytes:
        raise ConfigError([Problem(path=(),
                                   message=f"larger than {limits.max_file_bytes:,} bytes (YAML limit max_file_bytes)",
                                   file=str(p), line=None)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(path=(), message=f"not UTF-8 text: {exc}", file=str(p), line=None)]) from exc
    return parse_yaml(text, str(p), limits)


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
    """Convert pydantic errors into located problems (the first 1000; the count says the rest)."""
    problems = []
    for err in exc.errors(include_url=False)[:_MAX_REPORTED_PROBLEMS]:
        loc = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
        path = _data_path(loc, data)
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling)"
        problems.append(index.problem(path, message))
    hidden = exc.error_count() - len(problems)
    if hidden > 0:
        problems.append(Problem(path=(), message=f"{hidden:,} more problems not shown", file=index.file, line=None))
    return problems


FULL_REPORT_VALUES = 10_000
"""Documents up to this many values get every problem at once; larger ones are first checked with
each list stopping at its first problem (:mod:`vpstage.config.fail_fast`), so that a large file of
invalid items cannot make validation itself take gigabytes."""


def validate_model(model: type[M], data: Any, index: LineIndex) -> M:
    """Validate ``data`` against ``model``; the problems come back at once in a ConfigError."""
    if index.values > FULL_REPORT_VALUES:
        try:
            fail_fast_model(model).model_validate(data)
        except ValidationError as exc:
            problems = validation_problems(exc, data, index)
            problems.append(Problem(
                path=(), message=f"a large file ({index.values:,} values): each list and mapping was checked "
                                 "up to its first problem; fix these and validate again for more",
                file=index.file, line=None, severity="warning"))
            raise ConfigError(problems) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, data, index)) from exc
