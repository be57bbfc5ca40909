"""Checked access to a decoded MessagePack map, for the node message codec.

Every failure is a :class:`WireError` with a ``reason`` (``bad_field`` here) that names the
receiver's counter, and a message that says which field of which message was wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

MAX_NAME = 256
MAX_TEXT = 4096


class WireError(ValueError):
    """A message that cannot be accepted; ``reason`` names the counter it goes under."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


T = TypeVar("T")


class Fields:
    """Checked access to a decoded map; every failure is a ``bad_field`` WireError."""

    def __init__(self, where: str, data: Mapping[str, Any]) -> None:
        self.where, self.data = where, data

    def fail(self, key: str, why: str) -> WireError:
        return WireError("bad_field", f"{self.where}.{key}: {why}")

    def raw(self, key: str) -> Any:
        if key not in self.data:
            raise self.fail(key, "missing")
        return self.data[key]

    def integer(self, key: str, lo: int = -(1 << 63), hi: int = (1 << 64) - 1) -> int:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(key, f"expected an integer in [{lo}, {hi}], got {value!r:.40}")
        return value

    def opt_integer(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.integer(key)

    def number(self, key: str, allow_nan: bool = False) -> float:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"expected a number, got {type(value).__name__}")
        value = float(value)
        if not (math.isfinite(value) or (allow_nan and math.isnan(value))):
            raise self.fail(key, f"{value} is not finite")
        return value

    def opt_number(self, key: str) -> float | None:
        return None if self.data.get(key) is None else self.number(key)

    def flag(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.fail(key, "expected true or false")
        return value

    def text(self, key: str, limit: int = MAX_NAME) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or len(value) > limit:
            raise self.fail(key, f"expected a string of at most {limit} characters")
        return value

    def opt_text(self, key: str, limit: int = MAX_NAME) -> str | None:
        return None if self.data.get(key) is None else self.text(key, limit)

    def blob(self, key: str) -> bytes:
        value = self.raw(key)
        if not isinstance(value, bytes):
            raise self.fail(key, "expected bytes")
        return value

    def numbers(self, key: str, count: int) -> tuple[float, ...]:
        value = self.raw(key)
        if not isinstance(value, list | tuple) or len(value) != count:
            raise self.fail(key, f"expected {count} numbers")
        sub = Fields(f"{self.where}.{key}", {str(i): v for i, v in enumerate(value)})
        return tuple(sub.number(str(i)) for i in range(count))

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.raw(key)
        if not isinstance(value, list | tuple):
            raise self.fail(key, "expected a list of strings")
        sub = Fields(f"{self.where}.{key}", {str(i): v for i, v in enumerate(value)})
        return tuple(sub.text(str(i)) for i in range(len(value)))

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.raw(key)
        if not isinstance(value, dict):
            raise self.fail(key, "expected a map")
        return value

    def each(self, key: str, read: Callable[[Fields], T]) -> tuple[T, ...]:
        value = self.raw(key)
        if not isinstance(value, list | tuple):
            raise self.fail(key, "expected a list")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{i}]", "expected a map")
            out.append(read(Fields(f"{self.where}.{key}[{i}]", item)))
        return tuple(out)

    def str_map(self, key: str, limit: int = MAX_TEXT) -> dict[str, str]:
        sub = Fields(f"{self.where}.{key}", self.mapping(key))
        return {sub.str_key(k): sub.text(k, limit) for k in sub.data}

    def str_key(self, key: object) -> str:
        if not isinstance(key, str) or len(key) > MAX_NAME:
            raise self.fail(str(key)[:40], "bad key")
        return key
