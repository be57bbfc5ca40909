"""A cheap structural check of an OSC datagram, run before python-osc parses it.

python-osc parses untrusted bytes with costs and failure modes a tracking receiver cannot afford:
it scans strings a byte at a time in Python (a 60 KB address costs milliseconds, and routing it
through its dispatcher compiles it into a regular expression: 0.1-2 s), it recurses once per
nested bundle, it logs every odd datagram (with the sender's bytes) on the root logger, and a
bundle element with a negative size sends it into an endless loop. ``check_datagram`` walks the
packet structure with ``bytes.find`` and a few integer reads, without decoding any value, and
refuses what python-osc must not see:

* ``too_large``: more than ``max_messages`` messages or bundles nested deeper than
  ``max_bundle_depth`` (the datagram size itself is the receiver's first check);
* ``address_length``: an address longer than ``max_address_length`` bytes;
* ``wildcard_address``: an address pattern with ``* ? [ ] { }`` (python-osc would compile it into a
  regular expression a hostile sender can make backtrack for minutes);
* ``arguments``: a type tag string with more than ``max_arguments`` entries;
* ``malformed``: anything that is not an OSC message or bundle as OSC 1.0 defines them (a string
  without its terminating NUL, bundle elements whose sizes are not positive multiples of 4 inside
  the datagram, content that is neither a message nor a bundle, a type tag python-osc cannot
  parse).
"""

from __future__ import annotations

from dataclasses import dataclass

from vpstage.protocols.errors import CodecError

BUNDLE_PREFIX = b"#bundle\x00"
BUNDLE_HEADER = len(BUNDLE_PREFIX) + 8  # the prefix and the time tag
TYPE_TAGS = frozenset(b"ihfdsbrmtTFN[]")
"""Argument types python-osc parses (any other it logs and skips, which misreads what follows)."""
WILDCARDS = b"*?[]{}"


class WireError(CodecError):
    """An OSC datagram refused before parsing."""


@dataclass(frozen=True)
class OscLimits:
    """What one OSC datagram may contain. Tracking senders send a few messages of up to ~10
    arguments with addresses of a few dozen characters."""

    max_address_length: int = 256
    """Bytes in one address (the camera id is part of it)."""
    max_arguments: int = 32
    """Entries in one message's type tag string."""
    max_messages: int = 32
    """Messages in one datagram, all bundles together."""
    max_bundle_depth: int = 4
    """Bundles inside bundles."""


def _string_end(data: bytes, start: int, end: int, limit: int) -> int:
    """Index of the NUL ending the string at ``start`` (at most ``limit`` bytes before it); -1
    when the string is longer than that, -2 when it is not terminated inside ``end``."""
    nul = data.find(b"\x00", start, min(end, start + limit + 1))
    if nul >= 0:
        return nul
    return -1 if end > start + limit else -2


def _padded(start: int, nul: int) -> int:
    """Index after an OSC string starting at ``start`` whose NUL is at ``nul`` (padded to 4)."""
    return start + ((nul - start) // 4 + 1) * 4


def _check_message(data: bytes, start: int, end: int, limits: OscLimits) -> None:
    nul = _string_end(data, start, end, limits.max_address_length)
    if nul == -1:
        raise WireError(f"an address longer than {limits.max_address_length} bytes", "address_length")
    if nul == -2:
        raise WireError("an address without its terminating NUL", "malformed")
    address = data[start:nul]
    if address.translate(None, WILDCARDS) != address:
        raise WireError("an address pattern with wildcards", "wildcard_address")
    tags_at = _padded(start, nul)
    if tags_at >= end:
        if tags_at > end:
            raise WireError("an address running past the end of the message", "malformed")
        return  # no type tags: a message without arguments
    if data[tags_at] != ord(","):
        raise WireError("a type tag string must start with ','", "malformed")
    tags_end = _string_end(data, tags_at, end, limits.max_arguments + 1)
    if tags_end == -1:
        raise WireError(f"more than {limits.max_arguments} arguments", "arguments")
    if tags_end == -2 or _padded(tags_at, tags_end) > end:
        raise WireError("a type tag string without its terminating NUL", "malformed")
    if not TYPE_TAGS.issuperset(data[tags_at + 1:tags_end]):
        raise WireError("an unknown argument type", "malformed")


def _check_element(data: bytes, start: int, end: int, depth: int, limits: OscLimits, seen: list[int]) -> None:
    """Check the message or bundle in ``data[start:end]``; ``seen[0]`` counts messages."""
    if data.startswith(BUNDLE_PREFIX, start, end):
        _check_bundle(data, start, end, depth + 1, limits, seen)
        return
    if start >= end or data[start] != ord("/"):
        raise WireError("neither an OSC message nor a bundle", "malformed")
    seen[0] += 1
    if seen[0] > limits.max_messages:
        raise WireError(f"more than {limits.max_messages} messages", "too_large")
    _check_message(data, start, end, limits)


def _check_bundle(data: bytes, start: int, end: int, depth: int, limits: OscLimits, seen: list[int]) -> None:
    if depth > limits.max_bundle_depth:
        raise WireError(f"bundles nested deeper than {limits.max_bundle_depth}", "too_large")
    i = start + BUNDLE_HEADER
    if i > end:
        raise WireError("a bundle without its time tag", "malformed")
    while i < end:
        if i + 4 > end:
            raise WireError("a bundle element without its size", "malformed")
        size = int.from_bytes(data[i:i + 4], "big", signed=True)
        i += 4
        if size <= 0 or size % 4 or i + size > end:
            raise WireError(f"a bundle element of {size} bytes", "malformed")
        _check_element(data, i, i + size, depth, limits, seen)
        i += size


def check_datagram(data: bytes, limits: OscLimits | None = None) -> int:
    """Check an OSC datagram's structure (see the module docstring); returns how many messages
    it holds. Raises ``WireError`` with the reason."""
    seen = [0]
    _check_element(data, 0, len(data), 0, limits or OscLimits(), seen)
    return seen[0]
