"""Bounded YAML reading: plain data and a line index built from the parser's event stream.

No recursion (the nesting depth is capped, and the data is built with an explicit stack), no
expansion beyond the value budget: an alias or a merge key (``<<``) costs as many values as it
copies, so an alias "billion laughs" or a merge-key bomb stops at ``max_values`` with a located
problem. Integers must fit in 64 bits; one scalar may not exceed ``max_scalar_chars``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from vpstage.config.lines import LineIndex
from vpstage.config.problems import Path as KeyPath
from vpstage.config.problems import Problem

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_INT_LIMIT = 1 << 63
_MAX_INT_CHARS = 80  # longer than any 64-bit integer in any YAML spelling (binary with '_' aside)
_INT_RANGE = "integer out of range (integers must fit in 64 bits)"
_CACHE_SIZE = 65_536  # plain scalars whose type and value are remembered (names, small numbers repeat)
_CACHE_CHARS = 64


@dataclass(frozen=True)
class YamlLimits:
    """Caps on one YAML document (the defaults fit the largest real stage files many times over)."""

    max_file_bytes: int = 8 << 20
    """Size of the file (or text), bytes."""
    max_depth: int = 32
    """Nesting of mappings and sequences (a stage file needs 6)."""
    max_scalar_chars: int = 65_536
    """Characters in one scalar (a name, a note, a number)."""
    max_values: int = 500_000
    """Values built in all: every scalar, key, mapping and sequence, counting every copy an alias or
    a merge key (``<<``) makes."""


DEFAULT_YAML_LIMITS = YamlLimits()

class LimitError(Exception):
    """A limit was crossed or the document cannot be read on: parsing stops with this problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(kw_only=True)
class _Frame:
    """A mapping or sequence being built."""

    path: KeyPath
    value: dict[Any, Any] | list[Any]
    line: int
    anchor: str | None
    values_start: int
    key: Any = None
    key_line: int = 0
    has_key: bool = False
    merging: bool = False
    merges: list[tuple[Any, int]] = field(default_factory=list)


@dataclass(frozen=True)
class _Anchor:
    """An anchored value and how many values it holds (what each alias of it costs)."""

    value: Any
    size: int


class EventBuilder:
    """Turns parser events into data, recording lines, anchors, merges and problems.

    Call :meth:`feed` with every event; ``root`` is the document, ``index`` its lines, ``problems``
    what was wrong but let reading go on (duplicate keys, unreadable values). Raises LimitError.
    """

    def __init__(self, file: str | None, limits: YamlLimits) -> None:
        self.index = LineIndex(file)
        self.limits = limits
        self.problems: list[Problem] = []
        self.root: Any = None
        self._constructor = SafeConstructor()
        self._resolver = yaml.resolver.Resolver()
        self._anchors: dict[str, _Anchor] = {}
        self._open_anchors: set[str] = set()
        self._stack: list[_Frame] = []
        self._values = 0
        self._documents = 0
        self._cache: dict[tuple[str, tuple[bool, bool]], tuple[str, Any]] = {}

    # ------------------------------------------------------------------ bookkeeping

    def _stop(self, path: KeyPath, line: int, message: str) -> LimitError:
        return LimitError(Problem(path=path, message=message, file=self.index.file, line=line))

    def _problem(self, path: KeyPath, line: int, message: str) -> None:
        self.problems.append(Problem(path=path, message=message, file=self.index.file, line=line))

    def _charge(self, count: int, path: KeyPath, line: int) -> None:
        self._values += count
        self.index.values = self._values
        if self._values > self.limits.max_values:
            raise self._stop(path, line, f"more than {self.limits.max_values:,} values in the document, aliases and "
                             "merge keys expanded (YAML limit max_values; an alias bomb?)")

    def _child_path(self) -> KeyPath | None:
        """Where the next value goes; None when it is a mapping key."""
        if not self._stack:
            return ()
        top = self._stack[-1]
        if isinstance(top.value, list):
            return top.path + (len(top.value),)
        if not top.has_key:
            return None
        return top.path + (("<<",) if top.merging else (top.key,))

    # ------------------------------------------------------------------ events

    def feed(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.ScalarEvent):
            self._scalar(event, line)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self._start(event, line)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            self._end()
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event, line)
        elif isinstance(event, yaml.DocumentStartEvent):
            self._documents += 1
            if self._documents > 1:
                raise self._stop((), line, "a file holds one YAML document; a second one starts here")

    def _scalar(self, event: yaml.ScalarEvent, line: int) -> None:
        path = self._child_path()
        where = path if path is not None else self._stack[-1].path
        if len(event.value) > self.limits.max_scalar_chars:
            raise self._stop(where, line, f"a value longer than {self.limits.max_scalar_chars:,} characters "
                             "(YAML limit max_scalar_chars)")
        self._charge(1, where, line)
        tag, value = self._typed(event, where, line)
        if event.anchor is not None:
            self._anchors[str(event.anchor)] = _Anchor(value, 1)
        if path is None:
            self._set_key(value, tag == _MERGE_TAG, line)
        else:
            self.index.set(path, line)
            self._attach(value, path, line)

    def _typed(self, event: yaml.ScalarEvent, where: KeyPath, line: int) -> tuple[str, Any]:
        """(tag, value) of a scalar; plain scalars seen before come from a small cache."""
        if event.tag is not None and event.tag != "!":
            return str(event.tag), self._construct(str(event.tag), event, where, line)
        key = (event.value, event.implicit)
        known = self._cache.get(key)
        if known is not None:
            return known
        tag = str(self._resolver.resolve(yaml.ScalarNode, event.value, event.implicit))  # type: ignore[no-untyped-call]
        problems = len(self.problems)
        value = self._construct(tag, event, where, line)
        if len(self.problems) == problems and len(event.value) <= _CACHE_CHARS and len(self._cache) < _CACHE_SIZE:
            self._cache[key] = (tag, value)
        return tag, value

    def _construct(self, tag: str, event: yaml.ScalarEvent, where: KeyPath, line: int) -> Any:
        if tag == _STR_TAG:
            return event.value
        if tag == _MERGE_TAG:
            return "<<"
        if tag == _INT_TAG and len(event.value) > _MAX_INT_CHARS:
            self._problem(where, line, _INT_RANGE)
            return None
        constructor = SafeConstructor.yaml_constructors.get(tag)
        if constructor is None:
            self._problem(where, line, f"unsupported YAML tag {tag!r}")
            return None
        node = yaml.ScalarNode(tag, event.value, None, None, style=event.style)
        try:
            value = constructor(self._constructor, node)
        except (yaml.YAMLError, ValueError, OverflowError, TypeError) as exc:
            self._problem(where, line, f"unreadable value {event.value[:40]!r}: {exc}")
            return None
        if isinstance(value, int) and not isinstance(value, bool) and not -_INT_LIMIT <= value < _INT_LIMIT:
            self._problem(where, line, _INT_RANGE)
            return None
        return value

    def _alias(self, event: yaml.AliasEvent, line: int) -> None:
        path = self._child_path()
        where = path if path is not None else self._stack[-1].path
        name = str(event.anchor)
        anchor = self._anchors.get(name)
        if anchor is None:
            why = ("it is used inside its own anchor" if name in self._open_anchors
                   else "no anchor of that name before it")
            raise self._stop(where, line, f"unknown alias *{name} ({why})")
        self._charge(anchor.size, where, line)
        if path is None:
            self._set_key(anchor.value, False, line)
        else:
            self.index.set(path, line)  # what lies inside is located here too: where the copy is used
            self._attach(anchor.value, path, line)

    def _set_key(self, key: Any, merge: bool, line: int) -> None:
        top = self._stack[-1]
        if not isinstance(key, (str, int, float, bool)):
            key = str(key)
        top.key, top.key_line, top.has_key, top.merging = key, line, True, merge

    def _start(self, event: yaml.CollectionStartEvent, line: int) -> None:
        path = self._child_path()
        if path is None:  # a mapping or sequence used as a key: read it, then use its text
            path = self._stack[-1].path + ("?",)
        if len(self._stack) >= self.limits.max_depth:
            raise self._stop(path, line, f"nested deeper than {self.limits.max_depth} levels (YAML limit max_depth)")
        self._charge(1, path, line)
        if event.tag not in (None, "!", _MAP_TAG, _SEQ_TAG):
            self._problem(path, line, f"unsupported YAML tag {event.tag!r}")
        container: dict[Any, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
        anchor = None if event.anchor is None else str(event.anchor)
        if anchor is not None:
            self._open_anchors.add(anchor)
        self.index.set(path, line)
        self._stack.append(_Frame(path=path, value=container, line=line, anchor=anchor, values_start=self._values - 1))

    def _end(self) -> None:
        frame = self._stack.pop()
        if isinstance(frame.value, dict) and frame.merges:
            self._merge(frame)
        if frame.anchor is not None:
            self._open_anchors.discard(frame.anchor)
            self._anchors[frame.anchor] = _Anchor(frame.value, self._values - frame.values_start)
        if self._stack and self._child_path() is None:
            self._set_key(frame.value, False, frame.line)
        else:
            self._attach(frame.value, frame.path, frame.line)

    def _attach(self, value: Any, path: KeyPath, line: int) -> None:
        """Put a finished value into its parent (or make it the document)."""
        if not self._stack:
            self.root = value
            return
        top = self._stack[-1]
        if isinstance(top.value, list):
            top.value.append(value)
            return
        if top.merging:
            top.merges.append((value, top.key_line))
        else:
            if top.key in top.value:
                self._problem(path, top.key_line, "duplicate key")
            top.value[top.key] = value
        top.has_key = top.merging = False

    def _merge(self, frame: _Frame) -> None:
        """Apply ``<<`` keys: keys written in the mapping win, then the earlier merged mappings. A
        merged key is located on its ``<<`` line."""
        assert isinstance(frame.value, dict)
        explicit = set(frame.value)
        for source, line in frame.merges:
            sources = [source] if isinstance(source, dict) else source if isinstance(source, list) else []
            if not sources or not all(isinstance(s, dict) for s in sources):
                self._problem(frame.path + ("<<",), line, "a merge key (<<) takes a mapping or a list of mappings")
                continue
            for mapping in sources:
                self._charge(len(mapping), frame.path, line)
                for key, value in mapping.items():
                    if key not in explicit:
                        explicit.add(key)
                        frame.value[key] = value
                        self.index.set(frame.path + (key,), line)
