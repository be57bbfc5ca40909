"""A live engine assembled from the real parts, for the console's panel tests.

``LiveRig`` has the surface the console uses of ``live.LiveEngine`` (see
``ui.live.model_adapters``) but renders test patterns only, so the tests stay fast on a CPU: a
real TrackingHub listening on an ephemeral 127.0.0.1 port, fed by
a real TrackerSimulator sending FreeD over UDP; a real FrameLoop showing test patterns from a
PatternSource on a real render-node cluster whose nodes run on threads of the test process
(``tests.engine.helpers.thread_cluster``: the same node runtime, link and thumbnails as node
processes, outputs off); a real TakeRecorder in a temporary folder; a GpuMonitor (in its no-GPU
state on a machine without NVIDIA's driver). Nothing is simulated but the camera's motion.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from devices.telemetry import GpuMonitor
from devices.tracking import paths
from devices.tracking.hub import TrackingHub
from devices.tracking.simulator import FreeDEncoder, TrackerSimulator, UdpLink
from tests.engine.helpers import thread_cluster
from vpstage.frame_master import FrameLoop, PatternSource
from vpstage.patterns import PatternSpec
from vpstage.stage import Stage
from vpstage.stage.model import Project
from vpstage.takes import TakeInfo, TakeRecorder

LIVE_STAGE = Path(__file__).parent / "fixtures" / "live_stage.yaml"


class LiveRig:
    supports_scene = False

    def __init__(self, project: Project, base_dir: Path, takes_db: Path, rate_hz: float = 120.0,
                 path: paths.PathFn | None = None) -> None:
        self.project = copy.deepcopy(project)
        self.stage = Stage.from_project(self.project, base_dir)
        self.tracking = TrackingHub(self.project, base_dir)
        self.patterns = PatternSource(self.stage)
        self.loop = FrameLoop(self.stage, self.patterns, thread_cluster(self.stage))
        self.recorder = TakeRecorder(takes_db)
        self.gpu = GpuMonitor()
        self.rate_hz = rate_hz
        self.path = path or paths.static(eye=(0.0, -1.0, 1.5), target=(0.0, 2.0, 1.5))
        self.simulator: TrackerSimulator | None = None
        self.started = self.stopped = False

    def tracker_port(self) -> int:
        address = self.tracking.receiver_health()[0].address
        return int(address.rsplit(":", 1)[1])

    def start(self) -> None:
        errors = self.tracking.start()
        assert not errors, errors
        self.simulator = TrackerSimulator(FreeDEncoder(), UdpLink("127.0.0.1", self.tracker_port()), self.path,
                                          self.rate_hz)
        self.simulator.start()
        self.gpu.start()
        self.loop.start()
        self.started = True

    def stop(self) -> None:
        self.loop.stop()
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator.link.close()
            self.simulator = None

    def close(self) -> None:
        self.stop()
        self.loop.close()
        self.tracking.stop()
        self.gpu.stop()
        self.recorder.close()
        self.stopped = True

    # What the console asks of an engine besides its parts.

    def set_pattern(self, canvas: str | None, spec: PatternSpec | None) -> None:
        if spec is None:
            raise ValueError("test patterns only")
        self.patterns.set_pattern(spec, canvas)

    def pattern_for(self, canvas: str) -> PatternSpec:
        return self.patterns.pattern_for(canvas)

    def start_take(self, slate: str, **fields: Any) -> TakeInfo:
        return self.recorder.start_take(slate, project=self.project, **fields)

    def stop_take(self) -> TakeInfo:
        return self.recorder.stop_take()


def rig_factory(takes_db: Path, **options: Any) -> Any:
    """An engine factory for ConsoleWindow that builds (and remembers) LiveRigs."""
    built: list[LiveRig] = []

    def factory(project: Project, base_dir: Path, _file: Path | None) -> LiveRig:
        rig = LiveRig(project, base_dir, takes_db, **options)
        built.append(rig)
        return rig

    factory.built = built  # type: ignore[attr-defined]
    return factory
