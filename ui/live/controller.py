"""LiveController: starts and stops the live engine for the console and feeds the live panels.

It owns the pieces between the engine's threads and the widgets: the EventRelay (events onto
the GUI thread), the ControlThread (blocking commands), the live-views worker (camera
state, footprint, DoD crops, camera view), the alarm monitor and the EditForwarder (document
edits to the running hub and planner). A GUI
timer (``TICK_HZ``) evaluates alarms and the status bar's live fields; engine events trigger an
extra evaluation at once, so an alarm does not wait for the next tick.

Engine lifecycle (GUI thread): ``start_engine`` snapshots the project and builds and starts the
engine on the control thread (``factory(project, base_dir, file)`` then ``engine.start()``); when
that returns, the panels are bound to its parts while the render nodes build themselves on the
frame loop's thread. ``stop_engine`` unbinds the panels first, then closes the engine on the
control thread (``engine.close()``: loop, cluster, outputs, tracking, recorder). ``shutdown`` does
the same and waits (closing the window).

State (``state``): stopped, starting, running, stopping or failed, one word. While it starts,
``startup`` says what it is doing (``ui.live.startup``: building the engine, each node's step,
waiting for the first frames); after a failed start (the factory or ``engine.start()`` raised, or
the frame loop ended on an error before its first frame: a node could not build), ``failure``
holds why (``ui.live.engine_failure``) and the ENGINE FAILED alarm stays until the next start.
``state_line`` / ``state_details`` put it all in one short line and a full text.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from ui.live.alarms import Alarm, AlarmMonitor, split_notices
from ui.live.console_log import ConsoleLog
from ui.live.control_thread import ControlThread
from ui.live.edit_forwarder import EditForwarder
from ui.live.engine_failure import EngineFailure, failure_from_loop_error, one_line
from ui.live.event_relay import EventRelay
from ui.live.live_status import live_status
from ui.live.live_views import LiveViewsWorker
from ui.live.model_adapters import live_models
from ui.live.models import LiveModels
from ui.live.readouts import RateMeter
from ui.live.startup import StartupProgress, startup_failure, startup_progress
from vpstage.config import atomic_write_text
from vpstage.stage.document import StageDocument
from vpstage.stage.model import Project

EngineFactory = Callable[[Project, Path, Path | None], Any]
"""Builds a (stopped) engine from a project snapshot, the folder its paths start from and the
project's file (None while untitled)."""
TICK_HZ = 5
START, STOP = "start engine", "stop engine"
STATE_LINE_CHARS = 64
"""``state_line`` never runs longer (the toolbar label stays one short line)."""
log = logging.getLogger(__name__)


class LiveController(QObject):
    models_changed = Signal(object)
    """LiveModels of the engine now running, or None (GUI thread)."""
    state_changed = Signal(str)
    """stopped, starting, running, stopping or failed (GUI thread); ``failure`` says why."""
    state_line_changed = Signal(str)
    """``state_line`` when it changes: the state and what a start is doing (GUI thread)."""
    alarms_changed = Signal(list)
    """list[Alarm] (critical and warning), most serious first, when it changes (GUI thread)."""
    notices_changed = Signal(list)
    """list[Alarm] of severity info (e.g. CPU REHEARSAL), when it changes (GUI thread)."""
    status_changed = Signal(object)
    """LiveStatus for the status bar, every tick (GUI thread)."""
    message = Signal(str)

    def __init__(self, document: StageDocument, factory: EngineFactory | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.factory = factory
        self.document = document
        self.relay = EventRelay(self)
        self.control = ControlThread(self)
        self.views = LiveViewsWorker(parent=self)
        self.monitor = AlarmMonitor()
        self.forwarder = EditForwarder(document, self.control, notice=self.message.emit)
        self.engine: Any = None
        self.models: LiveModels | None = None
        self.state = "stopped"
        self._closing = threading.Event()
        self.alarms: list[Alarm] = []
        self.notices: list[Alarm] = []
        self.failure: EngineFailure | None = None
        """Why the last start failed (None after a successful start or before any)."""
        self.startup: StartupProgress | None = None
        """What a start is doing, until the first pictures have come (None otherwise)."""
        self.console_log: ConsoleLog | None = None
        """The console's log file (set by the application); it follows the document's folder."""
        self._build_step = ""
        self._started_at = 0.0
        self._failed_running: EngineFailure | None = None
        self._state_line = ""
        self.camera_name: str | None = None
        self.report_path: Path | None = None
        """Where to write the engine's run report (JSON) each time it stops; None: nowhere."""
        self._rate = RateMeter()
        self._timer = QTimer(self)
        self._timer.setInterval(1000 // TICK_HZ)
        self._timer.timeout.connect(self.tick)
        self._timer.start()
        self.control.finished.connect(self._on_finished)
        self.control.failed.connect(self._on_failed)
        self.control.failure.connect(self._on_failure)
        self._wire_relay()

    def _wire_relay(self) -> None:
        # Bound methods of this QObject (not lambdas): Qt then queues the call onto its thread.
        self.relay.node_down.connect(self._on_node_down)
        self.relay.node_up.connect(self._on_node_up)
        self.relay.output_error.connect(self._on_output_error)
        self.relay.loop_stopped.connect(self._on_loop_stopped)
        self.relay.stream_lost.connect(self._on_stream_event)
        self.relay.stream_recovered.connect(self._on_stream_event)
        self.relay.record_refused.connect(self._on_record_refused)

    def _on_node_down(self, node: str, reason: str) -> None:
        self.monitor.note_node_down(node, reason)
        self.tick()

    def _on_node_up(self, node: str) -> None:
        self.monitor.note_node_up(node)
        self.tick()

    def _on_output_error(self, canvas: str, message: str) -> None:
        self.monitor.note_output_error(canvas, message, time.monotonic_ns())
        self.tick()

    def _on_loop_stopped(self, reason: str) -> None:
        loop = self.models.loop if self.models is not None else None
        if reason.startswith("error") and loop is not None and loop.history.frames == 0:
            self._fail_running(failure_from_loop_error(reason))  # a node could not build itself
            return
        self.monitor.note_loop_stopped(reason)
        self.tick()

    def _on_stream_event(self, _stats: object) -> None:
        self.tick()

    def _on_record_refused(self, frame: int) -> None:
        self.monitor.note_record_refused(frame, time.monotonic_ns())
        self.tick()

    def set_document(self, document: StageDocument) -> None:
        """Follow another document (the window opened a file); the engine keeps its own snapshot."""
        self.forwarder.detach()
        self.document = document
        self.forwarder = EditForwarder(document, self.control, notice=self.message.emit)
        models = self.models
        if models is not None:
            self.forwarder.bind(models.hub, models.planner, models.stage)
        if self.console_log is not None:
            self.console_log.follow(document.path)

    # ------------------------------------------------------------------ engine lifecycle

    @property
    def can_start(self) -> bool:
        return self.factory is not None and self.state in ("stopped", "failed")

    @property
    def state_line(self) -> str:
        """The state on one line of at most ``STATE_LINE_CHARS``: ``running``, ``starting: 1/2
        nodes ready · node2: loading the scene (4/7) · 12 s``, ``failed: 24 problems in the
        project: ...``."""
        if self.state == "failed" and self.failure is not None:
            return one_line(f"failed: {self.failure.summary}", STATE_LINE_CHARS)
        if self.startup is not None and self.state in ("starting", "running"):
            return one_line(self.startup.line(), STATE_LINE_CHARS)
        return self.state

    @property
    def state_details(self) -> str:
        """Everything behind ``state_line`` (every problem of a failed start, every node's step)."""
        if self.state == "failed" and self.failure is not None:
            return self.failure.full_text()
        if self.startup is not None and self.state in ("starting", "running"):
            return self.startup.details()
        return ""

    def start_engine(self) -> bool:
        """Build and start the engine on the control thread; False when it cannot start now."""
        if not self.can_start:
            return False
        factory, doc = self.factory, self.document
        assert factory is not None
        project, base_dir, path = copy.deepcopy(doc.project), doc.base_dir, doc.path

        def build_and_start() -> tuple[Any, dict[str, str]]:
            self._build_step = "building the engine"
            engine = factory(project, base_dir, path)
            self._build_step = "starting tracking and the frame loop"
            try:
                errors = engine.start() or {}
            except BaseException:
                engine.close()
                raise
            if self._closing.is_set():  # the console closed while the engine was starting
                engine.close()
                raise RuntimeError("the console closed while the engine was starting")
            return engine, errors

        self.failure = None
        self.monitor.note_engine_failed(None)
        self._build_step = "preparing"
        self._started_at = time.monotonic()
        self.startup = StartupProgress(phase="building", doing=self._build_step)
        self._set_state("starting")
        self.control.submit(START, build_and_start)
        return True

    def stop_engine(self) -> bool:
        if self.engine is None or self.state != "running":
            return False
        engine = self._release()
        self._set_state("stopping")
        self.control.submit(STOP, functools.partial(self._close_engine, engine))
        return True

    def shutdown(self, timeout: float = 15.0) -> bool:
        """Stop everything and wait up to ``timeout`` seconds (the window is closing). An engine
        still being started is closed as soon as it is up. False when the engine had not
        finished closing in time (its threads are still ending)."""
        if self._closing.is_set():
            return self.control.wait_idle(0)
        self._closing.set()
        self._timer.stop()
        engine = self._release()
        if engine is not None:
            self.control.submit(STOP, functools.partial(self._close_engine, engine))
        self.views.stop()
        done = self.control.wait_idle(timeout)
        if done:
            self.control.shutdown(timeout)
        self.forwarder.detach()
        return done

    def _close_engine(self, engine: Any) -> None:
        """Control thread: write the run report when asked to (``report_path``), then close."""
        try:
            if self.report_path is not None and hasattr(engine, "report"):
                engine.stop()  # the loop first, so the report covers a finished run
                text = json.dumps(engine.report(), indent=2, default=str)
                atomic_write_text(self.report_path, text, backup=False)
        finally:
            engine.close()

    def _release(self) -> Any:
        """Unbind the panels from the engine and forget it; returns it."""
        engine, self.engine = self.engine, None
        if engine is None:
            return None
        self.views.stop()
        self.relay.detach()
        self.forwarder.bind(None)
        self.startup = None
        self.models = None
        self.monitor.reset()
        self._rate.reset()
        self.models_changed.emit(None)
        return engine

    def _on_finished(self, label: str, result: Any) -> None:
        if label == START:
            engine, errors = result
            for source, error in errors.items():
                self.message.emit(f"tracking source {source}: {error}")
            self._attach(engine)
        elif label == STOP and self.engine is None:
            self._stopped()

    def _on_failed(self, label: str, message: str) -> None:
        if label == STOP:
            self._stopped()
            self.message.emit(f"the engine did not stop cleanly: {message}")
        elif label != START:  # a failed start arrives through ``failure``
            self.message.emit(f"{label}: {message}")

    def _on_failure(self, label: str, failure: EngineFailure) -> None:
        if label == START:
            self._fail(failure)

    def _stopped(self) -> None:
        """The engine has closed: stopped, or failed when it ended before its first frame."""
        failure, self._failed_running = self._failed_running, None
        if failure is not None:
            self._fail(failure)
        else:
            self._set_state("stopped")

    def _fail(self, failure: EngineFailure) -> None:
        self.failure = failure.with_log(self.console_log.path if self.console_log is not None else None)
        self.startup = None
        self.monitor.note_engine_failed(self.failure)
        self.message.emit(f"the engine did not start: {failure.summary}")
        self._set_state("failed")

    def _fail_running(self, failure: EngineFailure) -> None:
        """The frame loop ended on an error before its first frame: close the engine, then fail."""
        log.warning("the engine did not start: %s", failure.details)
        engine = self._release()
        self._failed_running = failure
        self._set_state("stopping")
        if engine is not None:
            self.control.submit(STOP, functools.partial(self._close_engine, engine))

    def _attach(self, engine: Any) -> None:
        log.info("engine started after %.1f s; the render nodes build themselves", time.monotonic() - self._started_at)
        self.engine = engine
        self.models = live_models(engine)
        self.relay.attach(hub=self.models.hub, loop=self.models.loop, gpu=self.models.gpu,
                           events=getattr(engine, "events", None))
        self.forwarder.bind(self.models.hub, self.models.planner, self.models.stage)
        self.forwarder.apply_colour_regions()  # edits made while it started
        self._configure_views()
        self.views.start()
        self._set_state("running")
        self.models_changed.emit(self.models)
        self.tick()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
            self.tick()

    # ------------------------------------------------------------------ live views

    def _configure_views(self) -> None:
        models = self.models
        if models is None or models.stage is None:
            return
        hub = models.hub
        cameras = hub.camera_names if hub is not None else []
        if self.camera_name not in cameras:
            self.camera_name = cameras[0] if cameras else None
        self.views.configure(models.stage, hub, models.loop, self.camera_name)

    def follow_camera(self, name: str) -> None:
        self.camera_name = name
        self._configure_views()

    # ------------------------------------------------------------------ alarms and status

    def tick(self) -> None:
        if self.startup is not None:  # first: a start that failed releases the engine here
            self._update_startup(self.models.loop if self.models is not None else None)
        models = self.models
        latest = self.relay.latest_stats
        now = time.monotonic_ns()
        hub, loop = (models.hub, models.loop) if models is not None else (None, None)
        alarms, notices = split_notices(self.monitor.evaluate(now, hub, loop, latest))
        if _identity(alarms) != _identity(self.alarms):
            self.alarms = alarms
            self.alarms_changed.emit(alarms)
        if _identity(notices) != _identity(self.notices):
            self.notices = notices
            self.notices_changed.emit(notices)
        fps = self._rate.update(loop.history.frames, now) if loop is not None else float("nan")
        self.status_changed.emit(live_status(self.state, models, alarms, latest, fps, startup=self.startup,
                                             failure=self.failure, notices=notices))
        line = self.state_line
        if line != self._state_line:
            self._state_line = line
            self.state_line_changed.emit(line)

    def _update_startup(self, loop: Any) -> None:
        """Follow a start until the first pictures have come (see ``ui.live.startup``)."""
        if self.startup is None:
            return
        elapsed = time.monotonic() - self._started_at
        if self.state == "starting":
            self.startup = StartupProgress(phase="building", elapsed_s=elapsed, doing=self._build_step)
        elif self.state == "running" and loop is not None and hasattr(loop, "cluster"):
            self.startup = startup_progress(loop, elapsed)
            failure = startup_failure(self.startup, loop)
            if failure is not None:  # a node could not build itself: the engine did not start
                self._fail_running(failure)
            elif self.startup.done:
                log.info("engine running: first pictures after %.1f s", elapsed)
                self.startup = None
        else:
            self.startup = None


def _identity(alarms: list[Alarm]) -> list[tuple[str, str]]:
    return [(a.key, a.detail) for a in alarms]
