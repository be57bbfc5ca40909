"""Health: alarms, per-node and per-GPU figures, and plots of frame timing and tracking.

Everything is read on one GUI timer (``REFRESH_HZ``, at most 30 Hz): the frame loop's statistics
rings and totals, the latest FrameStats (kept by the EngineBridge), the tracking hub's stream
counters and the GPU monitor's history. Tracking figures have no ring of their own in the hub, so
the panel samples them into small rings at each tick (what the plots show). Without NVML the GPU
columns and plot say so ('no GPU: ...') instead of showing zeros.
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
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui import palette
from ui.live.alarms import Alarm
from ui.live.bridge import EngineBridge
from ui.live.health_plots import HealthPlots
from ui.live.models import LiveModels
from ui.live.readouts import RateMeter, camera_stream, fmt, last_finite
from vpstage.engine.stats import RingBuffer
from vpstage.stage.document import StageDocument

REFRESH_HZ = 10
TRACKING_HISTORY = 600
NODE_COLUMNS = ("node", "state", "render ms", "late", "dropped", "GPU", "util %", "memory", "temp °C", "power W")
SEVERITY_COLOURS = {"critical": "#ff3b30", "warning": "#e0a526", "info": "#4f8fe8"}


class HealthPanel(QWidget):
    def __init__(self, document: StageDocument, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc, self._bridge = document, bridge
        self._models: LiveModels | None = None
        self.alarms = QListWidget()
        self.alarms.setObjectName("alarmList")
        self.alarms.setMinimumHeight(40)
        self.alarms.setMaximumHeight(72)
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
        box.addWidget(self.summary)
        box.addWidget(self.tracking)
        box.addWidget(split, 1)
        self.fps = math.nan
        self._rate = RateMeter()
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
        """The active alarms, most serious first (GUI thread)."""
        self.alarms.clear()
        if not alarms:
            item = QListWidgetItem("no alarms")
            item.setForeground(QColor("#5cc45a"))
            self.alarms.addItem(item)
            return
        for alarm in alarms:
            item = QListWidgetItem(f"{alarm.title}  —  {alarm.detail}")
            item.setForeground(QColor(SEVERITY_COLOURS[alarm.severity]))
            item.setData(Qt.ItemDataRole.UserRole, alarm.key)
            self.alarms.addItem(item)

    # ------------------------------------------------------------------ timer

    def refresh(self) -> None:
        models = self._models
        if models is None:
            return
        if models.loop is not None:
            self._refresh_loop(models.loop)
        if models.hub is not None:
            self._refresh_tracking(models.hub)
        self._refresh_gpu(models.gpu)

    def _refresh_loop(self, loop: Any) -> None:
        history = loop.history
        self.fps = self._rate.update(history.frames)
        stats = self._bridge.latest_stats
        names = history.nodes
        index = {n.name: i for i, n in enumerate(self._doc.project.nodes)}
        frames = history.series("frame")
        render = [history.node_series(n, "render_ms") for n in names]
        period_ms = 1000.0 / float(loop.clock.rate)
        if self.isVisible():
            self.plots.set_frame_series(frames, [(n, palette.node_colour(index.get(n, -1))) for n in names], render,
                                        history.series("present_skew_ms"), history.series("plan_ms"), period_ms)
        states = {n.node: n.state for n in stats.nodes} if stats is not None else {}
        for row, name in enumerate(names):
            totals = history.totals[name]
            self._set_row(row, {1: states.get(name, "–"), 2: fmt(last_finite(render[row]), 1),
                                3: str(totals.late), 4: str(totals.dropped)})
        skew = history.series("present_skew_ms")
        self.summary.setText(
            f"{fmt(self.fps, 1)} fps of {float(loop.clock.rate):g}  ·  frame {history.frames}  ·  "
            f"skipped {history.skipped}  ·  skew {fmt(last_finite(skew), 2)} ms  ·  "
            f"timecode {stats.timecode if stats else '–'}")

    def _set_row(self, row: int, values: dict[int, str]) -> None:
        for col, text in values.items():
            item = self.nodes.item(row, col)
            if item is not None and item.text() != text:
                item.setText(text)
                if col == 1:
                    item.setForeground(QColor("#5cc45a" if text == "up" else "#ff3b30"))

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
                self._set_row(row, {5: "no GPU", 6: "–", 7: "–", 8: "–", 9: "–"})
            return
        self.plots.show_no_gpu(None)
        now = time.monotonic_ns()
        gpus = {n.name: n.gpu for n in self._doc.project.nodes if n.host in ("localhost", "127.0.0.1")}
        for row, name in enumerate(self._node_names()):
            index = gpus.get(name)
            samples = gpu.history(index) if index is not None else []
            if not samples:
                self._set_row(row, {5: "CPU" if index is None else f"GPU {index}"})
                continue
            s = samples[-1]
            self._set_row(row, {5: f"{index}: {s.name}", 6: fmt(s.utilization_pct, 0),
                                7: f"{s.memory_used_mib / 1024:.1f}/{s.memory_total_mib / 1024:.0f} GiB",
                                8: fmt(s.temperature_c, 0), 9: f"{s.power_w:.0f}/{s.power_limit_w:.0f}"})
            if self.isVisible() and index is not None:
                t = np.array([(x.time_ns - now) / 1e9 for x in samples])
                self.plots.set_gpu_series(index, t, np.array([x.utilization_pct for x in samples]))
