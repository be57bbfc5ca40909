"""Request bodies of the control API, checked before anything changes.

Every action's body is a JSON object whose fields are read through :class:`Body`: a field that is
missing, of the wrong type, out of range, or not known to the action raises :class:`ApiError`
(HTTP 400 or 422, a JSON ``{"error": ..., "field": ...}``) and nothing is changed.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_BODY_BYTES = 64 * 1024
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,63}$")


class ApiError(Exception):
    """An answer other than 2xx: ``status`` and a message (and the field at fault)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message, "status": self.status}
        if self.field is not None:
            out["field"] = self.field
        return out


def parse_body(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object (an empty body is ``{}``)."""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"body larger than {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "body must be a JSON object")
    return value


class Body:
    """Typed, checked reads of one JSON object; ``done()`` refuses fields nobody read."""

    def __init__(self, data: dict[str, Any], prefix: str = "") -> None:
        self.data, self.prefix = data, prefix
        self._read: set[str] = set()

    def _field(self, name: str, required: bool) -> Any:
        self._read.add(name)
        if name not in self.data or self.data[name] is None:
            if required:
                raise ApiError(422, f"{self.prefix}{name} is required", self.prefix + name)
            return None
        return self.data[name]

    def string(self, name: str, *, required: bool = True, max_len: int = 64, pattern: re.Pattern[str] | None = None,
               choices: tuple[str, ...] | None = None) -> str | None:
        value = self._field(name, required)
        if value is None:
            return None
        path = self.prefix + name
        if not isinstance(value, str):
            raise ApiError(422, f"{path} must be a string", path)
        if len(value) > max_len:
            raise ApiError(422, f"{path} is longer than {max_len} characters", path)
        if choices is not None and value not in choices:
            raise ApiError(422, f"{path} must be one of {', '.join(choices)}", path)
        if pattern is not None and not pattern.match(value):
            raise ApiError(422, f"{path} {value!r} is not a valid name", path)
        return value

    def number(self, name: str, lo: float, hi: float, *, required: bool = True) -> float | None:
        value = self._field(name, required)
        if value is None:
            return None
        path = self.prefix + name
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ApiError(422, f"{path} must be a finite number", path)
        if not lo <= value <= hi:
            raise ApiError(422, f"{path} {value} is out of range [{lo}, {hi}]", path)
        return float(value)

    def integer(self, name: str, lo: int, hi: int, *, required: bool = True) -> int | None:
        value = self._field(name, required)
        if value is None:
            return None
        path = self.prefix + name
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError(422, f"{path} must be an integer", path)
        if not lo <= value <= hi:
            raise ApiError(422, f"{path} {value} is out of range [{lo}, {hi}]", path)
        return value

    def boolean(self, name: str, *, required: bool = True) -> bool | None:
        value = self._field(name, required)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise ApiError(422, f"{self.prefix}{name} must be true or false", self.prefix + name)
        return value

    def vector(self, name: str, lo: float, hi: float, *, size: int = 3,
               required: bool = True) -> tuple[float, ...] | None:
        value = self._field(name, required)
        if value is None:
            return None
        path = self.prefix + name
        if not isinstance(value, list) or len(value) != size:
            raise ApiError(422, f"{path} must be a list of {size} numbers", path)
        inner = Body({str(i): v for i, v in enumerate(value)}, f"{path}.")
        return tuple(inner.number(str(i), lo, hi) or 0.0 for i in range(size))

    def done(self) -> None:
        unknown = sorted(set(self.data) - self._read)
        if unknown:
            raise ApiError(422, f"unknown field {self.prefix}{unknown[0]}", self.prefix + unknown[0])
