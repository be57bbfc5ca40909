"""Reassembling segmented OpenTrackIO payloads and dropping duplicate or late sequence numbers.

All segments of one payload share a sequence number and differ in ``segment_offset``; the last
one has the last-segment flag. A payload is delivered once every byte from 0 to the end of the
last segment has arrived. Per sender (the caller's key, e.g. the source address):

* a sequence number already delivered is a **duplicate** (dropped);
* a sequence number older than the last delivered one (16-bit serial arithmetic: more than
  half the range behind) is **out of order** (dropped). After ``RESYNC_AFTER`` such packets in a
  row the sender is assumed to have restarted its counter and the state resets;
* when a newer payload starts while an older one is incomplete, the older one is abandoned
  (``incomplete`` counts these): a lost segment loses its whole payload, as the spec says.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from vpstage.protocols.opentrackio.packet import Packet, ParseError

SEQUENCE_MODULUS = 1 << 16
RESYNC_AFTER = 16
MAX_PAYLOAD = 1 << 20
"""Largest reassembled payload accepted (1 MiB): a bound on memory per sender."""
MAX_PENDING_SEQUENCES = 4


def sequence_delta(new: int, last: int) -> int:
    """Signed distance from ``last`` to ``new`` in 16-bit serial-number arithmetic (-32768..32767)."""
    delta = (new - last) % SEQUENCE_MODULUS
    return delta - SEQUENCE_MODULUS if delta >= SEQUENCE_MODULUS // 2 else delta


@dataclass
class _Partial:
    encoding: int
    segments: dict[int, bytes] = field(default_factory=dict)
    total: int | None = None  # known once the last segment arrived

    def complete(self) -> bytes | None:
        if self.total is None:
            return None
        out = bytearray()
        for offset in sorted(self.segments):
            if offset != len(out):
                return None  # a gap (or an overlap): not complete yet
            out += self.segments[offset]
        return bytes(out) if len(out) == self.total else None


@dataclass
class _SenderState:
    last_delivered: int | None = None
    rejected_in_row: int = 0
    partial: dict[int, _Partial] = field(default_factory=dict)


class Reassembler:
    """Turns packets into whole payloads, per sender. Not thread-safe (one per receiver thread).

    ``feed(sender, packet)`` returns ``(encoding, payload)`` when a payload is complete, ``None``
    while segments are missing, and raises ParseError with reason ``duplicate``, ``out_of_order``
    or ``segment`` (inconsistent segment) for packets it drops.
    """

    def __init__(self) -> None:
        self._senders: dict[Hashable, _SenderState] = {}
        self.incomplete = 0

    def feed(self, sender: Hashable, packet: Packet) -> tuple[int, bytes] | None:
        state = self._senders.setdefault(sender, _SenderState())
        self._check_order(state, packet.sequence)
        if packet.is_whole and not state.partial.get(packet.sequence):
            self._deliver(state, packet.sequence)
            return packet.encoding, packet.payload
        return self._add_segment(state, packet)

    def _check_order(self, state: _SenderState, sequence: int) -> None:
        if state.last_delivered is None:
            return
        delta = sequence_delta(sequence, state.last_delivered)
        if delta > 0:
            return
        state.rejected_in_row += 1
        if state.rejected_in_row > RESYNC_AFTER:
            state.last_delivered = None  # the sender restarted its counter: start again
            state.partial.clear()
            state.rejected_in_row = 0
            return
        if delta == 0:
            raise ParseError(f"duplicate sequence number {sequence}", "duplicate")
        raise ParseError(f"sequence {sequence} is older than {state.last_delivered}", "out_of_order")

    def _add_segment(self, state: _SenderState, packet: Packet) -> tuple[int, bytes] | None:
        end = packet.segment_offset + len(packet.payload)
        if end > MAX_PAYLOAD:
            raise ParseError(f"segment ends at byte {end}, beyond the {MAX_PAYLOAD}-byte limit", "oversized")
        partial = state.partial.get(packet.sequence)
        if partial is None:
            self._limit_pending(state)
            partial = state.partial[packet.sequence] = _Partial(packet.encoding)
        if partial.encoding != packet.encoding:
            raise ParseError("segments of one payload disagree on the encoding", "segment")
        if packet.segment_offset in partial.segments:
            raise ParseError(f"duplicate segment at offset {packet.segment_offset}", "duplicate")
        if packet.last_segment:
            if partial.total is not None and partial.total != end:
                raise ParseError("two different last segments for one payload", "segment")
            partial.total = end
        partial.segments[packet.segment_offset] = packet.payload
        payload = partial.complete()
        if payload is None:
            return None
        self._deliver(state, packet.sequence)
        return partial.encoding, payload

    def _limit_pending(self, state: _SenderState) -> None:
        while len(state.partial) >= MAX_PENDING_SEQUENCES:
            oldest = next(iter(state.partial))
            del state.partial[oldest]
            self.incomplete += 1

    def _deliver(self, state: _SenderState, sequence: int) -> None:
        state.rejected_in_row = 0
        state.last_delivered = sequence
        # anything pending that is not newer than what we just delivered can never complete now
        for seq in [s for s in state.partial if sequence_delta(s, sequence) <= 0]:
            if seq != sequence:
                self.incomplete += 1
            del state.partial[seq]

    def forget(self, sender: Hashable) -> None:
        """Drop all state for a sender (e.g. when its stream is reported lost)."""
        self._senders.pop(sender, None)

