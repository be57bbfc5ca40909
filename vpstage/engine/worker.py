"""The render worker contract, and the picklable spec a worker is built from.

A worker owns one device (``"cuda:N"`` or ``"cpu"``), is built once from a :class:`WorkerSpec`
(it loads the stage, and the scene when a scene renderer is named), then renders each canvas of
every FrameJob it is given. The same worker code runs in a thread of the console process
(embedded cluster) or inside a Ray actor (Ray cluster); the implementation lives in
``render/worker.py`` so that scene engines (torch) can plug in there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from vpstage.engine.jobs import FrameJob, NodeFrame
from vpstage.stage import Stage
from vpstage.stage.model import Project


def stage_revision(project: Project) -> str:
    """Short hash of the whole project document: workers and jobs must agree on it."""
    return hashlib.sha256(project.model_dump_json().encode()).hexdigest()[:16]


@dataclass(frozen=True)
class WorkerSpec:
    """Everything needed to build one node's worker, in this process or another one."""

    node: str
    device: str
    """``"cpu"`` or ``"cuda:N"`` (inside a Ray actor pinned to one GPU this is ``"cuda:0"``)."""
    project: Project
    base_dir: str
    """Directory the project's relative paths (catalog, meshes, assets) resolve against."""
    scene_renderer: str | None = None
    """``"module:factory"``; ``factory(stage, device)`` builds the scene renderer on the worker.
    None: the worker shows test patterns only, and scene canvases get the error card."""

    @property
    def revision(self) -> str:
        return stage_revision(self.project)


class Worker(Protocol):
    """What the clusters drive. ``render`` is called from one thread at a time."""

    def render(self, job: FrameJob) -> NodeFrame:
        """Render every canvas of ``job``; per-canvas problems become error cards, not exceptions.
        An exception means the worker itself is broken (it will be replaced)."""
        ...

    def close(self) -> None: ...


def cancel_worker(worker: object) -> None:
    """Ask a worker to abandon its current job, if it supports that (an optional ``cancel()``
    method, callable from any thread): long CPU renders then stop within a fraction of a second
    instead of holding up a stop or a restart."""
    cancel = getattr(worker, "cancel", None)
    if callable(cancel):
        cancel()


WorkerFactory = Callable[[WorkerSpec], Worker]


def node_device(gpu: int | None) -> str:
    return "cpu" if gpu is None else f"cuda:{gpu}"


def worker_specs(stage: Stage, scene_renderer: str | None = None) -> dict[str, WorkerSpec]:
    """One spec per render node of the stage (spares included), in project order."""
    base = str(stage.layout.base_dir)
    return {n.name: WorkerSpec(n.name, node_device(n.gpu), stage.project, base, scene_renderer)
            for n in stage.project.nodes}
