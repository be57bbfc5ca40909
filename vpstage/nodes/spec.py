"""What a render node is built from: its node, device, the project as run, and its scene engine."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from vpstage.stage import Stage
from vpstage.stage.model import Project


def stage_revision(project: Project) -> str:
    """Short hash of the whole project document: nodes and the master must agree on it."""
    return hashlib.sha256(project.model_dump_json().encode()).hexdigest()[:16]


def node_device(gpu: int | None) -> str:
    return "cpu" if gpu is None else f"cuda:{gpu}"


@dataclass(frozen=True, kw_only=True)
class NodeSpec:
    """Everything needed to build one render node, in this process or another one."""

    node: str
    device: str
    """``"cpu"`` or ``"cuda:N"`` on the node's host (a launcher that gives the process only its
    own GPU tells it ``"cuda:0"``)."""
    project: Project
    base_dir: str
    """Directory the project's relative paths (catalog, meshes, assets) resolve against."""
    scene_renderer: str | None = None
    """``"module:factory"``; ``factory(stage, device)`` builds the scene renderer on the node.
    None: the node shows test patterns only, and scene canvases get the error card."""
    host: str = "localhost"
    """Where the node runs (``RenderNode.host``)."""

    @functools.cached_property
    def revision(self) -> str:
        """The project's :func:`stage_revision` (hashed once: a spec's project does not change)."""
        return stage_revision(self.project)

    @property
    def gpu(self) -> int | None:
        return None if self.device == "cpu" else int(self.device.split(":", 1)[1] or 0)


def node_specs(stage: Stage, scene_renderer: str | None = None) -> dict[str, NodeSpec]:
    """One spec per render node of the stage (spares included), in project order."""
    base = str(stage.layout.base_dir)
    return {n.name: NodeSpec(node=n.name, device=node_device(n.gpu), project=stage.project, base_dir=base,
                             scene_renderer=scene_renderer, host=n.host)
            for n in stage.project.nodes}
