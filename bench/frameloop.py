"""The frame loop in rehearsal: the demo stage, 2 render nodes, test patterns, NDI senders on loopback.

    python -m bench.frameloop [--frames 600] [--scale 4] [--small-only] [--outputs ndi|none]
        [--fourcc UYVY|BGRX] [--cluster local|ray|threads] [--kill-at FRAME]

Runs the frame master at the stage rate (30 fps for demo.yaml) with the cabinet pattern and the
moving sync bar on every canvas, and prints late / dropped / skipped frames, present skew and
per-stage times. Each render node (``--cluster local``: one process per node, the default; ``ray``:
Ray actors; ``threads``: threads of this process) renders its canvases and sends them on its own
NDI senders at the frame's deadline; the master only sends small orders and reads the nodes'
reports. ``--scale 4`` also runs "small canvases": the same stage with every cabinet, canvas and
pixel-map offset divided by 4 (1920x1080 canvases become 480x270), as a CPU rehearsal would.
``--kill-at N`` adds a spare node and SIGKILLs the first node's process once frame N is closed,
then prints the outage (detection and recovery times).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from bench.common import machine, print_table
from vpstage.stage import Stage
from vpstage.stage.scaling import scaled_stage

DEMO = Path(__file__).resolve().parents[1] / "configs" / "stages" / "demo.yaml"


def with_spare(stage: Stage) -> Stage:
    """The stage plus a spare render node (CPU) that stands by for failover."""
    from vpstage.stage.model import RenderNode

    project = stage.project.model_copy(deep=True)
    project.nodes.append(RenderNode(name="spare", spare=True))
    return Stage.from_project(project, stage.layout.base_dir)


def kill_node_at(loop: Any, node: str, frame: int) -> None:
    """SIGKILL ``node``'s process (local process or Ray actor) once frame ``frame`` has closed."""
    import os
    import signal

    def on_frame(stats: Any) -> None:
        if stats.frame == frame:
            process = loop.cluster.process(node)
            pid = process.pid if process is not None else None
            if pid is not None and pid != os.getpid():  # never this process (thread nodes)
                os.kill(pid, signal.SIGKILL)

    loop.events.frame_presented.connect(on_frame)


def run(stage: Stage, frames: int, outputs: str, cluster: str, fourcc: str = "UYVY",
        kill_at: int | None = None) -> dict[str, Any]:
    from render.node.cluster import default_outputs, make_node_cluster
    from vpstage.frame_master import FrameLoop, PatternSource
    from vpstage.patterns import PatternSpec

    settings = default_outputs(stage, kind=outputs, fourcc=fourcc,  # type: ignore[arg-type]
                               prefix=f"vpstage-bench-{stage.project.canvases[0].width}")
    loop = FrameLoop(stage, PatternSource(stage, PatternSpec(name="cabinets", sync_overlay=True)),
                     make_node_cluster(stage, cluster, outputs=settings))  # type: ignore[arg-type]
    if kill_at is not None:
        kill_node_at(loop, stage.project.nodes[0].name, kill_at)
    try:
        loop.cluster.start()  # node start-up (processes, Ray actors) before the first frame
        loop.run(frames)
        return loop.report()
    finally:
        loop.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--scale", type=int, default=4, help="also run with canvases divided by this (0: skip)")
    parser.add_argument("--outputs", choices=["ndi", "none"], default="ndi")
    parser.add_argument("--fourcc", choices=["UYVY", "BGRX"], default="UYVY", help="pixel format of the NDI senders")
    parser.add_argument("--cluster", choices=["local", "ray", "threads"], default="local",
                        help="local: one process per render node; ray: Ray actors; threads: this process")
    parser.add_argument("--small-only", action="store_true", help="run only the scaled-down stage")
    parser.add_argument("--kill-at", type=int, help="add a spare node and SIGKILL the first node's process after "
                        "this frame (local or ray); prints the outage")
    args = parser.parse_args()
    stage = Stage.open(DEMO)
    if args.kill_at is not None:
        if args.cluster == "threads":
            parser.error("--kill-at needs node processes: --cluster local or ray")
        stage = with_spare(stage)
    with tempfile.TemporaryDirectory(prefix="vpstage-bench-") as tmp:
        stages = [] if args.small_only and args.scale else [("1920x1080", stage)]
        if args.scale:
            small = scaled_stage(stage, args.scale, Path(tmp))
            c = small.project.canvases[0]
            stages.insert(0, (f"{c.width}x{c.height}", small))
        rows, detail, outages = [], [], []
        for label, st in stages:
            r = run(st, args.frames, args.outputs, args.cluster, args.fourcc, args.kill_at)
            outages += [[label, o["node"], o["reason"][:40], o["covered_by"], o["detection_ms"], o["recovery_ms"],
                         o["restarted"]] for o in r["failover"]]
            rows.append([label, r["frames"], r["skipped"], r["late"], r["dropped"],
                         r["render_ms"]["p50"], r["render_ms"]["p99"], r["plan_ms"]["p50"], r["send_ms"]["p50"],
                         r["send_ms"]["p99"], r["present_ms"]["p50"], r["present_ms"]["p99"],
                         r["present_skew_ms"]["p50"], r["present_skew_ms"]["p99"],
                         r["cpu"]["master_ms_per_frame"]])
            detail += [[label, node, n["late"], n["dropped"], n["render_ms"]["p50"], n["render_ms"]["p99"],
                        n["gpu_ms"]["p50"], n["cpu_ms"]["p50"]]
                       for node, n in r["nodes"].items() if n["frames"]]
    print_table(f"Frame loop, demo stage, {stage.project.frame_rate} fps, {args.cluster}, outputs {args.outputs}"
                f"{' ' + args.fourcc if args.outputs == 'ndi' else ''}, {machine()}",
                ["canvases", "frames", "skipped", "late", "dropped", "render p50", "render p99", "plan p50",
                 "send p50", "send p99", "present p50", "present p99", "skew p50", "skew p99",
                 "master CPU ms/frame"], rows)
    print_table("Per node", ["canvases", "node", "late", "dropped", "render p50 ms", "render p99 ms", "GPU p50 ms",
                             "CPU p50 ms"], detail)
    if outages:
        print_table("Failover", ["canvases", "node", "reason", "covered by", "detection ms", "recovery ms",
                                 "restarted"], outages)


if __name__ == "__main__":
    main()
