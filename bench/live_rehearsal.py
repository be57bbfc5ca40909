"""A live rehearsal: the demo stage, the procedural demo scene, a simulated tracker, the real loop.

    python -m bench.live_rehearsal [--frames 600] [--scale 8] [--inner-scale 0.25] [--outer-scale 0.05]
        [--move orbit] [--outputs none|ndi] [--cluster local|ray|threads] [--report FILE]

Runs ``LiveEngine`` (TrackingHub fed by a FreeD simulator on loopback, planner, frame master, and
render nodes with the scene renderer: one process per node by default, ``--cluster ray`` for Ray
actors, ``threads`` for threads of this process) at the stage's rate (30 fps for demo.yaml) on the demo stage
with its canvases divided by ``--scale`` (8: 240 x 135), and prints frames, late / dropped /
skipped, render, plan, send, present skew and tracking-to-present figures, overall and per node.
On a CPU machine the scene renders take far longer than a frame; the loop keeps its rate
(the wall repeats the last pictures, counted as drops) and that is what this measures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from bench.common import machine, print_table
from live import LiveEngine, LiveOptions
from vpstage.nodes import RenderQuality
from vpstage.stage import Stage
from vpstage.stage.scaling import scaled_stage

DEMO = Path(__file__).resolve().parents[1] / "configs" / "stages" / "demo.yaml"


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vpstage-bench-") as tmp:
        stage = Stage.open(DEMO)
        if args.scale > 1:
            stage = scaled_stage(stage, args.scale, Path(tmp))
        options = LiveOptions(rehearsal=True, simulate=args.move, outputs=args.outputs, cluster=args.cluster,
                              quality=RenderQuality(args.inner_scale, args.outer_scale), frames=args.frames)
        engine = LiveEngine(stage, options)
        try:
            engine.cluster.start()
            engine.start()
            engine.wait()
            report = engine.report()
        finally:
            engine.close()
        canvas = stage.project.canvases[0]
        report["bench"] = {"canvas": f"{canvas.width}x{canvas.height}", "scale": args.scale,
                           "inner_scale": args.inner_scale, "outer_scale": args.outer_scale, "move": args.move}
        return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--scale", type=int, default=8)
    parser.add_argument("--inner-scale", type=float, default=0.25)
    parser.add_argument("--outer-scale", type=float, default=0.05)
    parser.add_argument("--move", default="orbit", choices=["orbit", "dolly", "crane", "handheld", "static"])
    parser.add_argument("--outputs", choices=["none", "ndi"], default="none")
    parser.add_argument("--cluster", choices=["local", "ray", "threads"], default="local",
                        help="local: one process per render node; ray: Ray actors; threads: this process")
    parser.add_argument("--report", help="also write the full report (JSON) here")
    args = parser.parse_args()
    r = run(args)
    if args.report:
        Path(args.report).write_text(json.dumps(r, indent=2) + "\n")
    b = r["bench"]
    title = (f"Live rehearsal, demo stage {b['canvas']} canvases (scale 1/{b['scale']}), inner x{b['inner_scale']}, "
             f"outer x{b['outer_scale']}, {r['rate']} fps, {args.cluster}, outputs {args.outputs}, {machine()}")
    print_table(title, ["frames", "skipped", "late", "dropped", "render (on time) p50", "render (all) p50",
                        "render (all) p99", "plan p50", "plan p99", "send p50", "skew p50", "skew p99",
                        "tracking->present p50", "tracking->present p99"],
                [[r["frames"], r["skipped"], r["late"], r["dropped"], r["render_ms"]["p50"], r["render_all_ms"]["p50"],
                  r["render_all_ms"]["p99"], r["plan_ms"]["p50"], r["plan_ms"]["p99"], r["send_ms"]["p50"],
                  r["present_skew_ms"]["p50"], r["present_skew_ms"]["p99"], r["tracking_to_present_ms"]["p50"],
                  r["tracking_to_present_ms"]["p99"]]])
    print_table("Per node", ["node", "frames", "late", "dropped", "fresh frames", "render (on time) p50",
                             "render (all) p50", "render (all) max", "tracking->present p50"],
                [[name, n["frames"], n["late"], n["dropped"], n["frames"] - n["dropped"], n["render_ms"]["p50"],
                  n["render_all_ms"]["p50"], n["render_all_ms"]["max"], n["tracking_to_present_ms"]["p50"]]
                 for name, n in r["nodes"].items()])


if __name__ == "__main__":
    main()
