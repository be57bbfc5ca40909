"""The frame loop in rehearsal: the demo stage, 2 nodes, test patterns, NDI senders on loopback.

    python -m bench.frameloop [--frames 600] [--scale 4] [--small-only] [--outputs ndi|none] [--cluster embedded|ray]

Runs the loop at the stage rate (30 fps for demo.yaml) with the cabinet pattern and the moving
sync bar on every canvas, and prints late / dropped / skipped frames, present skew and per-stage
times. ``--scale 4`` also runs "small canvases": the same stage with every cabinet, canvas and
pixel-map offset divided by 4 (1920x1080 canvases become 480x270), as a CPU rehearsal would.
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
    """SIGKILL ``node``'s worker process (a Ray actor) when frame ``frame`` has been presented."""
    import os
    import signal

    def on_frame(stats: Any) -> None:
        if stats.frame == frame:
            os.kill(int(loop.cluster.node_info(node)["pid"]), signal.SIGKILL)

    loop.events.frame_presented.connect(on_frame)


def run(stage: Stage, frames: int, outputs: str, cluster: str, kill_at: int | None = None) -> dict[str, Any]:
    from render.clusters import make_cluster
    from vpstage.engine import FrameLoop, PatternJobSource
    from vpstage.patterns import PatternSpec

    presenters = []
    if outputs == "ndi":
        from devices.outputs import NdiPresenter

        presenters.append(NdiPresenter(stage, prefix=f"vpstage-bench-{stage.project.canvases[0].width}"))
    loop = FrameLoop(stage, PatternJobSource(stage, PatternSpec("cabinets", sync_overlay=True)),
                     make_cluster(stage, cluster), presenters)  # type: ignore[arg-type]
    if kill_at is not None:
        kill_node_at(loop, stage.project.nodes[0].name, kill_at)
    try:
        loop.run(frames)
        return loop.report()
    finally:
        loop.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--scale", type=int, default=4, help="also run with canvases divided by this (0: skip)")
    parser.add_argument("--outputs", choices=["ndi", "none"], default="ndi")
    parser.add_argument("--cluster", choices=["embedded", "ray"], default="embedded")
    parser.add_argument("--small-only", action="store_true", help="run only the scaled-down stage")
    parser.add_argument("--kill-at", type=int, help="Ray only: add a spare node and SIGKILL the first node's "
                        "actor after this frame; prints the outage")
    args = parser.parse_args()
    stage = Stage.open(DEMO)
    if args.kill_at is not None:
        if args.cluster != "ray":
            parser.error("--kill-at needs --cluster ray (embedded workers are threads)")
        stage = with_spare(stage)
    with tempfile.TemporaryDirectory(prefix="vpstage-bench-") as tmp:
        stages = [] if args.small_only and args.scale else [("1920x1080", stage)]
        if args.scale:
            small = scaled_stage(stage, args.scale, Path(tmp))
            c = small.project.canvases[0]
            stages.insert(0, (f"{c.width}x{c.height}", small))
        rows, detail, outages = [], [], []
        for label, st in stages:
            r = run(st, args.frames, args.outputs, args.cluster, args.kill_at)
            outages += [[label, o["node"], o["reason"][:40], o["covered_by"], o["detection_ms"], o["recovery_ms"],
                         o["restarted"]] for o in r["failover"]]
            rows.append([label, r["frames"], r["skipped"], r["late"], r["dropped"],
                         r["render_ms"]["p50"], r["render_ms"]["p99"], r["plan_ms"]["p50"], r["wait_ms"]["p50"],
                         r["present_ms"]["p50"], r["present_ms"]["p99"], r["present_skew_ms"]["p50"],
                         r["present_skew_ms"]["p99"]])
            detail += [[label, node, n["late"], n["dropped"], n["render_ms"]["p50"], n["render_ms"]["p99"]]
                       for node, n in r["nodes"].items() if n["frames"]]
    print_table(f"Frame loop, demo stage, {stage.project.frame_rate} fps, {args.cluster}, outputs {args.outputs}, "
                f"{machine()}",
                ["canvases", "frames", "skipped", "late", "dropped", "render p50", "render p99", "plan p50",
                 "barrier wait p50", "present p50", "present p99", "skew p50", "skew p99"], rows)
    print_table("Per node", ["canvases", "node", "late", "dropped", "render p50 ms", "render p99 ms"], detail)
    if outages:
        print_table("Failover", ["canvases", "node", "reason", "covered by", "detection ms", "recovery ms",
                                 "restarted"], outages)


if __name__ == "__main__":
    main()
