"""Per-take statistics: duration, missing frames, late/dropped frames per node, tracking gaps.

Pure functions over a take's frame records (in frame order); no database access.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from vpstage.takes.frame_records import FrameRecord, TakeInfo

DEFAULT_GAP_THRESHOLD_MS = 100.0


@dataclass(frozen=True, kw_only=True)
class FrameRange:
    """Consecutive recorded frames ``first_frame..last_frame`` (inclusive) and their timecodes."""

    first_frame: int
    last_frame: int
    first_timecode: str
    last_timecode: str
    frames: int


@dataclass(frozen=True, kw_only=True)
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


@dataclass(frozen=True, kw_only=True)
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
        return TakeStats(take=take.name, frame_count=0, first_frame=None, last_frame=None, start_timecode=None,
                         end_timecode=None, duration_s=0.0, clock_duration_s=0.0, missing_frames=0, missing_ranges=[],
                         gap_threshold_ms=gap_threshold_ms, nodes=[], tracking_gaps=[])
    first, last = frames[0], frames[-1]
    period = 1 / take.rate
    missing = _missing_ranges([f.frame for f in frames])
    return TakeStats(take=take.name, frame_count=len(frames), first_frame=first.frame, last_frame=last.frame,
                     start_timecode=first.timecode, end_timecode=last.timecode,
                     duration_s=float((last.timecode_frames - first.timecode_frames + 1) * period),
                     clock_duration_s=(last.monotonic_ns - first.monotonic_ns) / 1e9 + float(period),
                     missing_frames=sum(b - a + 1 for a, b in missing), missing_ranges=missing,
                     gap_threshold_ms=gap_threshold_ms, nodes=_node_stats(frames),
                     tracking_gaps=_tracking_gaps(frames, gap_threshold_ms))


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
    return FrameRange(first_frame=frames[i].frame, last_frame=frames[j].frame, first_timecode=frames[i].timecode,
                      last_timecode=frames[j].timecode, frames=j - i + 1)


def _node_stats(frames: Sequence[FrameRecord]) -> list[NodeStats]:
    out = []
    for name in dict.fromkeys(n.node for f in frames for n in f.nodes):
        timings = [next((n for n in f.nodes if n.node == name), None) for f in frames]
        present = [t for t in timings if t is not None]
        flagged = [t is not None and (t.late or t.dropped) for t in timings]
        renders = [t.render_ms for t in present]
        out.append(NodeStats(node=name, frames=len(present), late=sum(t.late for t in present),
                             dropped=sum(t.dropped for t in present), mean_render_ms=float(sum(renders) / len(renders)),
                             max_render_ms=max(renders), max_plan_ms=max(t.plan_ms for t in present),
                             max_present_ms=max(t.present_ms for t in present),
                             late_or_dropped=[_frame_range(frames, i, j) for i, j in _ranges(frames, flagged)]))
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
