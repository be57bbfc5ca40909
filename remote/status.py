"""The status and health documents of ``GET /api/status`` and ``GET /api/health``, read from a
running ``LiveEngine`` (thread-safe reads only: the planner's last frame, the loop's totals, the
hub's state, the alarm rules the console uses)."""

from __future__ import annotations

import threading
import time
from typing import Any

from ui.live.alarms import AlarmMonitor


class EngineStatus:
    """Builds status documents of one engine; callable from any thread."""

    def __init__(self) -> None:
        self._monitor = AlarmMonitor()
        self._lock = threading.Lock()

    def alarms(self, engine: Any) -> list[dict[str, str]]:
        with self._lock:
            alarms = self._monitor.evaluate(time.monotonic_ns(), engine.tracking, engine.loop, None)
        return [{"key": a.key, "severity": a.severity, "title": a.title, "detail": a.detail} for a in alarms]

    def status(self, engine: Any, state: str) -> dict[str, Any]:
        if engine is None:
            return {"engine": state, "frame": None, "timecode": None, "cameras": [], "recording": None,
                    "alarms": [], "wall": None}
        last = engine.planner.last
        frame = None if last is None else last.tick.index
        timecode = None if last is None else str(last.tick.timecode)
        return {"engine": state, "frame": frame, "timecode": timecode,
                "frame_rate": float(engine.stage.project.frame_rate),
                "cameras": _cameras(engine, last), "recording": _recording(engine),
                "timecode_lock": engine.timecode_lock.display, "alarms": self.alarms(engine),
                "wall": wall_counts(engine)}

    def health(self, engine: Any, state: str) -> dict[str, Any]:
        if engine is None:
            return {"engine": state, "nodes": {}}
        nodes = {}
        for node in engine.stage.project.nodes:
            status = engine.cluster.status(node.name)
            nodes[node.name] = {"state": status[0], **_totals(engine, node.name)}
        return {"engine": state, "nodes": nodes, "wall": wall_counts(engine),
                "tracking": engine.tracking.report(), "previews": engine.loop.previews.report()}


def _totals(engine: Any, node: str) -> dict[str, int]:
    totals = engine.loop.history.totals.get(node)
    if totals is None:
        return {"frames": 0, "late": 0, "dropped": 0}
    return {"frames": totals.frames, "late": totals.late, "dropped": totals.dropped}


def wall_counts(engine: Any) -> dict[str, int]:
    """Frames closed, and late / dropped frames summed over the nodes, since the loop started."""
    history = engine.loop.history
    totals = list(history.totals.values())
    return {"frames": history.frames, "skipped": history.skipped, "late": sum(t.late for t in totals),
            "dropped": sum(t.dropped for t in totals)}


def _cameras(engine: Any, last: Any) -> list[dict[str, Any]]:
    planned = {c.name: c for c in last.cameras} if last is not None else {}
    out = []
    for camera in engine.stage.project.cameras:
        tracked = planned.get(camera.name)
        out.append({"name": camera.name,
                    "tracking": "no data" if tracked is None else ("lost" if tracked.tracking_lost else "ok"),
                    "age_ms": None if tracked is None or tracked.age_ms is None else round(tracked.age_ms, 1),
                    "active": bool(getattr(tracked, "active", False)),
                    "delay_ms": round(engine.tracking.delay_ms(camera.name), 3)})
    return out


def _recording(engine: Any) -> dict[str, Any] | None:
    take = engine.recording
    return None if take is None else {"name": take.name, "slate": take.slate}
