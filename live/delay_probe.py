"""The delay probe: a closed loop that moves the camera in a known pattern, watches the wall, and
measures how long a pose takes to appear there (``main.py measure-delay``; docs/tracking.md,
"Measuring the delay").

What runs, all of it the real thing except the shading of the canvases:

* a ``TrackerSimulator`` sends the probe path (``devices.delay_probe.probe_path``: the camera fixed
  in front of the watched canvas, panning in ``ProbeMotion``'s pseudo-random binary pattern) as
  real packets (the camera's tracking protocol) to the ``TrackingHub`` on loopback, optionally
  through a ``DelayLine`` (``inject_ms``) that makes the tracker that much slower;
* the ``LiveEngine`` (its planner, node cluster, frame lock and NDI outputs) runs the stage with
  ``render.scene.probe_renderer`` as the nodes' scene engine: every canvas black, and the camera's exact
  inner pixels (the same ``inner_pixels`` the scene renderer composites into) white, so the
  picture is where the engine put the inner frustum;
* an ``NdiWatcher`` receives the watched canvas on loopback and stamps every picture on arrival;
  each picture becomes one number, the azimuth (degrees, seen from the camera's eye) of the
  window's centroid on the wall (``vpstage.tracking.delay_measure.WindowSignal`` over a map of
  each canvas pixel's LED azimuth, so the canvas's pixel map does not matter);
* that signal is cross-correlated with the commanded pan (the path, a function of the
  simulator's clock) three ways: by arrival time (**tracking to wall**: what the tool reports
  and proposes ``delay_ms`` from), by the frame's present time (its NDI timecode names the frame;
  the node reports when it presented it), and the pan the planner used at each frame instant
  (from the loop's closed frames: no picture involved).

``inject_ms`` is known only to the delay line: the analysis sees pictures and the commanded path,
nothing else, so a run with and without it checks the tool.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from devices.delay_probe import (
    CaptureWatcher,
    DelayLine,
    NdiWatcher,
    PictureSample,
    ndi_100ns_to_count,
    probe_path,
)
from devices.tracking.simulator import Link, TrackerSimulator, UdpLink
from devices.tracking.take_replay import encoder_for
from live.engine import LiveEngine
from live.options import TRACKER_LEAD_MS, LiveOptions
from live.setup import REHEARSAL_CAMERA, REHEARSAL_SOURCE, bound_port, stream_id
from render.scene.probe_renderer import PROBE_RENDERER
from vpstage.frame_master import FramePlan, FrameStats
from vpstage.frustum.geometry import canvas_geometry
from vpstage.frustum.rays import outer_directions
from vpstage.stage import Stage
from vpstage.stage.model import Camera, Project
from vpstage.timing import frames_per_day
from vpstage.tracking.delay_measure import LagEstimate, ProbeMotion, WindowSignal, measure_lag, proposed_delay

FOCAL_LENGTHS_MM = (35.0, 50.0, 75.0, 100.0, 135.0, 200.0)
"""Focal lengths tried, widest first, until the inner window fits the canvas with room to pan."""
LENS_FOR_PROTOCOL = {"freed": "zcam-freed"}
"""The lens profile that reads the simulator's lens encoding back exactly (others: ``physical``)."""
REFERENCE_RATE_HZ = 1000.0


# ----------------------------------------------------------------------------- where to look


@dataclass(frozen=True, kw_only=True)
class ProbeAim:
    """Where the probe camera stands and how it pans for one canvas."""

    canvas: str
    eye: tuple[float, float, float]
    pan_deg: float
    tilt_deg: float
    focal_length_mm: float
    amplitude_deg: float
    span_deg: tuple[float, float]
    """The canvas's LEDs seen from the eye: azimuth range relative to ``pan_deg``."""
    window_half_deg: float
    """Half the inner window's width (overscan included), degrees."""


def _wrap(deg: np.ndarray) -> np.ndarray:
    return (deg + 180.0) % 360.0 - 180.0


def window_half_width_deg(camera: Camera, focal_length_mm: float) -> float:
    """Half the horizontal angle of ``camera``'s inner window (uniform overscan) at a focal length."""
    tangent = camera.sensor_width_mm / 2.0 / focal_length_mm
    return math.degrees(math.atan(tangent * (1.0 + 2.0 * camera.overscan_pct / 100.0)))


def aim_at_canvas(stage: Stage, canvas: str, camera: Camera, *, distance_m: float = 3.0,
                  amplitude_deg: float = 10.0) -> ProbeAim:
    """Stand ``distance_m`` in front of ``canvas`` (along its cabinets' mean horizontal normal, at
    their mean height), look at its middle, and pick the widest focal length whose inner window
    leaves room to pan (the pan ``amplitude_deg`` at most, less when the canvas is narrow).
    ValueError when the canvas is not a wall seen side-on or is too narrow."""
    index = next((i for i, c in enumerate(stage.project.canvases) if c.name == canvas), None)
    if index is None:
        raise ValueError(f"no canvas named {canvas!r}; canvases: {', '.join(c.name for c in stage.project.canvases)}")
    geometry = canvas_geometry(stage.layout, index)
    if not geometry.blocks:
        raise ValueError(f"canvas {canvas} carries no cabinets")
    cabinets = np.concatenate([b.cabinets for b in geometry.blocks])
    centres = np.concatenate([b.centers for b in geometry.blocks])
    normal = np.concatenate([b.normals for b in geometry.blocks]).mean(axis=0)
    horizontal = np.array([normal[0], normal[1], 0.0])
    if np.linalg.norm(horizontal) < 0.5 * max(float(np.linalg.norm(normal)), 1e-9):
        raise ValueError(f"canvas {canvas} does not face sideways (a ceiling or floor?): a pan cannot sweep it")
    horizontal /= np.linalg.norm(horizontal)
    middle = centres.mean(axis=0)
    eye = middle + horizontal * distance_m
    to_middle = middle - eye
    pan = math.degrees(math.atan2(to_middle[0], to_middle[1]))
    corners = stage.layout.cabinets.corners[cabinets].reshape(-1, 3) - eye
    azimuth = _wrap(np.degrees(np.arctan2(corners[:, 0], corners[:, 1])) - pan)
    lo, hi = float(azimuth.min()), float(azimuth.max())
    room = min(-lo, hi)
    for focal in FOCAL_LENGTHS_MM:
        half = window_half_width_deg(camera, focal)
        amplitude = min(amplitude_deg, 0.75 * (room - half))
        if amplitude >= min(2.0, amplitude_deg):
            return ProbeAim(canvas=canvas, eye=(float(eye[0]), float(eye[1]), float(eye[2])), pan_deg=pan, tilt_deg=0.0,
                            focal_length_mm=focal, amplitude_deg=amplitude, span_deg=(lo, hi), window_half_deg=half)
    raise ValueError(f"canvas {canvas} spans {hi - lo:.1f} degrees from {distance_m} m: too narrow for the "
                     f"inner window to move on it (try a larger distance or another canvas)")


def choose_canvas(stage: Stage, camera: Camera, distance_m: float, amplitude_deg: float) -> ProbeAim:
    """The canvas with the most room to pan in (ties: project order)."""
    candidates: list[tuple[tuple[float, float], int, ProbeAim]] = []
    problems = []
    for i, canvas in enumerate(stage.project.canvases):
        try:
            aim = aim_at_canvas(stage, canvas.name, camera, distance_m=distance_m, amplitude_deg=amplitude_deg)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        room = min(-aim.span_deg[0], aim.span_deg[1]) - aim.window_half_deg
        candidates.append(((aim.focal_length_mm, -room), i, aim))
    best = min(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None
    if best is None:
        raise ValueError("no canvas suits the probe: " + "; ".join(problems))
    return best


def azimuth_map(stage: Stage, aim: ProbeAim) -> np.ndarray:
    """(H, W) azimuth (degrees, relative to the aim's pan) of every pixel's LED seen from the eye;
    NaN where a canvas pixel carries no LED."""
    index = next(i for i, c in enumerate(stage.project.canvases) if c.name == aim.canvas)
    directions = outer_directions(canvas_geometry(stage.layout, index), np.asarray(aim.eye), np.eye(4))
    valid = np.any(directions != 0, axis=2)
    azimuth = _wrap(np.degrees(np.arctan2(directions[..., 0], directions[..., 1])) - aim.pan_deg)
    return np.where(valid, azimuth, np.nan)


# ----------------------------------------------------------------------------- a run


@dataclass(frozen=True, kw_only=True)
class ProbeSettings:
    """How a probe runs. ``seconds`` of pictures are analysed after ``settle_s`` (start-up);
    ``inject_ms`` delays the tracking packets on their way to the hub; ``delay_ms`` /
    ``extrapolate_ms`` (None: the project's) are the camera's settings during the run."""

    seconds: float = 6.0
    canvas: str | None = None
    inject_ms: float = 0.0
    settle_s: float = 1.0
    max_lag_ms: float = 500.0
    amplitude_deg: float = 10.0
    distance_m: float = 3.0
    motion: ProbeMotion = field(default_factory=ProbeMotion)
    cluster: Literal["local", "ray", "threads"] | None = None
    delay_ms: float | None = None
    extrapolate_ms: float | None = None
    tracker_rate_hz: float | None = None
    """None: twice the stage rate (within 24-240 Hz), so the frame clock genlocks to it."""
    ndi_prefix: str = ""
    start_timeout_s: float = 60.0
    capture: int | str | None = None
    """Watch the wall through this OpenCV video source (a camera index, a URL) instead of
    receiving the canvas over NDI; the project's network mode is then kept, so its outputs reach
    the real wall. The picture's signal is then its bright window's column."""

    def check(self) -> None:
        if not (math.isfinite(self.seconds) and 1.0 <= self.seconds <= 600.0):
            raise ValueError(f"seconds must be within 1-600, got {self.seconds}")
        if not (math.isfinite(self.inject_ms) and 0.0 <= self.inject_ms <= 1000.0):
            raise ValueError(f"inject-ms must be within 0-1000, got {self.inject_ms}")
        if not (math.isfinite(self.max_lag_ms) and 10.0 <= self.max_lag_ms <= 5000.0):
            raise ValueError(f"max-lag-ms must be within 10-5000, got {self.max_lag_ms}")
        if self.extrapolate_ms is not None and not 0.0 <= self.extrapolate_ms <= 200.0:
            raise ValueError(f"extrapolate-ms must be within 0-200, got {self.extrapolate_ms}")
        if self.delay_ms is not None and not math.isfinite(self.delay_ms):
            raise ValueError("delay-ms must be finite")
        if not 0.0 < self.amplitude_deg <= 45.0:
            raise ValueError(f"amplitude-deg must be within (0, 45], got {self.amplitude_deg}")
        if not 0.5 <= self.distance_m <= 50.0:
            raise ValueError(f"distance-m must be within 0.5-50, got {self.distance_m}")
        if not 0.0 <= self.settle_s <= 60.0:
            raise ValueError(f"settle_s must be within 0-60, got {self.settle_s}")


@dataclass(kw_only=True)
class ProbeResult:
    """What a probe measured. ``wall`` (tracking to the picture's arrival, the tool's answer),
    ``present`` (to the frame's present time) and ``plan`` (to the frame instant the planner
    sampled tracking at) are lag estimates of the picture (or planned pan) behind the commanded
    pan; ``proposed_delay_ms`` / ``proposed_extrapolate_ms`` cancel ``wall``."""

    stage: str
    canvas: str
    camera: str
    frame_rate: Fraction
    tracker_rate_hz: float
    aim: ProbeAim
    inject_ms: float
    delay_ms: float
    extrapolate_ms: float
    wall: LagEstimate | None
    present: LagEstimate | None
    plan: LagEstimate | None
    pictures: int
    pictures_with_signal: int
    frames: int
    late: int
    dropped: int
    problems: list[str]
    samples: list[PictureSample] = field(repr=False, default_factory=list)
    watched: str = ""
    """What was watched: the NDI output (name, address, what its node says about it), or the
    capture source."""

    @property
    def latency_ms(self) -> float | None:
        return None if self.wall is None else self.wall.lag_ms

    @property
    def proposal(self) -> tuple[float, float] | None:
        if self.wall is None:
            return None
        return proposed_delay(self.wall.lag_ms, self.delay_ms, self.extrapolate_ms)

    def to_dict(self) -> dict[str, Any]:
        period_ms = 1000.0 / float(self.frame_rate)

        def lag(estimate: LagEstimate | None) -> dict[str, Any] | None:
            if estimate is None:
                return None
            return estimate.to_dict() | {"lag_frames": round(estimate.lag_ms / period_ms, 3)}

        proposal = self.proposal
        return {
            "stage": self.stage, "canvas": self.canvas, "camera": self.camera,
            "frame_rate": f"{self.frame_rate.numerator}/{self.frame_rate.denominator}",
            "tracker_rate_hz": self.tracker_rate_hz,
            "aim": {"eye_m": [round(v, 3) for v in self.aim.eye], "pan_deg": round(self.aim.pan_deg, 3),
                    "tilt_deg": self.aim.tilt_deg, "focal_length_mm": self.aim.focal_length_mm,
                    "amplitude_deg": round(self.aim.amplitude_deg, 3)},
            "inject_ms": self.inject_ms, "delay_ms": self.delay_ms, "extrapolate_ms": self.extrapolate_ms,
            "latency_ms": None if self.wall is None else round(self.wall.lag_ms, 2),
            "latency_frames": None if self.wall is None else round(self.wall.lag_ms / period_ms, 3),
            "confidence": None if self.wall is None else round(self.wall.confidence, 3),
            "reliable": self.wall is not None and self.wall.reliable,
            "proposed_delay_ms": None if proposal is None else proposal[0],
            "proposed_extrapolate_ms": None if proposal is None else proposal[1],
            "wall": lag(self.wall), "present": lag(self.present), "plan": lag(self.plan),
            "watched": self.watched, "pictures": self.pictures, "pictures_with_signal": self.pictures_with_signal,
            "frames": self.frames, "late": self.late, "dropped": self.dropped, "problems": list(self.problems),
        }


def probe_project(project: Project, settings: ProbeSettings) -> tuple[Project, Camera]:
    """The project the probe runs: loopback only (unless it watches a real wall through a
    capture device), a camera (the rehearsal one when there is none) whose tracking source listens
    on a free loopback port, with the lens profile that reads the simulator's lens values back and
    the run's delay settings."""
    out = project.model_copy(deep=True)
    if settings.capture is None:
        out.network.mode = "loopback"
    out.videohub = None
    if not out.cameras:
        if not any(s.name == REHEARSAL_SOURCE.name for s in out.tracking):
            out.tracking.append(REHEARSAL_SOURCE.model_copy())
        out.cameras.append(REHEARSAL_CAMERA.model_copy(update={"tracker": REHEARSAL_SOURCE.name}))
    camera = out.cameras[0]
    source = next(s for s in out.tracking if s.name == camera.tracker)
    source.address = "udp://127.0.0.1:0"
    source.multicast_group = None
    camera.lens = LENS_FOR_PROTOCOL.get(source.protocol, "physical")
    if settings.delay_ms is not None:
        camera.delay_ms, camera.delay_frames = settings.delay_ms, None
    if settings.extrapolate_ms is not None:
        camera.extrapolate_ms = settings.extrapolate_ms
    return out, camera


def _tracker_rate(settings: ProbeSettings, frame_rate: Fraction) -> float:
    if settings.tracker_rate_hz is not None:
        return settings.tracker_rate_hz
    rate = float(frame_rate) * 2
    return rate if rate <= 240.0 else float(frame_rate)


class _Records:
    """Per frame, from the loop's thread: when the watched canvas's node presented it, and the
    pan the planner used at the frame instant; frames, late and dropped (that node's) while the
    pictures are recorded."""

    def __init__(self, node: str, camera: str) -> None:
        self.node, self.camera = node, camera
        self.present_ns: dict[int, int] = {}
        self.planned: list[tuple[int, float]] = []
        self.frames = self.late = self.dropped = 0
        self.since_ns = 0
        """Frames before this instant (start-up) are not counted."""
        self._lock = threading.Lock()

    def count_from(self, t_ns: int) -> None:
        with self._lock:
            self.since_ns = t_ns
            self.frames = self.late = self.dropped = 0

    def on_presented(self, stats: FrameStats) -> None:
        with self._lock:
            if stats.time_ns >= self.since_ns:
                self.frames += 1
            for node in stats.nodes:
                if node.node == self.node:
                    if stats.time_ns >= self.since_ns:
                        self.late += int(node.late)
                        self.dropped += int(node.dropped)
                    if node.present_ns:
                        self.present_ns[stats.frame] = node.present_ns

    def on_closed(self, stats: FrameStats, plan: FramePlan) -> None:
        planned = plan.planned
        if planned is None:
            return
        for camera in planned.cameras:
            if camera.name == self.camera and camera.pose is not None and not camera.tracking_lost:
                with self._lock:
                    self.planned.append((planned.tick.time_ns, camera.pose.sample.pan_deg))


def _wait(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return condition()


def _canvas_output(engine: LiveEngine, canvas: str) -> dict[str, Any] | None:
    """The watched canvas's NDI output as its node last described it (name, address, detail)."""
    for output in engine.loop.report()["outputs"]:
        if output.get("canvas") == canvas and output.get("kind") == "ndi" and output.get("address"):
            return dict(output)
    return None


def _why_no_pictures(engine: LiveEngine) -> str:
    report = engine.report()
    renders = report.get("render_all_ms", {}).get("p50")
    return (f"{report['frames']} frames, {report['late']} late"
            + (f", renders take {renders:.0f} ms (p50)" if renders is not None else "")
            + ": a node that never finishes a frame by its deadline sends nothing (try a larger --scale)")


def run_probe(stage: Stage, settings: ProbeSettings | None = None,
              progress: Callable[[str], None] | None = None) -> ProbeResult:
    """Run the closed loop once on ``stage`` (see the module docstring) and analyse it. Raises
    ``WorkerStartError`` when the nodes cannot start, ``NdiUnavailable`` without NDI,
    ``ValueError`` for settings or a stage the probe cannot use, ``TimeoutError`` when the canvas
    never arrives over NDI."""
    settings = settings or ProbeSettings()
    settings.check()
    say = progress or (lambda _: None)
    project, camera = probe_project(stage.project, settings)
    run_stage = Stage.from_project(project, stage.layout.base_dir)
    run_stage.path = stage.path
    aim = (aim_at_canvas(run_stage, settings.canvas, camera, distance_m=settings.distance_m,
                         amplitude_deg=settings.amplitude_deg)
           if settings.canvas else choose_canvas(run_stage, camera, settings.distance_m, settings.amplitude_deg))
    motion = ProbeMotion(amplitude_deg=aim.amplitude_deg, chip_s=settings.motion.chip_s, ramp_s=settings.motion.ramp_s,
                         order=settings.motion.order, seed=settings.motion.seed)
    signal = WindowSignal(azimuth_map(run_stage, aim) if settings.capture is None else None)
    node = next(c.node for c in project.canvases if c.name == aim.canvas)
    source = next(s for s in project.tracking if s.name == camera.tracker)
    frame_rate = Fraction(project.frame_rate)
    rate = _tracker_rate(settings, frame_rate)
    prefix = settings.ndi_prefix or f"vpstage-probe-{uuid.uuid4().hex[:6]}"
    options = LiveOptions(scene_renderer=PROBE_RENDERER, cluster=settings.cluster, outputs="ndi", fourcc="UYVY",
                          ndi_prefix=prefix, gpu_telemetry=False, videohub=False, genlock=True)
    engine = LiveEngine(run_stage, options)
    records = _Records(node, camera.name)
    engine.loop.events.frame_presented.connect(records.on_presented)
    engine.loop.events.frame_closed.connect(records.on_closed)
    problems: list[str] = []
    simulator: TrackerSimulator | None = None
    link: Link | None = None
    watcher: NdiWatcher | CaptureWatcher | None = None
    epoch_ns = 0
    output_detail = ""
    try:
        say(f"starting the render nodes ({len(project.nodes)}) of {stage.path or project.name}")
        engine.cluster.start()
        errors = engine.tracking.start()
        if errors:
            raise OSError("; ".join(f"tracking source {name}: {error}" for name, error in errors.items()))
        link = UdpLink("127.0.0.1", bound_port(engine.tracking, source.name))
        if settings.inject_ms > 0:
            link = DelayLine(link, settings.inject_ms)
        path = probe_path(aim.eye, aim.pan_deg, aim.tilt_deg, motion, focal_length_mm=aim.focal_length_mm,
                          focus_distance_m=settings.distance_m)
        simulator = TrackerSimulator(encoder_for(source.protocol), link, path, rate, stream_id(project, camera))
        simulator.start()
        assert simulator.epoch_ns is not None
        epoch_ns = simulator.epoch_ns
        if (Fraction(simulator.rate) / frame_rate).denominator == 1:
            engine.loop.clock.genlock(epoch_ns + int(TRACKER_LEAD_MS * 1e6))
        engine.start()
        if settings.capture is None:
            say(f"waiting for canvas {aim.canvas} on NDI")
            if not _wait(lambda: _canvas_output(engine, aim.canvas) is not None, settings.start_timeout_s):
                raise TimeoutError(f"canvas {aim.canvas} has no NDI sender after {settings.start_timeout_s:g} s")
            output = _canvas_output(engine, aim.canvas)
            assert output is not None
            address = str(output["address"])
            output_detail = f"{output.get('name')} at {address}: {output.get('detail')}"
            watcher = NdiWatcher(address, signal)
        else:
            address = str(settings.capture)
            watcher = CaptureWatcher(settings.capture, signal)
        watcher.start()
        if not watcher.wait_for(1, settings.start_timeout_s):
            raise TimeoutError(f"no picture of canvas {aim.canvas} from {address} after {settings.start_timeout_s:g} s"
                               + (f" ({watcher.error})" if watcher.error else f" ({_why_no_pictures(engine)})"))
        settle_until = time.monotonic() + settings.settle_s
        _wait(lambda: time.monotonic() >= settle_until, settings.settle_s + 1.0)
        watcher.clear()
        records.count_from(time.monotonic_ns())
        wanted = int(settings.seconds * float(frame_rate))
        say(f"watching {aim.canvas} at {address} for {settings.seconds:g} s ({wanted} frames)")
        if not watcher.wait_for(wanted, settings.seconds * 2 + 10.0):
            problems.append(f"only {watcher.count} of {wanted} pictures arrived")
        if watcher.error:
            problems.append(f"receiver: {watcher.error}")
    finally:
        if watcher is not None:
            watcher.stop()
        engine.stop()
        if simulator is not None:
            simulator.stop()
        if link is not None:
            link.close()
        engine.close()
    samples = watcher.samples() if watcher is not None else []
    result = _analyse(stage, run_stage, aim, camera, motion, epoch_ns, engine, records, samples, settings, rate,
                      problems)
    result.watched = output_detail or f"capture {settings.capture}"
    return result


def _analyse(stage: Stage, run_stage: Stage, aim: ProbeAim, camera: Camera, motion: ProbeMotion, epoch_ns: int,
             engine: LiveEngine, records: _Records, samples: list[PictureSample], settings: ProbeSettings,
             tracker_rate: float, problems: list[str]) -> ProbeResult:
    frame_rate = Fraction(run_stage.project.frame_rate)
    rate = float(frame_rate)
    max_lag_s = settings.max_lag_ms / 1000.0
    values = np.array([s.value for s in samples], dtype=np.float64)
    arrival = np.array([s.receive_ns for s in samples], dtype=np.int64)

    def reference(times_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The commanded pan offset, densely, over the span of ``times_ns`` widened by the search range."""
        lo = (float(times_ns.min()) - epoch_ns) / 1e9 - max_lag_s - 0.1
        hi = (float(times_ns.max()) - epoch_ns) / 1e9 + max_lag_s + 0.1
        t = np.arange(max(lo, 0.0), hi, 1.0 / REFERENCE_RATE_HZ)
        return t, motion.offsets(t)

    def lag(times_ns: np.ndarray, signal: np.ndarray, what: str) -> LagEstimate | None:
        keep = np.isfinite(signal)
        if keep.sum() < 10:
            problems.append(f"{what}: too few samples with a signal ({int(keep.sum())})")
            return None
        t_ref, ref = reference(times_ns[keep])
        try:
            return measure_lag((times_ns - epoch_ns) / 1e9, signal, t_ref, ref, rate, max_lag_s)
        except ValueError as exc:
            problems.append(f"{what}: {exc}")
            return None

    wall = lag(arrival, values, "wall") if samples else None
    clock = engine.loop.clock
    day = frames_per_day(clock.rate, clock.drop_frame)
    present_t, present_v = [], []
    for sample in samples:
        count = None if sample.timecode_100ns is None else ndi_100ns_to_count(sample.timecode_100ns, frame_rate)
        if count is None:
            continue
        frame = (count - clock.timecode_offset) % day
        present_t.append(records.present_ns.get(frame, clock.tick(frame).deadline_ns))
        present_v.append(sample.value)
    present = lag(np.array(present_t, dtype=np.int64), np.array(present_v), "present") if present_t else None
    planned_t = np.array([t for t, _ in records.planned], dtype=np.int64)
    planned_v = _wrap(np.array([p for _, p in records.planned], dtype=np.float64) - aim.pan_deg)
    plan = lag(planned_t, planned_v, "plan") if len(planned_t) else None
    if wall is not None and not wall.reliable:
        problems.append(f"the correlation peak is not clear (peak {wall.peak:.2f}, sidelobe {wall.sidelobe:.2f}"
                        + (", at the edge of the searched range" if wall.at_edge else "") + ")")
    hub_camera = run_stage.project.cameras[0]
    delay = (hub_camera.delay_ms if hub_camera.delay_frames is None
             else 1000.0 * float(Fraction(hub_camera.delay_frames)) / rate)
    return ProbeResult(stage=str(stage.path or stage.project.name), canvas=aim.canvas, camera=camera.name,
                       frame_rate=frame_rate, tracker_rate_hz=tracker_rate, aim=aim, inject_ms=settings.inject_ms,
                       delay_ms=delay, extrapolate_ms=hub_camera.extrapolate_ms, wall=wall, present=present, plan=plan,
                       pictures=len(samples), pictures_with_signal=int(np.isfinite(values).sum()),
                       frames=records.frames, late=records.late, dropped=records.dropped, problems=problems,
                       samples=samples)
