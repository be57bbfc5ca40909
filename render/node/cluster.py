"""The render-node cluster a stage asks for: local processes (default), Ray actors, or threads."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal

from render.node.launchers import ProcessLauncher, ThreadLauncher
from vpstage.frame_master.node_cluster import NodeCluster, NodeLauncher
from vpstage.nodes.clock_sync import boot_id
from vpstage.nodes.messages import Configure, OutputSettings
from vpstage.nodes.spec import NodeSpec, node_specs
from vpstage.stage import Stage
from vpstage.timing import TimeSource

Backend = Literal["local", "ray", "threads"]
DEFAULT_FAR_M = 100.0


def master_bind(stage: Stage) -> tuple[str, int]:
    """Where the master listens: ``cluster.listen``, else loopback (or every interface in studio mode)."""
    project = stage.project
    if project.cluster.listen:
        host, _, port = project.cluster.listen.rpartition(":")
        return host.strip("[]"), int(port)
    return ("127.0.0.1" if project.network.mode == "loopback" else "0.0.0.0"), 0


def sdi_devices(stage: Stage) -> dict[str, int]:
    """DeckLink device per SDI canvas: its ``sdi_device``, else its place among its node's SDI canvases."""
    out: dict[str, int] = {}
    counts: dict[str, int] = {}
    for canvas in stage.project.canvases:
        if canvas.transport != "sdi":
            continue
        place = counts.get(canvas.node, 0)
        counts[canvas.node] = place + 1
        out[canvas.name] = canvas.sdi_device if canvas.sdi_device is not None else place
    return out


def ring_slots(stage: Stage) -> int:
    """Host buffers per canvas: on the output, ready, being filled, plus one per extra frame of
    deadline beyond one period (frames rendered ahead wait for their present)."""
    project = stage.project
    deadline_ms = project.cluster.deadline_ms
    period_ms = 1000.0 / float(Fraction(project.frame_rate))
    extra = 0 if deadline_ms is None else max(0, math.ceil(deadline_ms / period_ms) - 1)
    return min(16, 3 + extra)


def default_outputs(stage: Stage, *, kind: Literal["ndi", "none"] = "ndi", fourcc: Literal["BGRX", "UYVY"] = "UYVY",
                    prefix: str = "vpstage") -> OutputSettings:
    """Output settings from the project (network mode, NDI groups, SDI devices)."""
    project = stage.project
    return OutputSettings(kind=kind, fourcc=fourcc, prefix=prefix, network_mode=project.network.mode,
                          ndi_groups=project.network.ndi_groups, sdi_devices=sdi_devices(stage))


def make_node_cluster(stage: Stage, backend: Backend | None = None, *, scene_renderer: str | None = None,
                      outputs: OutputSettings | None = None, far_m: float = DEFAULT_FAR_M,
                      dod_margin_px: float = 1.0, time_source: TimeSource | None = None,
                      start_timeout_s: float = 120.0) -> NodeCluster:
    """Every node of ``stage`` (spares included) with ``scene_renderer`` plugged in; the project's
    ``cluster.backend`` unless ``backend`` overrides it. ``time_source`` applies to thread nodes."""
    project = stage.project
    specs = node_specs(stage, scene_renderer)
    chosen = backend or project.cluster.backend
    launcher: NodeLauncher
    if chosen == "ray":
        from render.node.ray_launcher import RayLauncher

        token = project.cluster.auth_token_file
        launcher = RayLauncher(specs, project.cluster.address, project.network.mode == "loopback",
                               token_file=None if token is None else stage.layout.base_dir / token,
                               allow_unauthenticated=project.cluster.allow_unauthenticated)
    elif chosen == "threads":
        launcher = ThreadLauncher(time_source)
    else:
        launcher = ProcessLauncher(cpu_nodes=sum(1 for s in specs.values() if s.gpu is None),
                                   loopback=project.network.mode == "loopback")
    settings = outputs or default_outputs(stage)
    slots = ring_slots(stage)
    master_boot = boot_id()

    def configure(spec: NodeSpec) -> Configure:
        return Configure(node=spec.node, device=launcher.device_for(spec), project_json=spec.project.model_dump_json(),
                         base_dir=spec.base_dir, scene_renderer=spec.scene_renderer, outputs=settings, far_m=far_m,
                         dod_margin_px=dod_margin_px, boot_id=master_boot, ring_slots=slots)

    return NodeCluster(specs, launcher, configure, bind=master_bind(stage), start_timeout_s=start_timeout_s)
