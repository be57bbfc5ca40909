"""The error every codec raises on bad input, carrying a short reason used as a counter key."""

from __future__ import annotations


class CodecError(ValueError):
    """Malformed input. ``reason`` is a short snake_case key (``"checksum"``, ``"truncated"``...)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
