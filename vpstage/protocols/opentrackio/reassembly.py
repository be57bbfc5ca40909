"""Reassembling segmented OpenTrackIO payloads and dropping duplicate or late sequence numbers.

All segments of one payload share a sequence number and differ in ``segment_offset``; the last
one has the last-segment flag. A payload is delivered once every byte from 0 to the end of the
last segment has arrived. Per sender (the caller's key, e.g. the source address):

* a sequence number already delivered is a **duplicate** (dropped);
* a sequence number older than the last delivered one (16-bit serial arithmetic: more than
  half the range behind) is **out of order** (dropped). After ``RESYNC_AFTER`` such packets in a
  row the sender is assumed to have restarted its counter and the state resets;
* when a newer payload completes while an older one is incomplete, the older one is abandoned
  (``superseded``): a lost segment loses its whole payload, as the spec says.

What it holds is bounded by ``ReassemblyLimits`` (bytes and segments per sender and in total,
partial payloads per sender, senders), and partial payloads expire: a hostile or broken sender
can make it refuse segments (counted by reason) but not grow. Refused segments raise
``ParseError`` (``payload_limit``, ``sender_limit``, ``memory_limit``, ``segment``,
``duplicate``, ``out_of_order``); partial payloads thrown away later are counted in
``dropped`` (``superseded``, ``expired``, ``evicted``) and handed out once by ``drain_dropped``.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field

from vpstage.protocols.opentrackio.packet import Packet, ParseError

SEQUENCE_MODULUS = 1 << 16
RESYNC_AFTER = 16


@dataclass(frozen=True, kw_only=True)
class ReassemblyLimits:
    """What one reassembler may hold. Defaults fit real senders (a sample is a few KB, sent in
    1500-byte segments within a millisecond) with a wide margin."""

    max_payload_bytes: int = 256 * 1024
    """Largest reassembled payload: a segment ending past it is refused (``payload_limit``)."""
    max_pending: int = 4
    """Partial payloads per sender; a new one beyond it evicts the oldest (``evicted``)."""
    max_sender_bytes: int = 512 * 1024
    """Bytes held in one sender's partial payloads (``sender_limit`` beyond)."""
    max_sender_segments: int = 512
    """Segments held for one sender (``sender_limit`` beyond): bounds entries, whatever their size."""
    max_total_bytes: int = 4 * 1024 * 1024
    """Bytes held for all senders together (``memory_limit`` beyond)."""
    max_total_segments: int = 4096
    """Segments held for all senders together (``memory_limit`` beyond)."""
    max_senders: int = 256
    """Senders with state; a new one beyond it evicts the one heard from least recently."""
    partial_expiry_ms: float = 1000.0
    """A partial payload this old is dropped (``expired``)."""
    sender_expiry_ms: float = 60_000.0
    """A sender silent this long is forgotten (its duplicate detection starts afresh)."""


def sequence_delta(new: int, last: int) -> int:
    """Signed distance from ``last`` to ``new`` in 16-bit serial-number arithmetic (-32768..32767)."""
    delta = (new - last) % SEQUENCE_MODULUS
    return delta - SEQUENCE_MODULUS if delta >= SEQUENCE_MODULUS // 2 else delta


@dataclass(eq=False, kw_only=True)
class _Partial:
    encoding: int
    started_ns: int
    segments: dict[int, bytes] = field(default_factory=dict)
    offsets: list[int] = field(default_factory=list)
    """Segment offsets, sorted (to refuse overlaps)."""
    held: int = 0
    total: int | None = None  # known once the last segment arrived

    def overlaps(self, offset: int, end: int) -> bool:
        i = bisect.bisect_left(self.offsets, offset)
        if i < len(self.offsets) and self.offsets[i] < end:
            return True  # the next segment starts inside the new one
        if i > 0:
            before = self.offsets[i - 1]
            return before + len(self.segments[before]) > offset
        return False

    def add(self, offset: int, data: bytes) -> None:
        bisect.insort(self.offsets, offset)
        self.segments[offset] = data
        self.held += len(data)

    def end(self) -> int:
        """Where the last segment received so far ends."""
        if not self.offsets:
            return 0
        last = self.offsets[-1]
        return last + len(self.segments[last])

    def complete(self) -> bytes | None:
        """The payload once every byte up to the last segment's end is here (segments never
        overlap, so byte count equal to the total means no gap)."""
        if self.total is None or self.held != self.total:
            return None
        return b"".join(self.segments[offset] for offset in self.offsets)


@dataclass(eq=False, kw_only=True)
class _SenderState:
    last_delivered: int | None = None
    rejected_in_row: int = 0
    last_seen_ns: int = 0
    partial: dict[int, _Partial] = field(default_factory=dict)
    held_bytes: int = 0
    held_segments: int = 0


class Reassembler:
    """Turns packets into whole payloads, per sender. Not thread-safe (one per receiver thread).

    ``feed(sender, packet, now_ns)`` returns ``(encoding, payload)`` when a payload is complete,
    ``None`` while segments are missing, and raises ParseError with the reason it refused the
    packet. ``now_ns`` (monotonic; the arrival time) drives expiry.
    """

    def __init__(self, limits: ReassemblyLimits | None = None) -> None:
        self.limits = limits or ReassemblyLimits()
        self._senders: dict[Hashable, _SenderState] = {}
        self.held_bytes = 0
        self.held_segments = 0
        self.dropped = Counter[str]()
        """Partial payloads thrown away, by reason (cumulative)."""
        self._undrained: list[str] = []
        self._next_sweep_ns: int | None = None

    @property
    def incomplete(self) -> int:
        """Partial payloads thrown away so far, whatever the reason."""
        return sum(self.dropped.values())

    @property
    def senders(self) -> int:
        return len(self._senders)

    def drain_dropped(self) -> list[str]:
        """Reasons of the partial payloads dropped since the last call."""
        out, self._undrained = self._undrained, []
        return out

    def feed(self, sender: Hashable, packet: Packet, now_ns: int = 0) -> tuple[int, bytes] | None:
        self._sweep(now_ns)
        state = self._sender(sender, now_ns)
        self._check_order(state, packet.sequence)
        if packet.is_whole and packet.sequence not in state.partial:
            self._deliver(state, packet.sequence)
            return packet.encoding, packet.payload
        return self._add_segment(state, packet, now_ns)

    def forget(self, sender: Hashable) -> None:
        """Drop all state for a sender (e.g. when its stream is reported lost)."""
        state = self._senders.pop(sender, None)
        if state is not None:
            self._drop_all(state, "evicted")

    # ------------------------------------------------------------------ senders and expiry

    def _sender(self, sender: Hashable, now_ns: int) -> _SenderState:
        """The sender's state, most recently heard from last (creating it may evict the least)."""
        state = self._senders.pop(sender, None)
        if state is None:
            state = _SenderState()
            while len(self._senders) >= self.limits.max_senders:
                self._drop_all(self._senders.pop(next(iter(self._senders))), "evicted")
        self._senders[sender] = state
        state.last_seen_ns = now_ns
        return state

    def _sweep(self, now_ns: int) -> None:
        """Expire old partial payloads and forget silent senders, at most twice per partial expiry."""
        if self._next_sweep_ns is not None and now_ns < self._next_sweep_ns:
            return
        period_ns = max(1, round(self.limits.partial_expiry_ms * 1e6 / 2))
        self._next_sweep_ns = now_ns + period_ns
        sender_expiry_ns = self.limits.sender_expiry_ms * 1e6
        for key, state in list(self._senders.items()):
            self._expire(state, now_ns)
            if now_ns - state.last_seen_ns > sender_expiry_ns:
                self._drop_all(self._senders.pop(key), "expired")

    def _expire(self, state: _SenderState, now_ns: int) -> None:
        expiry_ns = self.limits.partial_expiry_ms * 1e6
        for seq in [s for s, p in state.partial.items() if now_ns - p.started_ns > expiry_ns]:
            self._drop(state, seq, "expired")

    def _release(self, state: _SenderState, sequence: int) -> _Partial:
        partial = state.partial.pop(sequence)
        state.held_bytes -= partial.held
        state.held_segments -= len(partial.segments)
        self.held_bytes -= partial.held
        self.held_segments -= len(partial.segments)
        return partial

    def _drop(self, state: _SenderState, sequence: int, reason: str) -> None:
        self._release(state, sequence)
        self.dropped[reason] += 1
        self._undrained.append(reason)

    def _drop_all(self, state: _SenderState, reason: str) -> None:
        for seq in list(state.partial):
            self._drop(state, seq, reason)

    # ------------------------------------------------------------------ sequence numbers

    def _check_order(self, state: _SenderState, sequence: int) -> None:
        if state.last_delivered is None:
            return
        delta = sequence_delta(sequence, state.last_delivered)
        if delta > 0:
            return
        state.rejected_in_row += 1
        if state.rejected_in_row > RESYNC_AFTER:
            state.last_delivered = None  # the sender restarted its counter: start again
            self._drop_all(state, "evicted")
            state.rejected_in_row = 0
            return
        if delta == 0:
            raise ParseError(f"duplicate sequence number {sequence}", "duplicate")
        raise ParseError(f"sequence {sequence} is older than {state.last_delivered}", "out_of_order")

    def _deliver(self, state: _SenderState, sequence: int) -> None:
        state.rejected_in_row = 0
        state.last_delivered = sequence
        # anything pending that is not newer than what we just delivered can never complete now
        for seq in [s for s in state.partial if sequence_delta(s, sequence) <= 0]:
            if seq == sequence:
                self._release(state, seq)
            else:
                self._drop(state, seq, "superseded")

    # ------------------------------------------------------------------ segments

    def _add_segment(self, state: _SenderState, packet: Packet, now_ns: int) -> tuple[int, bytes] | None:
        size = len(packet.payload)
        end = packet.segment_offset + size
        if end > self.limits.max_payload_bytes:
            raise ParseError(f"segment ends at byte {end}, beyond the {self.limits.max_payload_bytes}-byte "
                             "limit", "payload_limit")
        if size == 0 and not packet.last_segment:
            raise ParseError("an empty segment that is not the last", "segment")
        self._expire(state, now_ns)
        partial = state.partial.get(packet.sequence)
        if partial is None:
            self._make_room(state, size)
        else:
            _check_segment(partial, packet, end)
        self._check_room(state, size)
        if partial is None:
            partial = state.partial[packet.sequence] = _Partial(encoding=packet.encoding, started_ns=now_ns)
        if packet.last_segment:
            partial.total = end
        partial.add(packet.segment_offset, packet.payload)
        state.held_bytes += size
        state.held_segments += 1
        self.held_bytes += size
        self.held_segments += 1
        payload = partial.complete()
        if payload is None:
            return None
        self._deliver(state, packet.sequence)
        return partial.encoding, payload

    def _make_room(self, state: _SenderState, size: int) -> None:
        """Before a new partial payload: evict the sender's oldest ones beyond ``max_pending`` or
        its byte and segment limits (a newer payload supersedes them anyway)."""
        limits = self.limits
        while state.partial and (len(state.partial) >= limits.max_pending
                                 or state.held_bytes + size > limits.max_sender_bytes
                                 or state.held_segments + 1 > limits.max_sender_segments):
            self._drop(state, next(iter(state.partial)), "evicted")

    def _check_room(self, state: _SenderState, size: int) -> None:
        limits = self.limits
        if state.held_bytes + size > limits.max_sender_bytes or state.held_segments + 1 > limits.max_sender_segments:
            raise ParseError("the sender's partial payloads are at their limit", "sender_limit")
        if self.held_bytes + size > limits.max_total_bytes or self.held_segments + 1 > limits.max_total_segments:
            raise ParseError("partial payloads of all senders are at their limit", "memory_limit")


def _check_segment(partial: _Partial, packet: Packet, end: int) -> None:
    """Refuse a segment that does not fit the payload it belongs to."""
    if partial.encoding != packet.encoding:
        raise ParseError("segments of one payload disagree on the encoding", "segment")
    if packet.segment_offset in partial.segments:
        raise ParseError(f"duplicate segment at offset {packet.segment_offset}", "duplicate")
    if packet.last_segment and partial.total is not None and partial.total != end:
        raise ParseError("two different last segments for one payload", "segment")
    if partial.total is not None and end > partial.total:
        raise ParseError("a segment past the end of the payload", "segment")
    if packet.last_segment and partial.end() > end:
        raise ParseError("a last segment ending before other segments", "segment")
    if partial.overlaps(packet.segment_offset, end):
        raise ParseError("a segment overlapping another", "segment")
