"""The render worker: one per node, the same code in a thread (embedded) or a Ray actor.

It loads the stage once, then renders every canvas of each FrameJob into a fresh BGRX canvas
(numpy uint8, (H, W, 4)). Test-pattern canvases are painted here; scene canvases go to the scene
renderer named in the WorkerSpec (``"module:factory"``, ``factory(stage, device)``), which is
where the splat / NeRF engines plug in. A canvas that cannot be rendered (no scene renderer,
missing or corrupt asset, a stage mismatch, an exception in the engine) shows the error card
with the reason, and the reason travels back in ``NodeFrame.errors`` for the console.
"""

from __future__ import annotations

import importlib
import os
import socket
import threading
import time
from typing import Protocol

import numpy as np

from render.cancel import RenderCancelled, cancellable
from vpstage.engine.cluster import failure_text
from vpstage.engine.jobs import CanvasImage, CanvasJob, FrameJob, NodeFrame, SceneContent
from vpstage.engine.worker import WorkerSpec
from vpstage.patterns import PatternPainter, PatternSpec
from vpstage.stage import Stage

WARM_PATTERN = PatternSpec("cabinets")
"""Drawn for every canvas while the worker starts, so a fresh or restarted node answers its
first frame in time (the cabinet layer takes tens of ms on a 1080p canvas; the others are cheap)."""


class SceneRenderer(Protocol):
    """What a scene engine provides to the worker (built once per worker, on its device).

    It may also define ``warm_up()``: the worker calls it once before reporting ready, so kernel
    compilation and first allocations do not land in live frames (where they would look like a stall).
    """

    def render_canvas(self, job: CanvasJob, content: SceneContent, out: CanvasImage) -> None:
        """Draw the scene into ``out`` ((H, W, 4) uint8 BGRX, pre-filled black, X = 255)."""
        ...

    def close(self) -> None: ...


class CanvasError(Exception):
    """This canvas cannot be rendered; the message is shown on the error card."""


def load_scene_renderer(path: str, stage: Stage, device: str) -> SceneRenderer:
    module_name, _, func_name = path.partition(":")
    if not func_name:
        raise ValueError(f"scene renderer {path!r} is not 'module:factory'")
    factory = getattr(importlib.import_module(module_name), func_name)
    renderer: SceneRenderer = factory(stage, device)
    return renderer


class RenderWorker:
    """Implements ``vpstage.engine.worker.Worker``."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self._cancel = threading.Event()
        self.stage = Stage.from_project(spec.project, spec.base_dir)
        self.painter = PatternPainter(self.stage.layout)
        self._sizes = {c.name: (c.width, c.height) for c in spec.project.canvases}
        for canvas in self._sizes:  # the costly still layer, drawn before the node reports ready
            self.painter.still_layer(canvas, WARM_PATTERN)
        self.scene: SceneRenderer | None = None
        self.scene_error = "no scene renderer on this node (test patterns only)"
        if spec.scene_renderer:
            try:
                self.scene = load_scene_renderer(spec.scene_renderer, self.stage, spec.device)
                warm_up = getattr(self.scene, "warm_up", None)
                if callable(warm_up):  # compile kernels now, not in the first frames (stall detection)
                    warm_up()
            except Exception as exc:  # the node still runs: scene canvases show why they are empty
                self.scene_error = f"scene failed to load: {failure_text(exc)}"

    def cancel(self) -> None:
        """Abandon the job in progress at its next cancellation point (any thread). The worker
        is being stopped or replaced: every later ``render`` raises RenderCancelled at once."""
        self._cancel.set()

    def render(self, job: FrameJob) -> NodeFrame:
        with cancellable(self._cancel):
            return self._render_job(job)

    def _render_job(self, job: FrameJob) -> NodeFrame:
        start = time.perf_counter()
        images: dict[str, CanvasImage] = {}
        errors: dict[str, str] = {}
        for canvas_job in job.canvases:
            try:
                image = self._render_canvas(canvas_job, job.frame)
            except RenderCancelled:
                raise
            except Exception as exc:
                reason = str(exc) if isinstance(exc, CanvasError) else failure_text(exc)
                errors[canvas_job.canvas] = reason
                image = self.painter.paint(canvas_job.canvas, PatternSpec("error", text=reason), job.frame)
            image.flags.writeable = False
            images[canvas_job.canvas] = image
        return NodeFrame(job.node, job.frame, images, (time.perf_counter() - start) * 1000.0, errors)

    def _render_canvas(self, job: CanvasJob, frame: int) -> CanvasImage:
        if self._sizes.get(job.canvas) != (job.width, job.height):
            raise CanvasError(f"canvas {job.canvas} {job.width}x{job.height} is not on this node's stage")
        if isinstance(job.content, PatternSpec):
            return self.painter.paint(job.canvas, job.content, frame)
        if self.scene is None:
            raise CanvasError(self.scene_error)
        if job.content.rays.stage_revision != self.spec.revision:
            raise CanvasError("the job was planned for another revision of the stage; restart the node")
        out = np.zeros((job.height, job.width, 4), dtype=np.uint8)
        out[..., 3] = 255
        self.scene.render_canvas(job, job.content, out)
        return out

    def info(self) -> dict[str, object]:
        """Node, device, process and host; ``scene``: the scene renderer's ``describe()`` (e.g. the
        loaded assets and their content hashes) when it has one, else ``{"error": why none}``."""
        describe = getattr(self.scene, "describe", None)
        scene = describe() if callable(describe) else {"error": self.scene_error}
        return {"node": self.spec.node, "device": self.spec.device, "pid": os.getpid(),
                "host": socket.gethostname(), "scene": scene}

    def close(self) -> None:
        if self.scene is not None:
            self.scene.close()
            self.scene = None
