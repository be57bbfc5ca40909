"""The error every codec raises on bad input, carrying a short reason used as a counter key, and the
table of every reason a tracking receiver may count.

Receivers count what they refuse under these names (``ReceiverStats.bad_by_reason``: one per
refused packet or sample) and what they accepted but later had to throw away
(``ReceiverStats.discarded_by_reason``: partial OpenTrackIO payloads). ``docs/tracking.md`` lists
the same table; a test checks that every reason a fuzzed receiver counts is named here.
"""

from __future__ import annotations

BAD_REASONS: dict[str, str] = {
    "too_large": "a datagram longer than the protocol's max_datagram_bytes, or an OSC bundle with more "
                 "messages or nesting than its limits (refused before parsing)",
    "size": "FreeD: not 29 bytes",
    "type": "FreeD: not a D1 message",
    "checksum": "FreeD checksum or OpenTrackIO Fletcher-16 (both moduli) wrong",
    "garbage": "FreeD serial: a run of bytes that is not a valid frame",
    "truncated": "OpenTrackIO: shorter than the header or than the length it declares",
    "oversized": "OpenTrackIO: longer than the length its header declares",
    "identifier": "OpenTrackIO: does not start with 'OTrk'",
    "duplicate": "OpenTrackIO: a sequence number (or segment) already received",
    "out_of_order": "OpenTrackIO: a sequence number older than the last delivered one",
    "segment": "OpenTrackIO: inconsistent segments (encoding, two last segments, overlap, empty)",
    "payload_limit": "OpenTrackIO: a segment ending past max_payload_bytes",
    "sender_limit": "OpenTrackIO: the sender's partial payloads would exceed max_sender_bytes or "
                    "max_sender_segments",
    "memory_limit": "OpenTrackIO: all partial payloads would exceed max_total_bytes or max_total_segments",
    "encoding": "OpenTrackIO: unknown payload encoding",
    "payload": "OpenTrackIO: undecodable JSON/CBOR",
    "not_a_sample": "OpenTrackIO: not an OpenTrackIO object",
    "bad_value": "a known field of the wrong type, range or length",
    "non_finite": "NaN or infinity",
    "malformed": "OSC: not a well-formed OSC packet",
    "wildcard_address": "OSC: an address pattern with wildcards",
    "address_length": "OSC: an address longer than max_address_length",
    "arguments": "OSC: too few arguments for the route, or more than max_arguments",
    "wrong_type": "OSC: an argument that is not a number",
    "stream_limit": "a sample for a new stream (source, camera id) while the receiver already has "
                    "max_streams live ones",
    "callback_error": "a consumer's callback raised (logged; the receiver carries on)",
}
"""Every reason a receiver counts a packet (or sample) as bad, and what it means."""

DISCARD_REASONS: dict[str, str] = {
    "superseded": "OpenTrackIO: a partial payload abandoned because a newer one completed",
    "expired": "OpenTrackIO: a partial payload older than partial_expiry_ms",
    "evicted": "OpenTrackIO: a partial payload dropped to stay within max_pending or max_senders",
}
"""Data a receiver accepted and later threw away (counted apart from bad packets)."""


class CodecError(ValueError):
    """Malformed input. ``reason`` is a short snake_case key (``"checksum"``, ``"truncated"``...)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
