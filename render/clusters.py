"""Build the cluster a stage asks for: embedded threads (default) or Ray actors."""

from __future__ import annotations

from typing import Literal

from render.worker import RenderWorker
from vpstage.engine import Cluster, EmbeddedCluster, worker_specs
from vpstage.stage import Stage

Backend = Literal["embedded", "ray"]


def make_cluster(stage: Stage, backend: Backend | None = None, *, scene_renderer: str | None = None,
                 stop_timeout_s: float = 2.0) -> Cluster:
    """The project's ``cluster.backend`` unless ``backend`` overrides it. Every node (spares
    included) gets a RenderWorker; ``scene_renderer`` ("module:factory") plugs a scene engine in.
    ``stop_timeout_s``: how long stopping waits for each embedded worker's current job."""
    project = stage.project
    specs = worker_specs(stage, scene_renderer)
    chosen = backend or project.cluster.backend
    if chosen == "ray":
        from render.ray_cluster import RayCluster

        return RayCluster(specs, address=project.cluster.address, loopback=project.network.mode == "loopback",
                          hosts={n.name: n.host for n in project.nodes})
    return EmbeddedCluster(specs, RenderWorker, stop_timeout_s=stop_timeout_s)
