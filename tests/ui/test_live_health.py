"""Honest health figures: per-node counts with one denominator over the last seconds and the whole
run, CPU rehearsal as a notice rather than an alarm, and plots whose series are read as of one frame.

The frame loop here is a real FrameLoop on the live test stage (render nodes on threads, never
started); the frames it would have closed are recorded into its real StatsHistory, so the counts
and the timing are exact.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from tests.engine.helpers import thread_cluster
from tests.ui.live_rig import LIVE_STAGE
from tests.waiting import wait_for
from ui.live.alarms import AlarmMonitor, split_notices
from ui.live.event_relay import EventRelay
from ui.live.health_panel import COL, HealthPanel
from ui.live.models import LiveModels
from ui.live.node_rates import NodeRateWindow
from ui.live.stats_snapshot import FrameSeries
from vpstage.frame_master import FrameLoop, PatternSource
from vpstage.frame_master.frame_stats import FrameStats, NodeStats, StatsHistory
from vpstage.stage import Stage
from vpstage.stage.document import StageDocument

S = 1_000_000_000
CANVASES = {"n1": ("front-a",), "n2": ("front-b", "side")}


def node(name: str, *, dropped: bool = False, late: bool = False, state: str = "up") -> NodeStats:
    return NodeStats(node=name, state=state, canvases=CANVASES[name], render_ms=math.nan if late else 4.0,
                     present_ms=0.5, present_ns=0, late=late, dropped=dropped)


def frame(index: int, skipped: int = 0, **nodes: NodeStats) -> FrameStats:
    stats = tuple(nodes.get(n) or node(n) for n in CANVASES)
    return FrameStats(frame=index, timecode="00:00:00:00", time_ns=index, deadline_ns=index, plan_ms=1.0, send_ms=0.2,
                      present_ms=0.3, present_skew_ms=0.1, tracking_age_ms=math.nan, tracking_to_present_ms=math.nan,
                      skipped_before=skipped, nodes=stats)


def stage_with(gpu: bool) -> Stage:
    stage = Stage.open(LIVE_STAGE)
    if not gpu:
        return stage
    nodes = [n.model_copy(update={"gpu": i}) for i, n in enumerate(stage.project.nodes)]
    return Stage.from_project(stage.project.model_copy(update={"nodes": nodes}), stage.layout.base_dir)


@pytest.fixture
def cpu_loop() -> Iterator[FrameLoop]:
    stage = stage_with(gpu=False)
    loop = FrameLoop(stage, PatternSource(stage), thread_cluster(stage))
    yield loop
    loop.close()


def record(loop: FrameLoop, frames: range, skipped: int = 0, **nodes: NodeStats) -> FrameStats:
    stats = frame(0)
    for index in frames:
        stats = frame(index, skipped, **nodes)
        loop.history.record(stats)
    return stats


def test_counts_share_their_frames_over_the_last_seconds_and_the_run(cpu_loop: FrameLoop) -> None:
    window = NodeRateWindow(window_s=2.0)
    assert window.update(cpu_loop.history, 0)["n1"].run.frames == 0
    for second in (1, 2, 3):  # 10 closed frames a second, 2 skipped before each: 30 frames a second
        record(cpu_loop, range(10 * second, 10 * second + 10), skipped=2, n1=node("n1", dropped=True, late=True))
        rates = window.update(cpu_loop.history, second * S)
    n1, n2 = rates["n1"], rates["n2"]
    assert (n1.run.frames, n1.run.dropped, n1.run.late) == (90, 90, 30)  # closed frames alone would be 30
    assert (n1.window.frames, n1.window.dropped) == (60, 60) and n1.window_s == pytest.approx(2.0)
    assert (n2.window.frames, n2.window.dropped, n2.window.fresh) == (60, 40, 20)  # only the skipped ones
    for r in (n1, n2):
        assert r.run.dropped <= r.run.frames and r.window.dropped <= r.window.frames
    assert n1.stuck and n2.behind and not n2.stuck


def _evaluate(monitor: AlarmMonitor, loop: FrameLoop, now_ns: int, latest: FrameStats) -> tuple[list[Any], list[Any]]:
    return split_notices(monitor.evaluate(now_ns, None, loop, latest))


def test_a_cpu_stage_that_cannot_keep_up_is_a_notice_not_an_alarm(cpu_loop: FrameLoop) -> None:
    monitor = AlarmMonitor()
    _evaluate(monitor, cpu_loop, 0, frame(0))
    latest = record(cpu_loop, range(60), n1=node("n1", dropped=True, late=True))  # n1 renders slower than 30 fps
    latest = record(cpu_loop, range(60, 62))  # ... but still shows a new picture now and then
    alarms, notices = _evaluate(monitor, cpu_loop, 1 * S, latest)
    assert alarms == []
    assert [n.title for n in notices] == ["CPU REHEARSAL"] and "n1 2/62" in notices[0].detail
    latest = record(cpu_loop, range(62, 400), n1=node("n1", dropped=True, late=True))
    alarms, _ = _evaluate(monitor, cpu_loop, 12 * S, latest)  # nothing new from n1 for 11 s: a real fault
    assert [(a.key, a.title) for a in alarms] == [("stale:n1", "NO NEW PICTURES")]


def test_the_same_drops_on_a_gpu_stage_are_alarms() -> None:
    stage = stage_with(gpu=True)
    loop = FrameLoop(stage, PatternSource(stage), thread_cluster(stage))
    try:
        monitor = AlarmMonitor()
        _evaluate(monitor, loop, 0, frame(0))
        latest = record(loop, range(60), n1=node("n1", dropped=True, late=True))
        alarms, notices = _evaluate(monitor, loop, 1 * S, latest)
    finally:
        loop.close()
    assert notices == []
    assert [(a.key, a.severity, a.detail) for a in alarms] == [
        ("late:n1", "warning", "n1: 60/60 100% late in the last 2 s")]


@pytest.fixture
def health(qtbot: QtBot, cpu_loop: FrameLoop) -> Iterator[tuple[HealthPanel, EventRelay]]:
    relay = EventRelay()
    panel = HealthPanel(StageDocument.open(LIVE_STAGE), relay)
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    qtbot.waitExposed(panel)
    yield panel, relay
    panel.detach()


def test_the_health_panel_shows_counts_against_the_same_frames(health: tuple[HealthPanel, EventRelay],
                                                               cpu_loop: FrameLoop) -> None:
    panel, relay = health
    panel.bind(LiveModels(loop=cpu_loop, stage=cpu_loop.stage))
    relay.latest_stats = record(cpu_loop, range(60), skipped=2, n1=node("n1", dropped=True, late=True))
    panel.refresh()

    def cell(row: int, column: str) -> str:
        return panel.nodes.item(row, COL[column]).text()

    assert [cell(r, "node") for r in (0, 1)] == ["n1", "n2"]
    assert cell(0, "frames") == "180" and cell(0, "dropped 2 s") == "180/180 100%"
    assert cell(0, "late run") == "60/180 33%" and cell(0, "state") == "up · no new pictures"
    assert cell(1, "dropped run") == "120/180 67%" and cell(1, "state") == "up · behind"
    assert "frames 180 (120 skipped)" in panel.summary.text()
    assert panel.notice.isVisible() and panel.notice.text().startswith("CPU rehearsal: new pictures")


class InterleavedHistory(StatsHistory):
    """The loop recording a frame between two of the panel's reads, the first ``times`` times:
    the interleaving a running loop produces now and then, made to happen every time."""

    def __init__(self, times: int) -> None:
        super().__init__(list(CANVASES))
        self.times = times

    def node_series(self, node: str, name: str) -> np.ndarray:
        if self.times > 0:
            self.times -= 1
            self.record(frame(self.frames + 1))
        return super().node_series(node, name)


def test_plot_series_are_read_as_of_one_frame() -> None:
    history = InterleavedHistory(times=1)
    for index in range(5):
        history.record(frame(index))
    naive = (history.series("frame"), history.node_series("n1", "render_ms"))
    assert naive[0].shape != naive[1].shape  # what broke the plots: (881,) against (882,)
    history.times = 3
    series = FrameSeries.read(history, ["n1", "n2"])
    assert series is not None and series.aligned()
    assert len(series.frames) == history.frames == 9
    np.testing.assert_array_equal(series.frames, history.series("frame"))  # nothing recorded since
    history.times = 1_000  # the loop records during every attempt: nothing rather than a wrong picture
    assert FrameSeries.read(history, ["n1"]) is None


def test_the_health_plots_follow_a_running_loop(health: tuple[HealthPanel, EventRelay], cpu_loop: FrameLoop,
                                                qtbot: QtBot) -> None:
    panel, _relay = health
    stop = threading.Event()

    def run() -> None:  # a loop closing a frame every millisecond, far above any stage rate
        index = 0
        while not stop.wait(0.001):
            cpu_loop.history.record(frame(index))
            index += 1

    panel.bind(LiveModels(loop=cpu_loop, stage=cpu_loop.stage))
    writer = threading.Thread(target=run, daemon=True)
    writer.start()
    try:
        for _ in range(60):
            panel.refresh()  # a mismatched pair would raise inside pyqtgraph's setData
            for key in ("render:n1", "render:n2", "skew", "plan"):
                x, y = panel.plots.curves[key].getData() if key in panel.plots.curves else (None, None)
                assert x is None or len(x) == len(y)
        assert wait_for(lambda: cpu_loop.history.frames > 20, 30)  # a loaded machine records fewer meanwhile
        panel.refresh()
    finally:
        stop.set()
        writer.join(5)
    assert len(panel.plots.curves["render:n1"].getData()[0]) > 10


def test_timecode_alarm_follows_the_clocks_lock() -> None:
    from ui.live.alarms import timecode_alarms
    from vpstage.timing import LockStatus

    def status(state: str, alarm: str | None) -> LockStatus:
        return LockStatus(master="ltc", source="LTC file", state=state,  # type: ignore[arg-type]
                          locked=state == "locked", phase_error_us=None, frequency_ppm=0.0, master_rate_ppm=0.0,
                          master_timecode=None, last_seen_ms=None, alarm=alarm)

    assert timecode_alarms(status("locked", None)) == []
    [held] = timecode_alarms(status("holdover", "TIMECODE LOST: nothing from LTC file for 500 ms"))
    assert (held.key, held.severity, held.title) == ("timecode", "warning", "TIMECODE LOST")
    assert held.detail.startswith("nothing from LTC file")
    [failed] = timecode_alarms(status("free", "TIMECODE INPUT FAILED: no such device"))
    assert (failed.severity, failed.title, failed.detail) == ("critical", "TIMECODE INPUT FAILED", "no such device")
