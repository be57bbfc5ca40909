"""Limits of one tracking receiver: what it parses and what it keeps, per protocol.

Everything a receiver holds per sender or per stream is bounded here, so a hostile or broken
sender can make it refuse input (counted by reason, see ``vpstage.protocols.errors``) but not
grow or stall it. ``docs/tracking.md`` ("Limits") lists the defaults and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vpstage.protocols import freed
from vpstage.protocols.opentrackio.packet import HEADER_SIZE, MAX_SEGMENT_PAYLOAD
from vpstage.protocols.opentrackio.reassembly import ReassemblyLimits
from vpstage.protocols.osc_wire import OscLimits


@dataclass(frozen=True, kw_only=True)
class ReceiverLimits:
    max_datagram_bytes: int
    """A longer datagram is refused (``too_large``) before any parsing."""
    max_streams: int = 64
    """Distinct (source, camera id) streams per receiver; a sample for a new one beyond it is
    refused (``stream_limit``) unless a stream silent for ``stream_expiry_s`` can make room."""
    stream_expiry_s: float = 10.0
    """A stream silent this long (and reported lost) may be replaced by a new one when the
    receiver is at ``max_streams``; live streams are never displaced."""
    osc: OscLimits = field(default_factory=OscLimits)
    """OSC only: address length, arguments, messages, bundle depth."""
    reassembly: ReassemblyLimits = field(default_factory=ReassemblyLimits)
    """OpenTrackIO only: what partial payloads may hold, and when they expire."""


DEFAULT_LIMITS: dict[str, ReceiverLimits] = {
    # one 29-byte D1 per datagram: anything much longer is not FreeD
    "freed": ReceiverLimits(max_datagram_bytes=16 * freed.D1_SIZE),
    # the 15-bit segment length: nothing longer can be a valid OpenTrackIO datagram
    "opentrackio": ReceiverLimits(max_datagram_bytes=HEADER_SIZE + MAX_SEGMENT_PAYLOAD),
    # a tracking message or bundle is a few hundred bytes
    "osc": ReceiverLimits(max_datagram_bytes=8192),
}


def default_limits(protocol: str) -> ReceiverLimits:
    return DEFAULT_LIMITS[protocol]
