"""Per-take statistics: duration, missing frames, late/dropped frames per node, tracking gaps.

Pure functions over a take's frame records (in frame order); no database access.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from vpstage.takes.records import FrameRecord, TakeInfo

DEFAULT_GAP_THRESHOLD_MS = 100.0


@dataclass(frozen=True)
class FrameRange:
    """Consecutive recorded frames ``first_frame..last_frame`` (inclusive) and their timecodes."""

    first_frame: int
    last_frame: int
    first_timecode: str
    last_timecode: str
    frames: int


@dataclass(frozen=True)
class NodeStats:
    """One render node over the take (times in ms)."""

    node: str
    frames: int
    late: int
    dropped: int
    mean_render_ms: float
    max_render_ms: float
    max_plan_ms: float
    max_present_ms: float
    late_or_dropped: list[FrameRange] = field(default_factory=list)


@dataclass(frozen=True)
class TrackingGap:
    """Frames in which a camera's tracking was missing or older than the threshold."""

    camera: str
    range: FrameRange
    missing_frames: int
    """Frames in the range with no tracking sample at all."""
    max_age_ms: float | None
    """Oldest sample age seen in the range (None if every frame lacked a sample)."""


@dataclass(frozen=True)
class TakeStats:
    take: str
    frame_count: int
    first_frame: int | None
    last_frame: int | None
    start_timecode: str | None
    end_timecode: str | None
    duration_s: float
    """Timecode span: (last - first + 1) frames at the take's rate."""
    clock_duration_s: float
    """Monotonic span from the first to the last recorded frame, plus one frame period."""
    missing_frames: int
    """Frame numbers between first and last that have no record (lost or never produced)."""
    missing_ranges: list[tuple[int, int]]
    gap_threshold_ms: float
    nodes: list[NodeStats]
    tracking_gaps: list[TrackingGap]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def take_stats(take: TakeInfo, frames: Sequence[FrameRecord],
               gap_threshold_ms: float = DEFAULT_GAP_THRESHOLD_MS) -> TakeStats:
    """Statistics of ``take`` from its frames (in increasing frame order)."""
    if not frames:
        return TakeStats(take.name, 0, None, None, None, None, 0.0, 0.0, 0, [], gap_threshold_ms, [], [])
    first, last = frames[0], frames[-1]
    period = 1 / take.rate
    missing = _missing_ranges([f.frame for f in frames])
    return TakeStats(
        take.name, len(frames), first.frame, last.frame, first.timecode, last.timecode,
        float((last.timecode_frames - first.timecode_frames + 1) * period),
        (last.monotonic_ns - first.monotonic_ns) / 1e9 + float(period),
        sum(b - a + 1 for a, b in missing), missing, gap_threshold_ms,
        _node_stats(frames), _tracking_gaps(frames, gap_threshold_ms))


def _missing_ranges(numbers: list[int]) -> list[tuple[int, int]]:
    return [(a + 1, b - 1) for a, b in itertools.pairwise(numbers) if b - a > 1]


def _ranges(frames: Sequence[FrameRecord], flagged: Iterable[bool]) -> list[tuple[int, int]]:
    """Index ranges (inclusive) of consecutive flagged records."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    for i, bad in enumerate(flagged):
        if bad and start is None:
            start = i
        elif not bad and start is not None:
            out.append((start, i - 1))
            start = None
    if start is not None:
        out.append((start, len(frames) - 1))
    return out


def _frame_range(frames: Sequence[FrameRecord], i: int, j: int) -> FrameRange:
    return FrameRange(frames[i].frame, frames[j].frame, frames[i].timecode, frames[j].timecode, j - i + 1)


def _node_stats(frames: Sequence[FrameRecord]) -> list[NodeStats]:
    out = []
    for name in dict.fromkeys(n.node for f in frames for n in f.nodes):
        timings = [next((n for n in f.nodes if n.node == name), None) for f in frames]
        present = [t for t in timings if t is not None]
        flagged = [t is not None and (t.late or t.dropped) for t in timings]
        renders = [t.render_ms for t in present]
        out.append(NodeStats(
            name, len(present), sum(t.late for t in present), sum(t.dropped for t in present),
            float(sum(renders) / len(renders)), max(renders), max(t.plan_ms for t in present),
            max(t.present_ms for t in present), [_frame_range(frames, i, j) for i, j in _ranges(frames, flagged)]))
    return out


def _tracking_gaps(frames: Sequence[FrameRecord], threshold_ms: float) -> list[TrackingGap]:
    gaps = []
    for name in dict.fromkeys(c.camera for f in frames for c in f.cameras):
        records = [f.camera(name) for f in frames]
        ages = [None if r is None or r.calibrated is None else r.tracking_age_ms for r in records]
        flagged = [age is None or age > threshold_ms for age in ages]
        for i, j in _ranges(frames, flagged):
            window = ages[i:j + 1]
            known = [a for a in window if a is not None]
            gaps.append(TrackingGap(name, _frame_range(frames, i, j), sum(a is None for a in window),
                                    max(known) if known else None))
    return gaps


def duration_label(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}:{secs:06.3f}"
