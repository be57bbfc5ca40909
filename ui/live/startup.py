"""What an engine start is doing, for the console to say while the wall is still dark (Qt-free).

A start goes through three phases after the console has built the engine (``building``, on its
control thread): the render nodes build themselves (``nodes``: each one launches, connects, starts
its device, loads the scene, compiles and warms up its renderers, draws its test patterns, and is
ready; ``NodeCluster.progress()``), then the frame loop runs its first frames and the nodes send
the first thumbnails (``first frames``), then the engine is ``running``. ``startup_progress`` reads
the phase from the cluster's progress, the loop's closed frames and which wanted thumbnails have
arrived; every input is readable from any thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ui.live.engine_failure import EngineFailure, failure_from_text

NODE_STEPS = ("launching", "connected", "starting the device", "loading the scene",
              "compiling and warming up the renderers", "drawing test patterns", "ready")
"""What a node says while it builds, in order (``NodeCluster.progress``)."""
Phase = Literal["building", "nodes", "first frames", "running"]
FIRST_FRAMES = "waiting for the first frames"


@dataclass(frozen=True)
class NodeStep:
    node: str
    status: str
    """starting, ready or failed."""
    step: str
    """What it is doing (or why it failed)."""

    @property
    def index(self) -> int:
        """1-based position of ``step`` in ``NODE_STEPS`` (0 for a step the console does not know)."""
        return NODE_STEPS.index(self.step) + 1 if self.step in NODE_STEPS else 0

    def doing(self) -> str:
        """``loading the scene (4/7)``, ``ready`` or ``failed: why``."""
        if self.status == "failed":
            return f"failed: {self.step}"
        if self.status == "ready":
            return "ready"
        position = f" ({self.index}/{len(NODE_STEPS)})" if self.index else ""
        return f"{self.step}{position}"

    def text(self) -> str:
        return f"{self.node}: {self.doing()}"


@dataclass(frozen=True, kw_only=True)
class StartupProgress:
    phase: Phase
    nodes: tuple[NodeStep, ...] = ()
    elapsed_s: float = 0.0
    doing: str = ""
    """In the ``building`` phase: what the console is doing (importing, starting the loop, ...)."""
    waiting_for: tuple[str, ...] = ()
    """In the ``first frames`` phase: the canvases without a picture yet."""

    @property
    def done(self) -> bool:
        return self.phase == "running"

    @property
    def ready_count(self) -> int:
        return sum(n.status == "ready" for n in self.nodes)

    def short(self) -> str:
        """A few words for the status bar's engine field."""
        if self.phase == "nodes":
            return f"{self.ready_count}/{len(self.nodes)} NODES READY" if self.nodes else "LAUNCHING NODES"
        return {"building": "BUILDING", "first frames": "FIRST FRAMES", "running": ""}[self.phase]

    def line(self) -> str:
        """One line: the phase, the slowest node's step, the time it has taken so far."""
        seconds = f" · {self.elapsed_s:.0f} s"
        if self.phase == "building":
            return f"starting: {self.doing or 'building the engine'}{seconds}"
        if self.phase == "nodes":
            pending = [n for n in self.nodes if n.status != "ready"]
            slowest = min(pending, key=lambda n: n.index).text() if pending else "launching the render nodes"
            return f"starting: {self.ready_count}/{len(self.nodes)} nodes ready · {slowest}{seconds}"
        if self.phase == "first frames":
            return f"starting: {FIRST_FRAMES}{seconds}"
        return "running"

    def details(self) -> str:
        """One line per node (and what the loop waits for)."""
        lines = [self.line()]
        lines += [n.text() for n in self.nodes]
        if self.waiting_for:
            lines.append(f"no picture yet: {', '.join(self.waiting_for)}")
        return "\n".join(lines)

    def node_text(self, node: str) -> str:
        """What ``node`` is doing, for a view of one of its canvases."""
        found = next((n for n in self.nodes if n.node == node), None)
        if self.phase == "first frames" or (found is not None and found.status == "ready"):
            return FIRST_FRAMES
        return found.text() if found is not None else "launching the render nodes"


def node_steps(progress: Mapping[str, tuple[str, str]], nodes: Iterable[str]) -> tuple[NodeStep, ...]:
    """Every node of the stage, in order, with what the cluster says of it (not launched yet:
    launching)."""
    return tuple(NodeStep(node, *progress.get(node, ("starting", "launching"))) for node in nodes)


def startup_progress(loop: Any, elapsed_s: float) -> StartupProgress:
    """The phase of a started engine's frame loop (see the module docstring)."""
    names = [n.name for n in loop.stage.project.nodes]
    steps = node_steps(loop.cluster.progress(), names)
    if any(s.status != "ready" for s in steps):
        return StartupProgress(phase="nodes", nodes=steps, elapsed_s=elapsed_s)
    wanted = sorted(loop.previews.wanted())
    waiting = tuple(c for c in wanted if loop.latest_image(c) is None)
    if loop.history.frames == 0 or waiting:
        return StartupProgress(phase="first frames", nodes=steps, elapsed_s=elapsed_s, waiting_for=waiting)
    return StartupProgress(phase="running", nodes=steps, elapsed_s=elapsed_s)


def startup_failure(progress: StartupProgress, loop: Any) -> EngineFailure | None:
    """Why a start that is still under way has failed: a node could not build itself, or the
    frame loop ended before its first frame (None while it is fine)."""
    failed = [n for n in progress.nodes if n.status == "failed"]
    if failed:
        text = "\n".join(f"node {n.node}: {n.step}" for n in failed)
        return failure_from_text("WorkerStartError", text, expected=True)
    if not progress.done and loop.history.frames == 0 and loop.join(0):
        error = getattr(loop, "error", None) or "no error was reported"
        return failure_from_text("FrameLoopError", f"the frame loop ended before its first frame: {error}",
                                 expected=False)
    return None
