"""Health counters for tracking receivers and the streams they carry.

A receiver counts what it reads (packets, bad packets by reason). A *stream* is one
(source, camera id) pair seen by a receiver; it has a sample count, rate, jitter (standard
deviation of the inter-arrival interval), last-seen time, and is *lost* after a configurable
silence. Snapshots are immutable and safe to hand to any thread.
"""

from __future__ import annotations

import itertools
import statistics
import threading
from collections import Counter, deque
from dataclasses import dataclass, field

from vpstage.tracking.sample import CameraId, CameraSample

INTERVAL_WINDOW = 120


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass
class _Stream:
    protocol: str
    samples: int = 0
    last_seen_ns: int = 0
    lost: bool = False
    times: deque[int] = field(default_factory=lambda: deque(maxlen=INTERVAL_WINDOW + 1))


class StreamRegistry:
    """Per-receiver stream bookkeeping. Written on the receiver thread, read from any thread."""

    def __init__(self, receiver: str, lost_after_ns: int) -> None:
        self.receiver = receiver
        self.lost_after_ns = lost_after_ns
        self._streams: dict[tuple[str, CameraId], _Stream] = {}
        self._lock = threading.Lock()

    def note(self, sample: CameraSample) -> bool:
        """Record a sample; True when its stream had been reported lost (it is back)."""
        key = sample.stream_key
        with self._lock:
            stream = self._streams.get(key)
            if stream is None:
                stream = self._streams[key] = _Stream(sample.protocol)
            stream.samples += 1
            stream.last_seen_ns = sample.arrival_ns
            stream.times.append(sample.arrival_ns)
            recovered, stream.lost = stream.lost, False
        return recovered

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
        return StreamStats(self.receiver, protocol, key[0], key[1], samples, rate, jitter, last,
                           (now_ns - last) / 1e6, lost)


class PacketCounters:
    """Packet and bad-packet counts of one receiver (written on its thread)."""

    def __init__(self) -> None:
        self.packets = 0
        self.samples = 0
        self.bad = Counter[str]()
        self._lock = threading.Lock()

    def add(self, packets: int, samples: int, bad: list[str]) -> None:
        with self._lock:
            self.packets += packets
            self.samples += samples
            self.bad.update(bad)

    def snapshot(self) -> tuple[int, int, dict[str, int]]:
        with self._lock:
            return self.packets, self.samples, dict(self.bad)
