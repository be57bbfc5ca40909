"""Health counters for tracking receivers and the streams they carry.

A receiver counts what it reads (packets, bad packets by reason, accepted data discarded later by
reason; the reasons are listed in ``vpstage.protocols.errors``). A *stream* is one (source, camera
id) pair seen by a receiver; it has a sample count, rate, jitter (standard deviation of the
inter-arrival interval), last-seen time, and is *lost* after a configurable silence. A receiver
keeps at most ``max_streams`` streams: a sample for a new one beyond that is refused, unless the
stream silent longest has been silent for ``expiry`` (it is forgotten to make room). Snapshots are
immutable and safe to hand to any thread.
"""

from __future__ import annotations

import itertools
import statistics
import threading
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from vpstage.tracking.sample import CameraId, CameraSample

INTERVAL_WINDOW = 120


@dataclass(frozen=True, kw_only=True)
class StreamStats:
    receiver: str
    protocol: str
    source: str
    camera_id: CameraId
    samples: int
    rate_hz: float
    jitter_ms: float
    last_seen_ns: int
    age_ms: float
    lost: bool


@dataclass(frozen=True, kw_only=True)
class ReceiverStats:
    name: str
    protocol: str
    address: str
    """Where it listens (the bound port when 0 was asked for) or the serial device."""
    running: bool
    packets: int
    bad_packets: int
    bad_by_reason: dict[str, int]
    samples: int
    error: str | None = None
    discarded_by_reason: dict[str, int] = field(default_factory=dict)
    """Accepted data thrown away later (partial OpenTrackIO payloads), by reason."""
    streams_refused: int = 0
    """Samples refused because the receiver was at ``max_streams`` (also in ``bad_by_reason``)."""


@dataclass(kw_only=True)
class _Stream:
    protocol: str
    samples: int = 0
    last_seen_ns: int = 0
    lost: bool = False
    times: deque[int] = field(default_factory=lambda: deque(maxlen=INTERVAL_WINDOW + 1))


Admission = Literal["new", "seen", "recovered", "refused"]
"""What ``StreamRegistry.note`` did with a sample: a new stream, a known one, a lost one back,
or refused (the registry is full of streams that are not stale)."""


class StreamRegistry:
    """Per-receiver stream bookkeeping. Written on the receiver thread, read from any thread."""

    def __init__(self, receiver: str, lost_after_ns: int, max_streams: int = 64,
                 expiry_ns: int = 10 * 10**9) -> None:
        self.receiver = receiver
        self.lost_after_ns = lost_after_ns
        self.max_streams = max_streams
        self.expiry_ns = max(expiry_ns, lost_after_ns)
        """A stream may make room for a new one only once silent this long (and so lost)."""
        self.refused = 0
        self.forgotten = 0
        self._streams: dict[tuple[str, CameraId], _Stream] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._streams)

    def note(self, sample: CameraSample) -> Admission:
        """Record a sample (unless refused). ``recovered``: its stream had been reported lost."""
        key = sample.stream_key
        with self._lock:
            stream = self._streams.get(key)
            admission: Admission = "seen"
            if stream is None:
                if len(self._streams) >= self.max_streams and not self._forget_stale(sample.arrival_ns):
                    self.refused += 1
                    return "refused"
                stream = self._streams[key] = _Stream(protocol=sample.protocol)
                admission = "new"
            stream.samples += 1
            stream.last_seen_ns = sample.arrival_ns
            stream.times.append(sample.arrival_ns)
            if stream.lost:
                admission, stream.lost = "recovered", False
        return admission

    def _forget_stale(self, now_ns: int) -> bool:
        """Forget the stream silent longest if it has been silent for ``expiry_ns`` (lock held)."""
        key = min(self._streams, key=lambda k: self._streams[k].last_seen_ns)
        if now_ns - self._streams[key].last_seen_ns < self.expiry_ns:
            return False
        del self._streams[key]
        self.forgotten += 1
        return True

    def newly_lost(self, now_ns: int) -> list[tuple[str, CameraId]]:
        """Streams silent for longer than ``lost_after_ns`` that were not reported yet."""
        lost = []
        with self._lock:
            for key, stream in self._streams.items():
                if not stream.lost and now_ns - stream.last_seen_ns > self.lost_after_ns:
                    stream.lost = True
                    lost.append(key)
        return lost

    def snapshot(self, now_ns: int) -> list[StreamStats]:
        with self._lock:
            items = [(key, s.protocol, s.samples, s.last_seen_ns, s.lost, list(s.times))
                     for key, s in self._streams.items()]
        return [self._stats(key, protocol, samples, last, lost, times, now_ns)
                for key, protocol, samples, last, lost, times in items]

    def stats_for(self, key: tuple[str, CameraId], now_ns: int) -> StreamStats | None:
        return next((s for s in self.snapshot(now_ns) if (s.source, s.camera_id) == key), None)

    def _stats(self, key: tuple[str, CameraId], protocol: str, samples: int, last: int, lost: bool,
               times: list[int], now_ns: int) -> StreamStats:
        intervals = [b - a for a, b in itertools.pairwise(times) if b > a]
        rate = 1e9 / statistics.fmean(intervals) if intervals else 0.0
        jitter = statistics.pstdev(intervals) / 1e6 if len(intervals) > 1 else 0.0
        return StreamStats(receiver=self.receiver, protocol=protocol, source=key[0], camera_id=key[1], samples=samples,
                           rate_hz=rate, jitter_ms=jitter, last_seen_ns=last, age_ms=(now_ns - last) / 1e6, lost=lost)


class PacketCounters:
    """Packet and bad-packet counts of one receiver (written on its thread)."""

    def __init__(self) -> None:
        self.packets = 0
        self.samples = 0
        self.bad = Counter[str]()
        self.discarded = Counter[str]()
        self._lock = threading.Lock()

    def add(self, packets: int, samples: int, bad: Sequence[str], discarded: Sequence[str] = ()) -> None:
        with self._lock:
            self.packets += packets
            self.samples += samples
            self.bad.update(bad)
            self.discarded.update(discarded)

    def snapshot(self) -> tuple[int, int, dict[str, int], dict[str, int]]:
        with self._lock:
            return self.packets, self.samples, dict(self.bad), dict(self.discarded)
