"""The status bar's live fields (``LiveStatus``) from the engine's state and the active alarms (Qt-free)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ui.live.alarms import Alarm
from ui.live.engine_failure import EngineFailure
from ui.live.models import LiveModels
from ui.live.readouts import camera_stream
from ui.live.startup import StartupProgress
from vpstage.timing import clock_lock_status, internal_status


@dataclass(frozen=True)
class LiveField:
    text: str
    state: str = "off"
    """ok, warning, error or off (engine stopped / not applicable)."""
    details: str = ""
    """Everything behind ``text`` (tooltip, details pane); empty when the text says it all."""


@dataclass(frozen=True, kw_only=True)
class LiveStatus:
    engine: LiveField
    timecode: LiveField
    rate: LiveField
    lock: LiveField
    tracking: LiveField
    recording: LiveField

    @staticmethod
    def stopped(engine: str = "ENGINE STOPPED") -> LiveStatus:
        off = LiveField("—")
        return LiveStatus(engine=LiveField(engine), timecode=LiveField("--:--:--:--"), rate=off,
                          lock=LiveField("LOCK —"), tracking=LiveField("TRK —"), recording=LiveField("STANDBY"))


ENGINE_TEXT = {"starting": ("ENGINE STARTING…", "warning"), "running": ("ENGINE RUNNING", "ok"),
               "stopping": ("ENGINE STOPPING…", "warning"), "stopped": ("ENGINE STOPPED", "off")}


def engine_field(state: str, startup: StartupProgress | None, failure: EngineFailure | None) -> LiveField:
    """The engine's state in a few words; what a start is doing, or why it failed, as details."""
    if state == "failed":
        details = failure.full_text() if failure is not None else "the engine did not start"
        return LiveField("ENGINE FAILED", "error", details)
    if startup is not None and state in ("starting", "running"):
        short = startup.short()
        return LiveField(f"ENGINE STARTING · {short}" if short else "ENGINE STARTING…", "warning",
                         startup.details())
    text, tone = ENGINE_TEXT.get(state, (state.upper(), "off"))
    return LiveField(text, tone)


def _lock(alarms: Sequence[Alarm], loop: Any, notices: Sequence[Alarm]) -> LiveField:
    keys = {a.key.split(":")[0] for a in alarms}
    if "loop" in keys:
        return LiveField("LOOP STOPPED", "error")
    if "node" in keys:
        return LiveField("NODE DOWN", "error")
    if "stale" in keys:
        return LiveField("NO NEW PICTURES", "warning")
    if "late" in keys:
        return LiveField("LATE FRAMES", "warning")
    if "dropped" in keys:
        return LiveField("DROPPED", "warning")
    rehearsal = next((n for n in notices if n.key == "rehearsal"), None)
    if rehearsal is not None:  # the CPU cannot keep up: said plainly, not as a fault
        return LiveField("CPU REHEARSAL", "off", rehearsal.detail)
    return LiveField("LOCKED", "ok") if loop is not None else LiveField("LOCK —")


def _tracking(alarms: Sequence[Alarm], hub: Any) -> LiveField:
    if hub is None:
        return LiveField("TRK —")
    lost = [a for a in alarms if a.key.startswith(("tracking:", "receiver:"))]
    if lost:
        return LiveField(f"TRK {lost[0].title.replace('TRACKING ', '')}", "error")
    streams = hub.stream_health()
    rates = [s.rate_hz for name in hub.camera_names if (s := camera_stream(hub, name, streams)) is not None]
    return LiveField(f"TRK {max(rates):.0f} Hz" if rates else "TRK OK", "ok")


def live_status(state: str, models: LiveModels | None, alarms: Sequence[Alarm], latest: Any, fps: float, *,
                startup: StartupProgress | None = None, failure: EngineFailure | None = None,
                notices: Sequence[Alarm] = ()) -> LiveStatus:
    """``state``: the engine's (stopped, starting, running, stopping or failed); ``latest``: the
    last FrameStats; ``fps``: measured frames per second (NaN when unknown); ``startup``: what a
    start is doing; ``failure``: why the last start failed; ``notices``: info entries."""
    engine = engine_field(state, startup, failure)
    if models is None:
        return dataclasses.replace(LiveStatus.stopped(), engine=engine)
    loop = models.loop
    lock = clock_lock_status(loop.clock) if loop is not None else internal_status()
    label = latest.timecode if latest is not None else "--:--:--:--"
    timecode = LiveField(f"{label} {lock.display}", lock.severity if latest is not None else "off", lock.alarm or "")
    if startup is not None:  # no frame yet: nothing is locked or late, and there is no rate to measure
        stopped = LiveStatus.stopped()
        return dataclasses.replace(stopped, engine=engine, rate=LiveField(f"{float(loop.clock.rate):g} fps")
                                   if loop is not None else stopped.rate, tracking=_tracking(alarms, models.hub))
    if loop is not None:
        nominal = float(loop.clock.rate)
        measured = "" if math.isnan(fps) else f" ({fps:.1f})"
        slow = not math.isnan(fps) and fps < nominal * 0.97
        rate = LiveField(f"{nominal:g} fps{measured}", "warning" if slow else "ok")
    else:
        rate = LiveField("—")
    take = models.takes.current_take if models.takes is not None else None
    recording = LiveField(f"● REC {take.name}", "rec") if take is not None else LiveField("STANDBY")
    return LiveStatus(engine=engine, timecode=timecode, rate=rate, lock=_lock(alarms, loop, notices),
                      tracking=_tracking(alarms, models.hub), recording=recording)

