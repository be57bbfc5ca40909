"""TrackingHub: every tracker of a project, feeding per-camera buffers, sampled per frame.

Built from a ``Project`` (its ``tracking`` sources and ``cameras``), the hub runs one receiver
per source, routes each decoded sample to the cameras that listen to that source and stream id,
and answers ``state_at(camera, t_ns)``: the pose at ``t_ns`` minus the camera's delay,
interpolated, through the lens profile and alignment, as a stage-frame ``CameraState``.

Threads: receivers run on their own threads. The signals ``sample_received(camera_name,
sample)``, ``stream_lost(StreamStats)`` and ``stream_recovered(StreamStats)`` are psygnal
signals (Qt-free) that **fire on those receiver threads**; a Qt UI must queue them onto its own
thread. ``state_at``, ``set_delay``, ``set_alignment`` and the other setters may be called from
any thread and take effect on the next ``state_at``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psygnal import Signal

from devices.tracking.factory import make_receiver
from devices.tracking.receiver import Receiver
from devices.tracking.receiver_health import ReceiverStats, StreamStats
from vpstage.config import ConfigError, Problem
from vpstage.config.endpoints import is_loopback, parse_endpoint
from vpstage.stage.model import Alignment, Camera, Project, TrackingSource
from vpstage.stage.project_io import load_project, locate
from vpstage.tracking.alignment import AlignmentTransform
from vpstage.tracking.buffer import PoseAt, SampleBuffer, frames_to_ns, ms_to_ns
from vpstage.tracking.calibration import CalibratedPose, CameraCalibration
from vpstage.tracking.camera import CameraState
from vpstage.tracking.lens import LensProfile
from vpstage.tracking.lens_file import load_lens_library
from vpstage.tracking.sample import CameraId, CameraSample
from vpstage.tracking.smoothing import OneEuroSettings

log = logging.getLogger(__name__)

SHIPPED_LENSES = Path(__file__).resolve().parents[2] / "configs" / "lenses.yaml"


@dataclass(kw_only=True)
class _CameraSlot:
    config: Camera
    stream_id: CameraId | None
    buffer: SampleBuffer
    calibration: CameraCalibration
    delay_ns: int
    extrapolate_ns: int


def _same_id(wanted: CameraId | None, got: CameraId) -> bool:
    return wanted is None or wanted == got or str(wanted) == str(got)


def load_project_lenses(project: Project, base_dir: Path | None) -> dict[str, LensProfile]:
    """The project's lens file (relative to ``base_dir``), else the shipped one, plus the presets."""
    if project.lens_library is not None:
        return load_lens_library((base_dir or Path.cwd()) / project.lens_library)
    return load_lens_library(SHIPPED_LENSES if SHIPPED_LENSES.is_file() else None)


class TrackingHub:
    sample_received = Signal(str, object)
    """(camera name, CameraSample) for every sample routed to a camera; fires on a receiver thread."""
    stream_lost = Signal(object)
    """StreamStats of a stream silent for its source's ``lost_after_ms``; fires on a receiver thread."""
    stream_recovered = Signal(object)
    """StreamStats of a lost stream that speaks again; fires on a receiver thread."""

    def __init__(self, project: Project, base_dir: Path | None = None,
                 lenses: dict[str, LensProfile] | None = None, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.project = project
        self._clock = clock
        """Monotonic nanoseconds: when receivers start (the never-tracked grace period counts from it)."""
        self._started_ns: dict[str, int] = {}
        self.lenses = lenses if lenses is not None else load_project_lenses(project, base_dir)
        self._sources = {s.name: s for s in project.tracking}
        problems: list[Problem] = []
        self._cameras: dict[str, _CameraSlot] = {}
        for i, camera in enumerate(project.cameras):
            if camera.lens not in self.lenses:
                problems.append(Problem(path=("cameras", i, "lens"), message=f"unknown lens profile {camera.lens!r}; "
                                                     f"known: {', '.join(sorted(self.lenses))}"))
                continue
            self._cameras[camera.name] = self._slot(camera)
        if problems:
            raise ConfigError(problems)
        self._receivers: dict[str, Receiver] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | Path) -> TrackingHub:
        """A hub for a project file; configuration problems come back with file and line."""
        doc = load_project(path)
        try:
            return cls(doc.project, base_dir=doc.path.resolve().parent)
        except ConfigError as exc:
            raise ConfigError(locate(exc.problems, doc.index)) from None

    def _slot(self, camera: Camera) -> _CameraSlot:
        source = self._sources.get(camera.tracker)
        stream_id = camera.camera_id if camera.camera_id is not None else (source.camera_id if source else None)
        smoothing = camera.smoothing
        settings = (OneEuroSettings(smoothing.min_cutoff_hz, smoothing.beta, smoothing.derivative_cutoff_hz)
                    if smoothing is not None else None)
        delay = (frames_to_ns(camera.delay_frames, self.project.frame_rate) if camera.delay_frames is not None
                 else ms_to_ns(camera.delay_ms))
        return _CameraSlot(config=camera, stream_id=stream_id, buffer=SampleBuffer(smoothing=settings),
                           calibration=CameraCalibration.from_camera(camera, self.lenses[camera.lens]), delay_ns=delay,
                           extrapolate_ns=ms_to_ns(camera.extrapolate_ms))

    # ------------------------------------------------------------------ receivers

    def start(self) -> dict[str, str]:
        """Start every source's receiver. Returns {source name: error} for those that failed to
        open (the others run); failures also show in ``receiver_health``."""
        errors: dict[str, str] = {}
        with self._lock:
            for source in self._sources.values():
                if source.name in self._receivers and self._receivers[source.name].running:
                    continue
                error = self._start_receiver(source)
                if error:
                    errors[source.name] = error
        return errors

    def _within_network_mode(self, source: TrackingSource) -> TrackingSource:
        """In ``network.mode: loopback`` (rehearsal) UDP sources listen on 127.0.0.1 only and join
        no multicast group, whatever their address says."""
        endpoint = parse_endpoint(source.address)
        if self.project.network.mode != "loopback" or endpoint.kind != "udp":
            return source
        if is_loopback(endpoint.host) and source.multicast_group is None:
            return source
        log.warning("tracking source %s: network mode is loopback, listening on 127.0.0.1:%d instead of %s",
                    source.name, endpoint.port, source.address)
        return source.model_copy(update={"address": f"udp://127.0.0.1:{endpoint.port}", "multicast_group": None})

    def _start_receiver(self, source: TrackingSource) -> str | None:
        self._started_ns[source.name] = self._clock()  # also when it fails to open: still never tracked
        source = self._within_network_mode(source)
        receiver = make_receiver(source, self._on_sample, self.stream_lost.emit, self.stream_recovered.emit)
        self._receivers[source.name] = receiver
        try:
            receiver.start()
        except (OSError, ValueError) as exc:
            log.error("tracking source %s (%s): %s", source.name, source.address, exc)
            receiver.error = str(exc)
            return str(exc)
        return None

    def stop(self) -> None:
        with self._lock:
            for receiver in self._receivers.values():
                receiver.stop()

    @property
    def running(self) -> bool:
        return any(r.running for r in self._receivers.values())

    def update_source(self, source: TrackingSource) -> str | None:
        """Replace a source's settings; a running receiver restarts on the new address/protocol."""
        with self._lock:
            self._sources[source.name] = source
            old = self._receivers.pop(source.name, None)
            was_running = old is not None and old.running
            if old is not None:
                old.stop()
            for slot in self._cameras.values():
                if slot.config.tracker == source.name and slot.config.camera_id is None:
                    slot.stream_id = source.camera_id
            return self._start_receiver(source) if was_running else None

    def push(self, source_name: str, sample: CameraSample) -> None:
        """Feed a sample as if ``source_name``'s receiver had decoded it (synchronous; tests, replay)."""
        self._on_sample(source_name, sample)

    def _on_sample(self, source_name: str, sample: CameraSample) -> None:
        for name, slot in self._cameras.items():
            if slot.config.tracker == source_name and _same_id(slot.stream_id, sample.camera_id):
                slot.buffer.push(sample)
                self.sample_received.emit(name, sample)

    # ------------------------------------------------------------------ per-frame queries

    def _slot_of(self, camera_name: str) -> _CameraSlot:
        try:
            return self._cameras[camera_name]
        except KeyError:
            raise KeyError(f"no camera named {camera_name!r}; cameras: {sorted(self._cameras)}") from None

    @property
    def camera_names(self) -> list[str]:
        return list(self._cameras)

    def pose_at(self, camera_name: str, t_ns: int) -> PoseAt | None:
        """The tracker-frame pose at ``t_ns`` minus the camera's delay (None before any sample)."""
        slot = self._slot_of(camera_name)
        return slot.buffer.state_at(t_ns, slot.delay_ns, slot.extrapolate_ns)

    def state_at(self, camera_name: str, t_ns: int) -> CameraState | None:
        """The calibrated stage-frame camera at ``t_ns`` (monotonic ns) minus the delay."""
        slot = self._slot_of(camera_name)
        pose = slot.buffer.state_at(t_ns, slot.delay_ns, slot.extrapolate_ns)
        return None if pose is None else slot.calibration.camera_state(pose)

    def calibrated_at(self, camera_name: str, t_ns: int) -> CalibratedPose | None:
        """``pose_at`` and the ``state_at`` made from that very pose, from one buffer lookup (the
        planner uses it so a take records the raw pose its calibrated camera came from)."""
        slot = self._slot_of(camera_name)
        pose = slot.buffer.state_at(t_ns, slot.delay_ns, slot.extrapolate_ns)
        return None if pose is None else CalibratedPose(pose, slot.calibration.camera_state(pose))

    def latest_sample(self, camera_name: str) -> CameraSample | None:
        return self._slot_of(camera_name).buffer.latest()

    def stream_health(self) -> list[StreamStats]:
        return [s for r in list(self._receivers.values()) for s in r.stream_stats()]

    def receiver_health(self) -> list[ReceiverStats]:
        return [r.stats() for r in list(self._receivers.values())]

    def cameras_of(self, source_name: str) -> list[str]:
        """The cameras fed by a tracking source."""
        return [name for name, slot in self._cameras.items() if slot.config.tracker == source_name]

    def tracker_started_ns(self, camera_name: str) -> int | None:
        """When the camera's source was (last) started, on the hub's clock; None before ``start``."""
        return self._started_ns.get(self._slot_of(camera_name).config.tracker)

    def never_tracked(self, camera_name: str, now_ns: int | None = None, grace: bool = True) -> bool:
        """True when no sample has reached the camera since its source started and (with
        ``grace``) its source's ``never_tracked_after_ms`` has passed since. ``now_ns`` is on the
        hub's clock (default: now)."""
        slot = self._slot_of(camera_name)
        started = self._started_ns.get(slot.config.tracker)
        if started is None or slot.buffer.latest() is not None:
            return False
        if not grace:
            return True
        source = self._sources.get(slot.config.tracker)
        wait_ns = ms_to_ns(source.never_tracked_after_ms if source is not None else 3000.0)
        return (self._clock() if now_ns is None else now_ns) - started >= wait_ns

    def report(self) -> list[dict[str, Any]]:
        """Per receiver, for a run report: where it listened, packets, samples, bad packets and
        discarded data by reason, and ``never_tracked`` (it decoded no sample since it started)
        with ``cameras_never_tracked`` (its cameras that got no sample, whatever the grace period:
        a report is read after the run)."""
        return [{"source": r.name, "protocol": r.protocol, "address": r.address, "packets": r.packets,
                 "bad_packets": r.bad_packets, "samples": r.samples, "error": r.error,
                 "bad_by_reason": r.bad_by_reason, "discarded_by_reason": r.discarded_by_reason,
                 "never_tracked": r.samples == 0,
                 "cameras_never_tracked": [c for c in self.cameras_of(r.name) if self.never_tracked(c, grace=False)]}
                for r in self.receiver_health()]

    def tracking_age_ms(self, camera_name: str, now_ns: int | None = None) -> float | None:
        latest = self.latest_sample(camera_name)
        if latest is None:
            return None
        return ((time.monotonic_ns() if now_ns is None else now_ns) - latest.arrival_ns) / 1e6

    # ------------------------------------------------------------------ live settings

    def delay_ms(self, camera_name: str) -> float:
        return self._slot_of(camera_name).delay_ns / 1e6

    def set_delay(self, camera_name: str, ms: float) -> None:
        """Tracking delay compensation in milliseconds; effective on the next ``state_at``."""
        self._slot_of(camera_name).delay_ns = ms_to_ns(ms)

    def set_delay_frames(self, camera_name: str, frames: float) -> None:
        self._slot_of(camera_name).delay_ns = frames_to_ns(frames, self.project.frame_rate)

    def set_extrapolation(self, camera_name: str, ms: float) -> None:
        self._slot_of(camera_name).extrapolate_ns = ms_to_ns(max(0.0, ms))

    def set_alignment(self, camera_name: str, alignment: AlignmentTransform | Alignment) -> None:
        """Tracker -> stage transform for one camera (e.g. from ``solve_alignment``)."""
        slot = self._slot_of(camera_name)
        transform = alignment if isinstance(alignment, AlignmentTransform) else AlignmentTransform.from_model(alignment)
        slot.calibration = dataclasses.replace(slot.calibration, alignment=transform)

    def set_lens(self, camera_name: str, profile: str | LensProfile) -> None:
        """Switch a camera's lens profile (by name from the library, or a profile object)."""
        slot = self._slot_of(camera_name)
        lens = profile if isinstance(profile, LensProfile) else self.lenses[profile]
        slot.calibration = dataclasses.replace(slot.calibration, lens=lens)
