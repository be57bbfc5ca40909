"""Shared test instruments for the frame-loop tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from render.node.cluster import default_outputs, make_node_cluster
from vpstage.frame_master import FrameLoop, FramePlan, FrameSource, NodeCluster
from vpstage.nodes.jobs import FrameJob
from vpstage.nodes.orders import OrderReader
from vpstage.nodes.spec import stage_revision
from vpstage.stage import Stage

TINY = Path(__file__).parent / "fixtures" / "tiny_stage.yaml"
MS = 1_000_000


def tiny_stage() -> Stage:
    return Stage.open(TINY)


def without_spare(stage: Stage) -> Stage:
    project = stage.project.model_copy(update={"nodes": [n for n in stage.project.nodes if not n.spare]})
    return Stage.from_project(project, stage.layout.base_dir)


def jobs_from_plan(stage: Stage, plan: FramePlan, assignment: Mapping[str, tuple[str, ...]],
                   far_m: float = 100.0, dod_margin_px: float = 1.0) -> dict[str, FrameJob]:
    """What each node renders for ``plan``: its order, read the way a render node reads it."""
    revision = stage_revision(stage.project)
    return {node: OrderReader(node, stage.project, revision, far_m, dod_margin_px).job(plan.order(canvases, 0))
            for node, canvases in assignment.items()}


def node_assignment(stage: Stage) -> dict[str, tuple[str, ...]]:
    """Every node's own canvases (no failover)."""
    return {n.name: tuple(stage.canvases_of_node(n.name)) for n in stage.project.nodes}


def thread_cluster(stage: Stage, scene_renderer: str | None = None) -> NodeCluster:
    """Render nodes on threads of the test process, outputs off."""
    return make_node_cluster(stage, "threads", scene_renderer=scene_renderer,
                             outputs=default_outputs(stage, kind="none"))


def thread_loop(stage: Stage, source: FrameSource, **kwargs: object) -> FrameLoop:
    return FrameLoop(stage, source, thread_cluster(stage), **kwargs)  # type: ignore[arg-type]
