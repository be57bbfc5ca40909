"""Health: alarms, per-node and per-GPU figures, and plots of frame timing and tracking.

Everything is read on one GUI timer (``REFRESH_HZ``, at most 30 Hz): the frame loop's statistics
rings and totals, the latest FrameStats (kept by the EventRelay), the tracking hub's stream
counters and the GPU monitor's history. Tracking figures have no ring of their own in the hub, so
the panel samples them into small rings at each tick (what the plots show). Without NVML the GPU
columns and plot say so ('no GPU: ...') instead of showing zeros.

Per-node counts share one denominator: ``frames`` is every frame the node answered for (the ones
the master skipped included), and dropped / late are shown as shares of it, over the last
``WINDOW_S`` seconds and over the whole run (``ui.live.node_rates``). A node's state says whether
it keeps up (``up``, ``up · behind``, ``up · no new pictures``), and while it builds itself what
it is doing. On a stage that renders on the CPU, a notice above the table says that dropping
frames is expected there; alarms with more to say (a failed engine start) show it in the details
pane under the alarm list. The plots' series are read as of one instant (``FrameSeries.read``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui import palette
from ui.live.alarms import Alarm
from ui.live.event_relay import EventRelay
from ui.live.health_plots import HealthPlots
from ui.live.models import LiveModels
from ui.live.node_rates import WINDOW_S, NodeRates, NodeRateWindow, count_text, cpu_only, cpu_rehearsal_notice
from ui.live.readouts import RateMeter, camera_stream, fmt, last_finite
from ui.live.startup import node_steps
from ui.live.stats_snapshot import FrameSeries
from vpstage.frame_master.frame_stats import RingBuffer
from vpstage.stage.document import StageDocument

REFRESH_HZ = 10
TRACKING_HISTORY = 600
NODE_COLUMNS = ("node", "state", "render ms", "frames", f"dropped {WINDOW_S:g} s", "dropped run", "late run",
                "GPU", "util %", "memory", "temp °C", "power W")
COL = {name: i for i, name in enumerate(NODE_COLUMNS)}
SEVERITY_COLOURS = {"critical": "#ff3b30", "warning": "#e0a526", "info": "#4f8fe8"}
STATE_COLOURS = {"ok": "#5cc45a", "warning": "#e0a526", "error": "#ff3b30", "off": "#9aa3af"}
NOTICE_STYLE = "background: #1d3250; color: #d6e4ff; padding: 4px 6px; border-radius: 2px;"


class HealthPanel(QWidget):
    def __init__(self, document: StageDocument, relay: EventRelay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc, self._relay = document, relay
        self._models: LiveModels | None = None
        self.alarms = QListWidget()
        self.alarms.setObjectName("alarmList")
        self.alarms.setMinimumHeight(40)
        self.alarms.setMaximumHeight(72)
        self.alarms.currentRowChanged.connect(self._show_alarm_details)
        self.alarm_details = QPlainTextEdit()
        self.alarm_details.setObjectName("alarmDetails")
        self.alarm_details.setReadOnly(True)
        self.alarm_details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.alarm_details.setMaximumHeight(140)
        self.alarm_details.hide()
        self.notice = QLabel()
        self.notice.setObjectName("healthNotice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(NOTICE_STYLE)
        self.notice.hide()
        self.summary = QLabel()
        self.summary.setObjectName("healthSummary")
        self.tracking = QLabel()
        self.tracking.setObjectName("healthSummary")
        self.nodes = QTableWidget(0, len(NODE_COLUMNS))
        self.nodes.setHorizontalHeaderLabels(NODE_COLUMNS)
        self.nodes.verticalHeader().setVisible(False)
        self.nodes.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.nodes.horizontalHeader().setStretchLastSection(True)
        self.nodes.setSizeAdjustPolicy(QTableWidget.SizeAdjustPolicy.AdjustToContents)
        self.nodes.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self.plots = HealthPlots()
        self.plots.setMinimumHeight(340)  # in a short dock the panel scrolls rather than squash the plots
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.nodes)
        split.addWidget(self.plots)
        split.setStretchFactor(1, 3)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.alarms)
        box.addWidget(self.alarm_details)
        box.addWidget(self.notice)
        box.addWidget(self.summary)
        box.addWidget(self.tracking)
        box.addWidget(split, 1)
        self.fps = math.nan
        self._rate = RateMeter()
        self._node_rates = NodeRateWindow()
        self._shown_alarms: list[Alarm] = []
        self._tracking: dict[str, dict[str, RingBuffer]] = {}
        self._t0 = time.monotonic()
        self._timer = QTimer(self)
        self._timer.setInterval(1000 // REFRESH_HZ)
        self._timer.timeout.connect(self.refresh)
        self.show_alarms([])
        self.bind(None)

    def detach(self) -> None:
        self._timer.stop()

    def bind(self, models: LiveModels | None) -> None:
        self._models = models
        self._rate.reset()
        self._node_rates.reset()
        self.notice.hide()
        self._tracking = {}
        self._t0 = time.monotonic()
        self.plots.clear_curves()
        self._fill_node_rows()
        if models is None:
            self._timer.stop()
            self.summary.setText("engine stopped")
            self.tracking.setText("")
        else:
            self._timer.start()
            self.refresh()

    def _node_names(self) -> list[str]:
        loop = self._models.loop if self._models else None
        return loop.history.nodes if loop is not None else [n.name for n in self._doc.project.nodes]

    def _fill_node_rows(self) -> None:
        names = self._node_names()
        self.nodes.setRowCount(len(names))
        rows = self.nodes.verticalHeader().defaultSectionSize() * max(1, len(names))
        self.nodes.setMinimumHeight(self.nodes.horizontalHeader().sizeHint().height() + rows + 4)
        for row, name in enumerate(names):
            for col in range(len(NODE_COLUMNS)):
                self.nodes.setItem(row, col, QTableWidgetItem(name if col == 0 else "–"))

    # ------------------------------------------------------------------ alarms

    def show_alarms(self, alarms: Sequence[Alarm]) -> None:
        """The active alarms, most serious first (GUI thread). An alarm with more to say (every
        problem of a failed start) shows it in the details pane below the list."""
        self._shown_alarms = list(alarms)
        self.alarms.blockSignals(True)
        self.alarms.clear()
        if not alarms:
            item = QListWidgetItem("no alarms")
            item.setForeground(QColor("#5cc45a"))
            self.alarms.addItem(item)
        for alarm in alarms:
            item = QListWidgetItem(f"{alarm.title}  —  {alarm.detail}")
            item.setForeground(QColor(SEVERITY_COLOURS[alarm.severity]))
            item.setData(Qt.ItemDataRole.UserRole, alarm.key)
            item.setToolTip(alarm.more or alarm.detail)
            self.alarms.addItem(item)
        self.alarms.blockSignals(False)
        first = next((i for i, a in enumerate(alarms) if a.more), -1)
        self._show_alarm_details(first)

    def _show_alarm_details(self, row: int) -> None:
        alarm = self._shown_alarms[row] if 0 <= row < len(self._shown_alarms) else None
        if alarm is None or not alarm.more:
            alarm = next((a for a in self._shown_alarms if a.more), None)
        self.alarm_details.setVisible(alarm is not None)
        text = alarm.more if alarm is not None else ""
        if text != self.alarm_details.toPlainText():
            self.alarm_details.setPlainText(text)

    # ------------------------------------------------------------------ timer

    def refresh(self) -> None:
        models = self._models
        if models is None:
            return
        if models.loop is not None:
            self._refresh_loop(models.loop, models.stage)
        if models.hub is not None:
            self._refresh_tracking(models.hub)
        self._refresh_gpu(models.gpu)

    def _refresh_loop(self, loop: Any, stage: Any) -> None:
        history = loop.history
        self.fps = self._rate.update(history.frames)
        names = history.nodes
        if self.isVisible():
            self._plot_frames(loop, names)
        rates = self._node_rates.update(history, time.monotonic_ns())
        cpu = cpu_only(getattr(stage, "project", None))
        states = self._node_states(loop, rates, cpu)
        for row, name in enumerate(names):
            self._set_node_row(row, rates.get(name), states.get(name, ("–", "off")),
                               last_finite(history.node_series(name, "render_ms")))
        self._show_notice(cpu_rehearsal_notice(rates) if cpu else None)
        stats = self._relay.latest_stats
        skew = history.series("present_skew_ms")
        skipped, closed = history.skipped, history.frames
        self.summary.setText(
            f"{fmt(self.fps, 1)} fps of {float(loop.clock.rate):g}  ·  frames {closed + skipped} "
            f"({skipped} skipped)  ·  skew {fmt(last_finite(skew), 2)} ms  ·  "
            f"timecode {stats.timecode if stats else '–'}")

    def _plot_frames(self, loop: Any, names: list[str]) -> None:
        """Render time per node, skew and plan time, all read as of one frame."""
        series = FrameSeries.read(loop.history, names)
        if series is None:  # the loop recorded a frame during every attempt: next tick
            return
        index = {n.name: i for i, n in enumerate(self._doc.project.nodes)}
        colours = [(n, palette.node_colour(index.get(n, -1))) for n in names]
        self.plots.set_frame_series(series.frames, colours, series.render, series.skew, series.plan,
                                    1000.0 / float(loop.clock.rate))

    def _node_states(self, loop: Any, rates: dict[str, NodeRates], cpu: bool) -> dict[str, tuple[str, str]]:
        """Node -> (state text, tone): building steps, down, up and whether it keeps up (on a CPU
        stage, not keeping up is expected: amber, not red)."""
        stats = self._relay.latest_stats
        reported = {n.node: n.state for n in stats.nodes} if stats is not None else {}
        progress = loop.cluster.progress() if hasattr(loop, "cluster") else {}
        out = {}
        for step in node_steps(progress, loop.history.nodes):
            state = reported.get(step.node)
            if step.status != "ready" and state != "up":
                out[step.node] = (step.doing(), "error" if step.status == "failed" else "warning")
            elif state is None:
                out[step.node] = ("ready", "ok")
            elif state != "up":
                out[step.node] = (state, "error")
            else:
                out[step.node] = _up_state(rates.get(step.node), cpu)
        return out

    def _set_node_row(self, row: int, rates: NodeRates | None, state: tuple[str, str], render_ms: float) -> None:
        values = {COL["state"]: state[0], COL["render ms"]: fmt(render_ms, 1)}
        if rates is not None:
            run, window = rates.run, rates.window
            values.update({COL["frames"]: str(run.frames),
                           COL[f"dropped {WINDOW_S:g} s"]: count_text(window.dropped, window.frames),
                           COL["dropped run"]: count_text(run.dropped, run.frames),
                           COL["late run"]: count_text(run.late, run.frames)})
        self._set_row(row, values)
        item = self.nodes.item(row, COL["state"])
        if item is not None:
            item.setForeground(QColor(STATE_COLOURS[state[1]]))

    def _show_notice(self, text: str | None) -> None:
        self.notice.setVisible(text is not None)
        if text is not None and text != self.notice.text():
            self.notice.setText(text)

    def _set_row(self, row: int, values: dict[int, str]) -> None:
        for col, text in values.items():
            item = self.nodes.item(row, col)
            if item is not None and item.text() != text:
                item.setText(text)

    def _refresh_tracking(self, hub: Any) -> None:
        now = time.monotonic_ns()
        streams = hub.stream_health()
        seconds = time.monotonic() - self._t0
        parts = []
        for camera in hub.camera_names:
            rings = self._tracking.setdefault(camera, {k: RingBuffer(TRACKING_HISTORY) for k in ("t", "age", "jitter")})
            age = hub.tracking_age_ms(camera, now)
            stream = camera_stream(hub, camera, streams)
            rings["t"].append(seconds)
            rings["age"].append(math.nan if age is None else min(age, 1000.0))
            rings["jitter"].append(stream.jitter_ms if stream is not None else math.nan)
            parts.append(f"camera {camera}: {fmt(stream.rate_hz if stream else None, 1)} Hz, jitter "
                         f"{fmt(stream.jitter_ms if stream else None, 2)} ms, age {fmt(age, 0)} ms")
            if self.isVisible():
                self.plots.set_tracking_series(camera, rings["t"].values() - seconds, rings["age"].values(),
                                               rings["jitter"].values())
        self.tracking.setText("tracking  ·  " + "  ·  ".join(parts) if parts else "tracking: no camera")

    def _refresh_gpu(self, gpu: Any) -> None:
        telemetry = getattr(gpu, "telemetry", None)
        if telemetry is None or not telemetry.available:
            reason = telemetry.reason if telemetry is not None else "no GPU monitor"
            self.plots.show_no_gpu(reason if reason.startswith("no GPU") else f"no GPU: {reason}")
            for row in range(self.nodes.rowCount()):
                self._set_row(row, {COL["GPU"]: "no GPU", COL["util %"]: "–", COL["memory"]: "–",
                                    COL["temp °C"]: "–", COL["power W"]: "–"})
            return
        self.plots.show_no_gpu(None)
        now = time.monotonic_ns()
        gpus = {n.name: n.gpu for n in self._doc.project.nodes if n.host in ("localhost", "127.0.0.1")}
        for row, name in enumerate(self._node_names()):
            index = gpus.get(name)
            samples = gpu.history(index) if index is not None else []
            if not samples:
                self._set_row(row, {COL["GPU"]: "CPU" if index is None else f"GPU {index}"})
                continue
            s = samples[-1]
            self._set_row(row, {COL["GPU"]: f"{index}: {s.name}", COL["util %"]: fmt(s.utilization_pct, 0),
                                COL["memory"]: f"{s.memory_used_mib / 1024:.1f}/{s.memory_total_mib / 1024:.0f} GiB",
                                COL["temp °C"]: fmt(s.temperature_c, 0),
                                COL["power W"]: f"{s.power_w:.0f}/{s.power_limit_w:.0f}"})
            if self.isVisible() and index is not None:
                t = np.array([(x.time_ns - now) / 1e9 for x in samples])
                self.plots.set_gpu_series(index, t, np.array([x.utilization_pct for x in samples]))


def _up_state(rates: NodeRates | None, cpu: bool) -> tuple[str, str]:
    """An up node: whether it shows this frame's pictures (over the last ``WINDOW_S`` seconds)."""
    if rates is None or rates.window.frames == 0:
        return "up", "ok"
    if rates.stuck:
        return "up · no new pictures", "warning" if cpu else "error"
    if rates.behind:
        return "up · behind", "warning"
    return "up", "ok"
