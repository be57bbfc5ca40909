"""The project a live run uses, and the simulated or replayed tracker of a rehearsal.

``run_project`` applies the run's options to the project: the scene override (or the demo scene
in a rehearsal without one), a rehearsal camera when the stage has none, tracker addresses.
``hub_project`` is what the ``TrackingHub`` listens with: the simulated (or replayed) camera's
source on a free loopback port, in the protocol the packets will be sent in.
``start_tracker_simulator`` points a ``TrackerSimulator`` at the port the hub actually bound.
"""

from __future__ import annotations

import math
from pathlib import Path

from devices.tracking.hub import TrackingHub
from devices.tracking.paths import PATHS
from devices.tracking.simulator import TrackerSimulator, UdpLink
from devices.tracking.take_replay import TakePath, encoder_for, take_simulator
from live.options import DEMO_SCENE, LiveOptions
from vpstage.config.endpoints import parse_endpoint
from vpstage.stage.model import Camera, Project, SceneAsset, TrackingSource

REHEARSAL_SOURCE = TrackingSource(name="sim", protocol="freed", address="udp://127.0.0.1:40000", camera_id=1)
REHEARSAL_CAMERA = Camera(name="A", tracker="sim", sensor_width_mm=24.88, sensor_height_mm=13.99,
                          image_width=1920, image_height=1080, lens="zcam-freed")
"""What a rehearsal tracks when the stage has no camera: a Super 35 camera on the simulator's FreeD
stream (the simulator's Z CAM lens encoding)."""


def _scene_asset(path: str) -> SceneAsset:
    if path.startswith("procedural:"):
        return SceneAsset(name=path.split(":", 1)[1] or "scene", path=path)
    resolved = Path(path).expanduser().resolve()
    return SceneAsset(name=resolved.stem or "scene", path=str(resolved))


def run_project(project: Project, options: LiveOptions) -> Project:
    """A copy of ``project`` with the run's scene, rehearsal camera, tracker addresses and present deadline."""
    out = project.model_copy(deep=True)
    if options.scene is not None:
        out.scene = [_scene_asset(options.scene)]
    elif options.rehearsal and not out.scene:
        out.scene = [_scene_asset(DEMO_SCENE)]
    if (options.rehearsal or options.simulate) and not out.cameras:
        if not any(s.name == REHEARSAL_SOURCE.name for s in out.tracking):
            out.tracking.append(REHEARSAL_SOURCE.model_copy())
        out.cameras.append(REHEARSAL_CAMERA.model_copy(update={"tracker": REHEARSAL_SOURCE.name}))
    if len(options.trackers) > len(out.tracking):
        raise ValueError(f"{len(options.trackers)} tracker address(es) given, but the stage has "
                         f"{len(out.tracking)} tracking source(s)")
    for source, address in zip(out.tracking, options.trackers, strict=False):
        parse_endpoint(address)  # ValueError with an operator's message
        source.address = address
    if options.deadline_ms is not None:
        if not (math.isfinite(options.deadline_ms) and options.deadline_ms > 0):
            raise ValueError(f"the present deadline must be a positive number of ms, got {options.deadline_ms}")
        out.cluster.deadline_ms = options.deadline_ms
    return out


def driven_camera(project: Project, options: LiveOptions) -> Camera | None:
    """The camera a simulator or replay drives (the replayed one, else the first), or None."""
    if options.replay is not None:
        camera = next((c for c in project.cameras if c.name == options.replay.camera), None)
        if camera is None:
            raise ValueError(f"the stage has no camera {options.replay.camera!r} to replay")
        return camera
    if options.simulated_path is None:
        return None
    if not project.cameras:
        raise ValueError("the stage has no camera to simulate")
    return project.cameras[0]


def hub_project(project: Project, options: LiveOptions, protocol: str | None) -> Project:
    """``project`` with the driven camera's source on 127.0.0.1:0 speaking ``protocol``."""
    camera = driven_camera(project, options)
    if camera is None:
        return project
    out = project.model_copy(deep=True)
    for source in out.tracking:
        if source.name == camera.tracker:
            source.address = "udp://127.0.0.1:0"
            source.multicast_group = None
            if protocol is not None:
                source.protocol = protocol  # type: ignore[assignment]
    return out


def stream_id(project: Project, camera: Camera) -> int | str:
    """The stream id the hub routes to ``camera`` (what the simulator must send)."""
    if camera.camera_id is not None:
        return camera.camera_id
    source = next(s for s in project.tracking if s.name == camera.tracker)
    return source.camera_id if source.camera_id is not None else 1


def bound_port(hub: TrackingHub, source: str) -> int:
    for health in hub.receiver_health():
        if health.name == source:
            if health.error:
                raise OSError(f"tracking source {source}: {health.error}")
            return parse_endpoint(health.address).port
    raise KeyError(f"no receiver for tracking source {source!r}")


def replay_path(options: LiveOptions) -> TakePath | None:
    return None if options.replay is None else TakePath(options.replay.frames, options.replay.camera)


def start_tracker_simulator(hub: TrackingHub, project: Project, options: LiveOptions,
                            replay: TakePath | None) -> TrackerSimulator | None:
    """Start the rehearsal's simulator (or the take replay) aimed at the hub's port; None when a
    real tracker drives the cameras. Call after ``hub.start()``."""
    camera = driven_camera(project, options)
    if camera is None:
        return None
    source = next(s for s in project.tracking if s.name == camera.tracker)
    port = bound_port(hub, source.name)
    ident = stream_id(project, camera)
    if replay is not None:
        simulator = take_simulator(replay, "127.0.0.1", port, ident)
        simulator.start(replay.duration_s)
        return simulator
    name = options.simulated_path or "orbit"
    simulator = TrackerSimulator(encoder_for(source.protocol), UdpLink("127.0.0.1", port), PATHS[name](),
                                 options.simulate_rate_hz, ident)
    simulator.start()
    return simulator
