"""Alarms: what is wrong with the engine right now, most serious first (Qt-free).

``AlarmMonitor.evaluate`` looks at the tracking hub and the frame loop (cheap reads: stream
counters, the loop's running per-node totals) and at the events it was told about (an engine
that failed to start and why, a node marked down and why, output errors, the loop stopping on an
error), and returns the active alarms sorted by severity. The console calls it from a GUI timer a
few times a second and on every engine event, so an alarm shows within ~200 ms of its cause.

Late and dropped frames are counted over the last ``WINDOW_S`` seconds with the same denominators
as the whole-run figures (``ui.live.node_rates``). On a stage whose nodes all render on the CPU
(rehearsal), dropping most frames is the expected state, not a fault: it comes back as one
``info`` entry (``CPU REHEARSAL``), which the console shows as a notice rather than on the alarm
strip; a CPU node is an alarm only when it showed no new picture for ``CPU_NO_FRESH_S``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ui.live.engine_failure import EngineFailure
from ui.live.node_rates import (
    CPU_NO_FRESH_S,
    WINDOW_S,
    NodeRates,
    NodeRateWindow,
    count_text,
    cpu_only,
    cpu_rehearsal_notice,
)
from vpstage.timing import LockStatus, clock_lock_status

Severity = Literal["critical", "warning", "info"]
SEVERITY_RANK: dict[str, int] = {"critical": 0, "warning": 1, "info": 2}
EVENT_ALARM_HOLD_S = 5.0


@dataclass(frozen=True, kw_only=True)
class Alarm:
    key: str
    """Stable identity (e.g. ``tracking:A``), so the console can tell a new alarm from an old one."""
    severity: Severity
    title: str
    """Short, upper case: what an operator reads across the room (``TRACKING LOST``)."""
    detail: str
    """One line."""
    more: str = ""
    """Everything else, any number of lines (e.g. every problem of a failed engine start)."""


def split_notices(alarms: Sequence[Alarm]) -> tuple[list[Alarm], list[Alarm]]:
    """(alarms: critical and warning, notices: info), each in the given order."""
    return [a for a in alarms if a.severity != "info"], [a for a in alarms if a.severity == "info"]


def sort_alarms(alarms: Sequence[Alarm]) -> list[Alarm]:
    return sorted(alarms, key=lambda a: (SEVERITY_RANK[a.severity], a.key))


def _age_text(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


def tracking_alarms(hub: Any, now_ns: int) -> list[Alarm]:
    """Per receiver: failed to open. Per camera (key ``tracking:<camera>``): nothing received yet
    (warning, during its source's ``never_tracked_after_ms`` grace period), NEVER TRACKED (critical:
    the grace period passed without a single sample), or TRACKING LOST (critical: samples came,
    then none for longer than ``lost_after_ms``)."""
    alarms = []
    sources = {s.name: s for s in hub.project.tracking}
    cameras = {c.name: c for c in hub.project.cameras}
    receivers = {r.name: r for r in hub.receiver_health()}
    for receiver in receivers.values():
        if receiver.error:
            alarms.append(Alarm(key=f"receiver:{receiver.name}", severity="critical", title="TRACKER INPUT FAILED",
                                detail=f"{receiver.name} ({receiver.address}): {receiver.error}"))
    for name in hub.camera_names:
        tracker = cameras[name].tracker if name in cameras else "?"
        source = sources.get(tracker)
        age = hub.tracking_age_ms(name, now_ns)
        if age is None:
            alarms.append(_untracked_alarm(hub, name, tracker, source, receivers.get(tracker), now_ns))
        elif age > (source.lost_after_ms if source is not None else 500.0):
            alarms.append(Alarm(key=f"tracking:{name}", severity="critical", title="TRACKING LOST",
                                detail=f"camera {name} ({tracker}): no data for {_age_text(age)}"))
    return alarms


def _untracked_alarm(hub: Any, name: str, tracker: str, source: Any, receiver: Any, now_ns: int) -> Alarm:
    """A camera without any sample yet: waiting (warning) within the grace period, else NEVER TRACKED."""
    grace_ms = source.never_tracked_after_ms if source is not None else 3000.0
    if not hub.never_tracked(name, now_ns):
        return Alarm(key=f"tracking:{name}", severity="warning", title="NO TRACKING",
                     detail=f"camera {name}: waiting for {tracker} (NEVER TRACKED after {_age_text(grace_ms)})")
    return Alarm(key=f"tracking:{name}", severity="critical", title="NEVER TRACKED",
                 detail=f"camera {name}: no sample from {tracker} since it started "
                        f"({_age_text(grace_ms)} grace){_input_text(receiver)}")


def _input_text(receiver: Any) -> str:
    """What the source did send, without counts (they change every tick): the detail stays put."""
    if receiver is None:
        return ""
    if receiver.samples:
        return "; it sends samples for other camera ids"
    if receiver.bad_packets:
        return f"; it receives only bad packets ({', '.join(sorted(receiver.bad_by_reason))})"
    if receiver.packets:
        return "; it receives packets without a complete sample"
    return "; nothing arrives"


class AlarmMonitor:
    """Turns engine state and events into alarms. Events are noted from the GUI thread (through
    the event relay); ``evaluate`` runs there too."""

    def __init__(self) -> None:
        self._down_reason: dict[str, str] = {}
        self._output_errors: dict[str, tuple[str, int]] = {}
        self._stopped_error: str | None = None
        self._refused: tuple[int, int] | None = None
        """(frames refused by the take recorder, time of the last)."""
        self._failure: EngineFailure | None = None
        self.rates = NodeRateWindow()
        self.node_rates: dict[str, NodeRates] = {}
        """Per node, as of the last ``evaluate`` (empty without a loop)."""

    def note_engine_failed(self, failure: EngineFailure | None) -> None:
        """The engine could not start (None: a new start is under way)."""
        self._failure = failure

    def note_node_down(self, node: str, reason: str) -> None:
        self._down_reason[node] = reason

    def note_node_up(self, node: str) -> None:
        self._down_reason.pop(node, None)

    def note_output_error(self, canvas: str, message: str, now_ns: int) -> None:
        self._output_errors[canvas] = (message, now_ns)

    def note_record_refused(self, frame: int, now_ns: int) -> None:
        count = self._refused[0] + 1 if self._refused is not None else 1
        self._refused = (count, now_ns)

    def note_loop_stopped(self, reason: str) -> None:
        self._stopped_error = reason if reason.startswith("error") else None

    def reset(self) -> None:
        """The engine went away: forget its events (an engine failure stays until the next start)."""
        self._down_reason.clear()
        self._output_errors.clear()
        self._stopped_error = None
        self._refused = None
        self.rates.reset()
        self.node_rates = {}

    def evaluate(self, now_ns: int, hub: Any = None, loop: Any = None, latest: Any = None) -> list[Alarm]:
        """Active alarms (and ``info`` notices), most serious first. ``latest`` is the last
        FrameStats (or None)."""
        alarms: list[Alarm] = []
        if self._failure is not None:
            alarms.append(Alarm(key="engine", severity="critical", title="ENGINE FAILED", detail=self._failure.summary,
                                more=self._failure.full_text()))
        if self._stopped_error:
            alarms.append(Alarm(
                key="loop", severity="critical", title="FRAME LOOP STOPPED", detail=self._stopped_error))
        if hub is not None:
            alarms += tracking_alarms(hub, now_ns)
        if loop is not None:
            alarms += self._loop_alarms(loop, latest, now_ns)
        if self._refused is not None and (now_ns - self._refused[1]) / 1e9 <= EVENT_ALARM_HOLD_S:
            alarms.append(Alarm(key="take", severity="warning", title="TAKE FRAMES LOST",
                                detail=f"the recorder refused {self._refused[0]} frame(s) (disk too slow?)"))
        for canvas, (message, at_ns) in list(self._output_errors.items()):
            if (now_ns - at_ns) / 1e9 > EVENT_ALARM_HOLD_S:
                del self._output_errors[canvas]
            else:
                alarms.append(Alarm(key=f"output:{canvas}", severity="warning", title="OUTPUT ERROR",
                                    detail=f"{canvas}: {message}"))
        return sort_alarms(alarms)

    def _loop_alarms(self, loop: Any, latest: Any, now_ns: int) -> list[Alarm]:
        alarms = []
        up = set()
        if latest is not None:
            for node in latest.nodes:
                if node.state != "up":
                    reason = self._down_reason.get(node.node, node.state)
                    alarms.append(Alarm(key=f"node:{node.node}", severity="critical", title="NODE DOWN",
                                        detail=f"{node.node}: {reason}"))
                elif node.canvases:
                    up.add(node.node)
        clock = getattr(loop, "clock", None)
        if clock is not None:
            alarms += timecode_alarms(clock_lock_status(clock))
        self.node_rates = self.rates.update(loop.history, now_ns)
        rates = {n: r for n, r in self.node_rates.items() if n in up}
        if cpu_only(getattr(getattr(loop, "stage", None), "project", None)):
            return alarms + cpu_alarms(rates)
        return alarms + frame_alarms(rates)


def timecode_alarms(lock: LockStatus) -> list[Alarm]:
    """The clock's master is lost, silent, failed or off rate (``TIMECODE LOST: ...``): a warning
    while the clock holds over on its learned rate, critical otherwise."""
    if lock.alarm is None:
        return []
    title, _, detail = lock.alarm.partition(": ")
    severity: Severity = "critical" if lock.severity == "error" else "warning"
    return [Alarm(key="timecode", severity=severity, title=title, detail=detail or lock.display)]


def frame_alarms(rates: dict[str, NodeRates]) -> list[Alarm]:
    """Late or dropped frames within the last ``WINDOW_S`` seconds, per node (a stage on GPUs)."""
    alarms = []
    for node, r in rates.items():
        w = r.window
        if w.late:
            alarms.append(Alarm(key=f"late:{node}", severity="warning", title="LATE FRAMES",
                                detail=f"{node}: {count_text(w.late, w.frames)} late in the last {WINDOW_S:g} s"))
        elif w.dropped:
            alarms.append(Alarm(key=f"dropped:{node}", severity="warning", title="DROPPED FRAMES",
                                detail=f"{node}: {count_text(w.dropped, w.frames)} dropped in the last {WINDOW_S:g} s"))
    return alarms


def cpu_alarms(rates: dict[str, NodeRates]) -> list[Alarm]:
    """A CPU stage: a node without a new picture for ``CPU_NO_FRESH_S`` is an alarm; dropping
    frames because the CPU cannot keep up is one notice (see the module docstring)."""
    alarms = []
    for node, r in rates.items():
        if r.since_fresh_s > CPU_NO_FRESH_S:
            alarms.append(Alarm(key=f"stale:{node}", severity="warning", title="NO NEW PICTURES",
                                detail=f"{node}: no new picture for {r.since_fresh_s:.0f} s"))
    notice = cpu_rehearsal_notice(rates)
    if notice is not None:
        alarms.append(Alarm(key="rehearsal", severity="info", title="CPU REHEARSAL", detail=notice))
    return alarms
