"""A tracking receiver: one transport, one decoder, one thread, counters and stream-loss detection.

``start()`` opens the transport on the calling thread (so errors such as a port in use raise at
once, and the receiver is ready when it returns) and then reads on its own daemon thread.
``stop()`` joins it. ``restart(transport)`` swaps the transport (a port change) cleanly.

Callbacks run **on the receiver thread**: ``on_sample(receiver_name, sample)`` for each decoded
sample, ``on_lost(stats)`` once when a stream has been silent for ``lost_after_ms``, and
``on_recovered(stats)`` when it speaks again. A callback that raises is logged and counted
(reason ``callback_error``); the thread keeps running. Bad input never stops it either.

A sample for a new stream beyond the limits' ``max_streams`` is refused and counted
(``stream_limit``). When nothing has been decoded ``never_tracked_after_ms`` after ``start()``,
the receiver logs one warning with what it did receive (the console raises NEVER TRACKED per
camera from the hub; this line is what a headless run shows).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from devices.tracking.decoders import Decoder
from devices.tracking.limits import ReceiverLimits, default_limits
from devices.tracking.receiver_health import PacketCounters, ReceiverStats, StreamRegistry, StreamStats
from devices.tracking.transports import Transport
from vpstage.tracking.sample import CameraSample

log = logging.getLogger(__name__)

SampleCallback = Callable[[str, CameraSample], None]
StreamCallback = Callable[[StreamStats], None]
POLL_S = 0.05
"""Longest a read blocks: bounds stop latency and how late a lost stream is noticed."""
ERROR_BACKOFF_S = 0.2


def _ignore_sample(name: str, sample: CameraSample) -> None:
    return None


def _ignore_stream(stats: StreamStats) -> None:
    return None


class Receiver:
    def __init__(self, name: str, transport: Transport, decoder: Decoder, lost_after_ms: float = 500.0,
                 on_sample: SampleCallback = _ignore_sample, on_lost: StreamCallback = _ignore_stream,
                 on_recovered: StreamCallback = _ignore_stream, limits: ReceiverLimits | None = None,
                 never_tracked_after_ms: float = 3000.0) -> None:
        self.name = name
        self.transport = transport
        self.decoder = decoder
        self.on_sample, self.on_lost, self.on_recovered = on_sample, on_lost, on_recovered
        self.limits = limits or default_limits(decoder.protocol)
        self.counters = PacketCounters()
        self.streams = StreamRegistry(name, round(lost_after_ms * 1e6), self.limits.max_streams,
                                      round(self.limits.stream_expiry_s * 1e9))
        self.never_tracked_after_ns = round(never_tracked_after_ms * 1e6)
        self.started_ns: int | None = None
        """Monotonic time of the last ``start()`` (None before the first)."""
        self._never_tracked_reported = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.error: str | None = None
        """The last transport error (cleared on start)."""

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self.transport.open()
        self.error = None
        self.started_ns = time.monotonic_ns()
        self._never_tracked_reported = False
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"tracking-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self.transport.close()

    def restart(self, transport: Transport | None = None) -> None:
        """Stop, optionally swap the transport (new port or device), and start again."""
        self.stop()
        if transport is not None:
            self.transport = transport
        self.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                reads = self.transport.read(POLL_S)
            except Exception as exc:  # e.g. a serial adapter unplugged: report, back off, keep trying
                self.error = str(exc) or type(exc).__name__
                log.warning("tracking receiver %s: %s", self.name, self.error)
                self._stop.wait(ERROR_BACKOFF_S)
                continue
            for data, sender, arrival_ns in reads:
                self.feed(data, sender, arrival_ns)
            now = time.monotonic_ns()
            self.check_lost(now)
            self.check_never_tracked(now)

    def feed(self, data: bytes, sender: tuple[str, int] | str, arrival_ns: int) -> Sequence[CameraSample]:
        """Decode one datagram or chunk and dispatch its samples (the thread's step; tests may call
        it). Returns the samples dispatched (not those refused by the stream limit)."""
        decoded = self.decoder.decode(data, sender, arrival_ns)
        bad = list(decoded.bad)
        admitted: list[CameraSample] = []
        for sample in decoded.samples:
            admission = self.streams.note(sample)
            if admission == "refused":
                continue
            admitted.append(sample)
            self._dispatch(sample, admission == "recovered", bad)
        # a packet with a refused sample counts as bad, not good (FreeD and OpenTrackIO carry one
        # sample per packet; an OSC bundle is one packet however many cameras it carries)
        refused = min(decoded.packets, len(decoded.samples) - len(admitted))
        bad += ["stream_limit"] * refused
        self.counters.add(decoded.packets - refused, len(admitted), bad, decoded.discarded)
        return admitted

    def _dispatch(self, sample: CameraSample, recovered: bool, bad: list[str]) -> None:
        try:
            self.on_sample(self.name, sample)
            if recovered:
                stats = self.streams.stats_for(sample.stream_key, sample.arrival_ns)
                if stats is not None:
                    self.on_recovered(stats)
        except Exception:
            log.exception("tracking receiver %s: sample callback failed", self.name)
            bad.append("callback_error")

    def check_never_tracked(self, now_ns: int) -> bool:
        """Log once when nothing has been decoded ``never_tracked_after_ms`` after ``start()``;
        True when that is the case."""
        if self.started_ns is None or self.counters.samples or now_ns - self.started_ns < self.never_tracked_after_ns:
            return False
        if not self._never_tracked_reported:
            self._never_tracked_reported = True
            log.warning("tracking source %s (%s): NEVER TRACKED, no sample in %.1f s since start (%s)",
                        self.name, self.transport.address, (now_ns - self.started_ns) / 1e9,
                        describe_input(self.stats()))
        return True

    def check_lost(self, now_ns: int) -> None:
        for key in self.streams.newly_lost(now_ns):
            stats = self.streams.stats_for(key, now_ns)
            if stats is None:
                continue
            try:
                self.on_lost(stats)
            except Exception:
                log.exception("tracking receiver %s: lost callback failed", self.name)

    def stats(self) -> ReceiverStats:
        packets, samples, bad, discarded = self.counters.snapshot()
        return ReceiverStats(name=self.name, protocol=self.decoder.protocol, address=self.transport.address,
                             running=self.running, packets=packets, bad_packets=sum(bad.values()), bad_by_reason=bad,
                             samples=samples, error=self.error, discarded_by_reason=discarded,
                             streams_refused=self.streams.refused)

    def stream_stats(self) -> list[StreamStats]:
        return self.streams.snapshot(time.monotonic_ns())


def describe_input(stats: ReceiverStats) -> str:
    """What a receiver got, in words: ``no packets``, ``40 bad packets (checksum 40)``..."""
    if stats.samples:
        return f"{stats.samples} samples"
    if not stats.packets and not stats.bad_packets:
        return "no packets"
    parts = [f"{stats.packets} valid packets without a complete sample"] if stats.packets else []
    if stats.bad_packets:
        reasons = sorted(stats.bad_by_reason.items(), key=lambda item: -item[1])
        parts.append(f"{stats.bad_packets} bad packets ({', '.join(f'{r} {n}' for r, n in reasons)})")
    return ", ".join(parts)
