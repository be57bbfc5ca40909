"""Shared test instruments for the frame-loop tests.

``ScriptedWorker`` wraps the real RenderWorker and can be told, per (node, frame), to take a
given time on a ManualTimeSource, to block until released, or to raise: that is how the tests
produce late, hung and failing nodes on demand. ``RecordingPresenter`` keeps what was presented.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from render.worker import RenderWorker
from vpstage.engine import FrameJob, NodeFrame, OutputInfo, WorkerSpec
from vpstage.engine.jobs import CanvasImage
from vpstage.stage import Stage
from vpstage.timing import FrameTick, ManualTimeSource

TINY = Path(__file__).parent / "fixtures" / "tiny_stage.yaml"
MS = 1_000_000


def tiny_stage() -> Stage:
    return Stage.open(TINY)


@dataclass
class Script:
    """What workers do, keyed by (node, frame); shared by every worker generation."""

    time: ManualTimeSource | None = None
    cost_ns: dict[tuple[str, int], int] = field(default_factory=dict)
    default_cost_ns: int = 5 * MS
    raise_at: set[tuple[str, int]] = field(default_factory=set)
    hang_at: dict[tuple[str, int], threading.Event] = field(default_factory=dict)
    fail_build: set[tuple[str, int]] = field(default_factory=set)
    """(node, generation) whose worker construction raises."""
    log: list[tuple[str, str, int]] = field(default_factory=list)
    builds: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def event(self, kind: str, who: str, frame: int) -> None:
        with self.lock:
            self.log.append((kind, who, frame))

    def factory(self) -> Callable[[WorkerSpec], ScriptedWorker]:
        def build(spec: WorkerSpec) -> ScriptedWorker:
            with self.lock:
                generation = self.builds[spec.node] = self.builds.get(spec.node, 0) + 1
            if (spec.node, generation) in self.fail_build:
                raise RuntimeError(f"{spec.node} generation {generation} refuses to start")
            return ScriptedWorker(spec, self)
        return build


class ScriptedWorker(RenderWorker):
    def __init__(self, spec: WorkerSpec, script: Script) -> None:
        super().__init__(spec)
        self.script = script

    def render(self, job: FrameJob) -> NodeFrame:
        key = (job.node, job.frame)
        self.script.event("render", job.node, job.frame)
        if key in self.script.hang_at:
            self.script.hang_at[key].wait()
        if key in self.script.raise_at:
            raise RuntimeError(f"scripted failure of {job.node} at frame {job.frame}")
        result = super().render(job)
        if self.script.time is not None:
            self.script.time.advance(self.script.cost_ns.get(key, self.script.default_cost_ns))
        return result


class RecordingPresenter:
    """Keeps every presented (frame, canvas) -> image, and logs the order of presents."""

    def __init__(self, script: Script | None = None) -> None:
        self.frames: dict[tuple[int, str], CanvasImage] = {}
        self.timecodes: dict[int, str] = {}
        self.script = script
        self.closed = False

    def present(self, canvas: str, image: CanvasImage, tick: FrameTick) -> None:
        self.frames[(tick.index, canvas)] = image
        self.timecodes[tick.index] = str(tick.timecode)
        if self.script is not None:
            self.script.event("present", canvas, tick.index)

    def outputs(self) -> list[OutputInfo]:
        return [OutputInfo("front", "recording", "test recorder", None)]

    def close(self) -> None:
        self.closed = True
