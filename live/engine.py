"""LiveEngine: tracking, planner, render cluster, outputs, frame loop, telemetry and takes, composed.

The console and ``main.py run`` drive the live wall through this one object.
"""

from __future__ import annotations

import logging
import math
import threading
from fractions import Fraction
from typing import Any

import numpy as np
from psygnal import Signal

from devices.telemetry import GpuMonitor
from devices.timecode.master import TimecodeRig
from devices.tracking.hub import TrackingHub
from devices.tracking.simulator import TrackerSimulator
from devices.videohub import VideohubRouter
from live.options import CPU_STALL_S, TRACKER_LEAD_MS, LiveOptions
from live.setup import hub_project, replay_path, run_project, start_tracker_simulator
from render.heap import freeze_startup_heap
from render.node.cluster import default_outputs, make_node_cluster
from vpstage.frame_master import FrameLoop, FramePlan, FrameStats, Planner
from vpstage.frame_master.frame_stats import percentiles
from vpstage.frame_master.node_latency import NodeLatencyHistory
from vpstage.frame_master.record_builder import frame_record
from vpstage.frame_master.task_assigner import TaskAssigner
from vpstage.patterns import PatternSpec
from vpstage.stage import Stage
from vpstage.stage.model import Project
from vpstage.takes import TakeInfo, TakeRecorder
from vpstage.takes.recorder import RecorderError
from vpstage.timing.discipline import LockStatus

log = logging.getLogger(__name__)


class LiveEvents:
    """Engine-level events (psygnal). Threads: ``take_started`` / ``take_stopped`` fire on the
    thread that called ``start_take`` / ``stop_take``; ``tracking_lost`` / ``tracking_recovered``
    and ``record_refused`` fire on the frame loop's thread. A Qt console must queue them onto its
    own thread. The loop's own events are ``engine.loop.events`` (frame loop thread), the
    tracking hub's ``engine.tracking.sample_received`` etc. (receiver threads), GPU samples
    ``engine.gpu.sampled`` (its sampling thread)."""

    take_started = Signal(object)
    """TakeInfo of the take now recording."""
    take_stopped = Signal(object)
    """TakeInfo of the take just closed (status ``complete``)."""
    tracking_lost = Signal(str)
    """(camera) its tracker went silent; its last pose is held."""
    tracking_recovered = Signal(str)
    record_refused = Signal(int)
    """(frame) the recorder refused a frame (queue full or out of order): lost from the take."""
    timecode_state = Signal(object)
    """LockStatus when the frame clock's lock to its timecode master changes state (frame loop
    thread)."""
    timecode_alarm = Signal(str)
    """The timecode alarm when raised (NO TIMECODE, TIMECODE LOST, ...), '' when cleared (frame
    loop thread, or the control thread when the LTC input fails to open)."""


def gpu_report(monitor: GpuMonitor) -> dict[str, Any]:
    """Per GPU the utilization and memory seen during the run (NVML samples), or why there are none."""
    if not monitor.telemetry.available:
        return {"available": False, "reason": monitor.telemetry.reason, "devices": []}
    devices = []
    index = 0
    while history := monitor.history(index):
        devices.append({"index": index, "name": history[-1].name, "samples": len(history),
                        "utilization_pct": percentiles(np.array([s.utilization_pct for s in history])),
                        "memory_used_mib_max": round(max(s.memory_used_mib for s in history), 1),
                        "memory_total_mib": round(history[-1].memory_total_mib, 1),
                        "power_w_max": round(max(s.power_w for s in history), 1)})
        index += 1
    return {"available": True, "reason": monitor.telemetry.reason, "devices": devices}


def stall_frames(project: Project, options: LiveOptions) -> int | None:
    """The loop's stall threshold (see ``LiveOptions.stall_frames``)."""
    if options.stall_frames is not None:
        return options.stall_frames
    if options.scene_renderer and project.nodes and all(n.gpu is None for n in project.nodes):
        return max(project.cluster.stall_frames, math.ceil(CPU_STALL_S * project.frame_rate))
    return None


class LiveEngine:
    """Everything that puts the tracked camera's view on the wall, live.

    Built from a :class:`~vpstage.stage.Stage` and :class:`~live.options.LiveOptions`::

        engine = LiveEngine(stage, LiveOptions(rehearsal=True, outputs="none"))
        engine.start()                      # tracking, simulator, telemetry, router, loop thread
        engine.set_pattern("ceiling", PatternSpec("grid"))   # any thread
        engine.set_delay("A", 45.0)                          # any thread
        take = engine.start_take("A001", scene="12A", notes="")   # needs options.takes_db
        ...
        engine.stop_take(); engine.stop(); report = engine.report(); engine.close()

    Attributes (built in ``__init__``, always present; reach them directly):

    * ``stage`` (``Stage``): the stage as run (the options' scene, a rehearsal camera when the
      stage has none, tracker addresses applied); workers and planner share it.
    * ``tracking`` (``devices.tracking.hub.TrackingHub``): receivers, per-camera buffers, delay.
    * ``simulator`` (``TrackerSimulator | None``): the rehearsal's simulated tracker or a take
      replay, sending real packets to the hub on loopback (None with a real tracker).
    * ``planner`` (``vpstage.frame_master.Planner``): the job source (pattern overrides, placements).
    * ``cluster`` (``vpstage.frame_master.NodeCluster``): the render nodes (one local process per node, or
      Ray actors, or threads for tests); each node renders its canvases and drives their NDI / SDI
      outputs itself.
    * ``loop`` (``vpstage.frame_master.FrameLoop``): the frame master; ``loop.events``, ``loop.history``,
      ``loop.previews`` (thumbnails from the nodes, on request).
    * ``gpu`` (``devices.telemetry.GpuMonitor``): NVML sampling (no-GPU state on CPU machines).
    * ``videohub`` (``devices.videohub.VideohubRouter | None``): when the project declares one.
    * ``recorder`` (``vpstage.takes.TakeRecorder | None``): when ``options.takes_db`` is set.
    * ``latency`` (``vpstage.frame_master.node_latency.NodeLatencyHistory``): per-node present skew and
      tracking-to-present latency (the report's per-node figures).
    * ``events`` (:class:`LiveEvents`).
    * ``timecode`` (``devices.timecode.master.TimecodeRig``): the timecode master (project
      ``timecode``, or the options' override) disciplining ``loop.clock``; ``timecode_lock`` is its
      state now (LOCK / FREE, phase offset, rate; any thread).

    Threads: ``start``/``stop``/``close``, ``start_take``/``stop_take`` belong to the control side
    (the console's GUI thread or the CLI's main thread) and return quickly (``stop_take`` waits
    for the take's frames to be durable, well under a second). Per-frame work runs on the frame
    loop's thread ('vpstage-frame-loop'): planning, sending orders, and, when the nodes have
    reported a frame (about two frames later), building its take record, which is handed to the
    recorder without waiting. Rendering and presenting happen in the node processes.
    ``set_pattern``, ``set_delay`` and the planner's setters may be called from any thread and
    take effect at the next frame.
    """

    def __init__(self, stage: Stage, options: LiveOptions | None = None) -> None:
        self.options = options = options or LiveOptions()
        options.check()
        project = run_project(stage.project, options)
        self.stage = Stage.from_project(project, stage.layout.base_dir) if project != stage.project else stage
        self.stage.path = stage.path
        self._replay = replay_path(options)
        protocol = None if self._replay is None else self._replay.protocol
        self.tracking = TrackingHub(hub_project(project, options, protocol), base_dir=self.stage.layout.base_dir)
        self.simulator: TrackerSimulator | None = None
        self.timecode = TimecodeRig(project, self.stage.layout.base_dir, master=options.timecode_master,
                                    ltc_file=options.ltc_file, ltc_simulate_ppm=options.ltc_simulate_ppm,
                                    tracking_project=self.tracking.project)  # ValueError before anything opens
        self.planner = Planner(self.stage, self.tracking, quality=options.quality, far_m=options.far_m)
        self.planner.tracking_lost.connect(self._on_tracking_lost)
        self.planner.tracking_recovered.connect(self._on_tracking_recovered)
        stall = stall_frames(project, options)
        outputs = default_outputs(self.stage, kind=options.outputs, fourcc=options.fourcc,
                                  prefix=options.ndi_prefix)
        self.cluster = make_node_cluster(self.stage, options.cluster, scene_renderer=options.scene_renderer,
                                         outputs=outputs, far_m=options.far_m)
        assign = project.cluster.assign_tiles if options.assign_tiles is None else options.assign_tiles
        assigner = TaskAssigner(self.stage, options.assigner, far_m=options.far_m) if assign else None
        self.loop = FrameLoop(self.stage, self.planner, self.cluster, stall_frames=stall, assigner=assigner)
        self.timecode.attach(self.loop.clock, self.tracking)
        self.loop.events.frame_closed.connect(self._on_frame_closed)
        self.latency = NodeLatencyHistory([n.name for n in project.nodes])
        self.loop.events.rendered.connect(self.latency.record_render)
        self.gpu = GpuMonitor()
        self.videohub = (VideohubRouter(project.videohub, network_mode=project.network.mode)
                         if options.videohub and project.videohub is not None else None)
        self.recorder = TakeRecorder(options.takes_db) if options.takes_db is not None else None
        self.events = LiveEvents()
        if self.timecode.discipline is not None:
            self.timecode.discipline.events.state_changed.connect(self.events.timecode_state.emit)
            self.timecode.discipline.events.alarm.connect(self._on_timecode_alarm)
        self._trackers = {c.name: c.tracker for c in project.cameras}
        self._asset_hashes: dict[str, str] = {}
        self._take_lock = threading.Lock()
        self._started = False

    # ------------------------------------------------------------------ control side

    def start(self) -> dict[str, str]:
        """Start tracking (and the simulator), telemetry, the router, and the frame loop on its
        own thread. Returns {tracking source: error} for sources that could not open."""
        errors = self._start_sources()
        self.loop.start(self.options.frames)
        self._started = True
        return errors

    def run(self, frames: int | None = None) -> None:
        """Like ``start`` but runs the frame loop on the calling thread until ``frames`` frames
        (or ``options.frames``) ran, or ``stop`` is called from another thread."""
        self._start_sources()
        self._started = True
        self.loop.run(frames if frames is not None else self.options.frames)

    def _start_sources(self) -> dict[str, str]:
        errors = self.tracking.start()
        self.simulator = start_tracker_simulator(self.tracking, self.tracking.project, self.options, self._replay)
        self.timecode.start()  # a failure is the TIMECODE INPUT FAILED alarm: the clock runs free
        self._genlock()
        if self.options.gpu_telemetry:
            self.gpu.start()
        if self.videohub is not None:
            self.videohub.start()
        freeze_startup_heap()
        return errors

    def _genlock(self) -> None:
        """Phase-lock the frame clock to a simulated tracker running at the stage rate (a whole
        multiple of it), as a wall and a tracker on house sync are: every frame instant then falls
        ``TRACKER_LEAD_MS`` after a sample is sent, instead of anywhere up to a period later."""
        simulator = self.simulator
        if not self.options.genlock or simulator is None or simulator.epoch_ns is None:
            return
        if self.timecode.discipline is not None:
            return  # a timecode master sets the phase
        ratio = Fraction(simulator.rate) / Fraction(self.stage.project.frame_rate)
        if ratio.denominator == 1:
            self.loop.clock.genlock(simulator.epoch_ns + int(TRACKER_LEAD_MS * 1e6))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a started loop to end (e.g. after ``options.frames``); True when it has."""
        return self.loop.join(timeout)

    def stop(self) -> None:
        """Stop the frame loop and the simulator (the cluster stays up until ``close``)."""
        self.loop.stop()
        if self.simulator is not None:
            self.simulator.stop()
        self.timecode.stop()

    def close(self) -> None:
        """Stop everything and release it: a take still recording is closed first."""
        self.stop()
        try:
            if self.recorder is not None:
                self.recorder.close()
        finally:
            if self.simulator is not None:
                self.simulator.close()
            self.loop.close()
            self.tracking.stop()
            self.gpu.stop()
            if self.videohub is not None:
                self.videohub.stop()

    def report(self) -> dict[str, Any]:
        """The run report (``FrameLoop.report``) with per-node ``present_skew_ms``,
        ``tracking_to_present_ms`` and ``render_all_ms`` (every answer, late ones included; also
        overall), plus ``tracking`` per receiver (``TrackingHub.report``: counts by reason, never
        tracked) and ``gpus``. Any thread."""
        report = self.loop.report()
        for node, series in self.latency.report().items():
            report["nodes"].setdefault(node, {}).update(series)
        report["render_all_ms"] = percentiles(self.latency.all_renders())
        report["tracking"] = self.tracking.report()
        report["gpus"] = gpu_report(self.gpu)
        report["timecode"] = self.timecode.report()
        return report

    @property
    def timecode_lock(self) -> LockStatus:
        """The frame clock's lock to its timecode master now (any thread): ``state`` (free,
        acquiring, locked, holdover), ``phase_error_us``, ``frequency_ppm``, ``alarm``, and
        ``display`` (``TC LOCK LTC +3 us``, ``TC INT``) for a status bar."""
        return self.timecode.status()

    def set_pattern(self, canvas: str | None, spec: PatternSpec | None) -> None:
        """Test pattern on ``canvas`` (None: every canvas); ``spec`` None goes back to the scene."""
        self.planner.set_pattern(canvas, spec)

    def set_delay(self, camera: str, ms: float) -> None:
        """Tracking delay compensation of ``camera`` in milliseconds (next frame)."""
        self.tracking.set_delay(camera, ms)

    def set_active_camera(self, camera: str | None) -> None:
        """Make ``camera`` the active camera (None: the highest-priority one). Any thread; the next
        frame planned draws its inner frustum over every other camera's (the others are still
        rendered, below it). KeyError for a camera the engine does not plan."""
        self.planner.set_active_camera(camera)

    # ------------------------------------------------------------------ takes

    def start_take(self, slate: str, *, scene: str = "", notes: str = "", camera_roll: str = "",
                   take_number: int | None = None) -> TakeInfo:
        """Open a take on the recorder; every presented frame from now on is recorded."""
        if self.recorder is None:
            raise RecorderError("no takes database: give LiveOptions.takes_db")
        with self._take_lock:
            self._asset_hashes = {}  # the loop's thread asks the cluster (the cluster is the loop's)
            take = self.recorder.start_take(slate, project=self.stage.project, scene=scene, notes=notes,
                                            camera_roll=camera_roll, take_number=take_number)
        self.events.take_started.emit(take)
        return take

    def stop_take(self) -> TakeInfo:
        """Close the take once every accepted frame is durable."""
        if self.recorder is None:
            raise RecorderError("no takes database: give LiveOptions.takes_db")
        with self._take_lock:
            take = self.recorder.stop_take()
        self.events.take_stopped.emit(take)
        return take

    @property
    def recording(self) -> TakeInfo | None:
        return None if self.recorder is None else self.recorder.current_take

    def _loaded_asset_hashes(self) -> dict[str, str]:
        """Asset -> content hash as the first ready worker loaded it ('' when unknown). Reads what
        the cluster cached when each worker became ready (no call into the workers)."""
        for node in self.stage.project.nodes:
            if self.cluster.status(node.name)[0] != "ready":
                continue
            scene = self.cluster.node_info(node.name).get("scene")
            assets = scene.get("assets") if isinstance(scene, dict) else None
            if isinstance(assets, dict):
                return {name: str(a.get("content_hash") or "") for name, a in assets.items() if isinstance(a, dict)}
        return {}

    # ------------------------------------------------------------------ frame loop thread

    def _on_frame_closed(self, stats: FrameStats, frame_plan: FramePlan) -> None:
        plan = frame_plan.planned
        self.latency.record(stats, plan)
        recorder = self.recorder
        if recorder is None or recorder.current_take is None or plan is None or plan.frame != stats.frame:
            return
        if not self._asset_hashes:  # workers report them once ready (a dictionary read, no remote call)
            self._asset_hashes = self._loaded_asset_hashes()
        record = frame_record(plan, stats, self.stage.project.frame_rate, self._trackers, self._asset_hashes)
        if not recorder.record(record):
            self.events.record_refused.emit(stats.frame)

    def _on_timecode_alarm(self, text: str) -> None:
        if text:
            log.warning("timecode: %s", text)
        else:
            log.info("timecode: locked to %s again", self.timecode.master)
        self.events.timecode_alarm.emit(text)

    def _on_tracking_lost(self, camera: str) -> None:
        log.warning("camera %s: tracking lost, holding the last pose", camera)
        self.events.tracking_lost.emit(camera)

    def _on_tracking_recovered(self, camera: str) -> None:
        self.events.tracking_recovered.emit(camera)
