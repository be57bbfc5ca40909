"""Helpers of ``bench/gpu_frameloop.sh``: the demo stage on GPUs, and a summary of the run reports.

    python -m bench.gpu_frameloop stage --gpus 1|2|4 [--rate 60] -o STAGE.yaml
    python -m bench.gpu_frameloop summary REPORT.json [REPORT.json ...]

``stage`` writes the demo stage at full canvas size (four 1920 x 1080 canvases on two nodes)
with the frame rate set to ``--rate`` and the nodes on GPUs: with 1 GPU both nodes render on
``cuda:0`` (two worker threads sharing it), with 2 GPUs node1 on ``cuda:0`` and node2 on
``cuda:1``, with 4 GPUs one node per canvas, each on its own GPU. ``summary`` prints one table
row per report (``main.py run`` JSON): late, dropped, fresh canvas-frames per second (counted
per node, times the node's canvases, from the stage file beside the report), render (on time /
every answer), plan, skew, tracking-to-present, per GPU utilization, and the scaling of fresh
frames against the first report.
"""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from bench.common import print_table
from vpstage.stage import Stage, auto_layout, save_project

DEMO = Path(__file__).resolve().parents[1] / "configs" / "stages" / "demo.yaml"


def write_stage(gpus: int, rate: Fraction, path: Path) -> None:
    """The demo stage at ``rate`` on ``gpus`` GPUs; the pixel map is packed again (``auto_layout``)
    because a processor port carries half as many pixels at 60 Hz as at the demo's 30."""
    demo = Stage.open(DEMO)
    project = demo.project.model_copy(deep=True)
    project.frame_rate = rate
    if gpus > len(project.nodes):  # one node per canvas, each on its own GPU while there are enough
        template = project.nodes[0]
        project.nodes = [template.model_copy(update={"name": f"node{k + 1}"}) for k in range(len(project.canvases))]
        for k, canvas in enumerate(project.canvases):
            canvas.node = f"node{k + 1}"
    for k, node in enumerate(project.nodes):
        node.gpu = k % gpus
    project.name = f"Demo volume, {gpus} GPU(s), {rate} fps"
    relaxed = Stage.from_project(project, demo.layout.base_dir, strict=False)
    project.pixel_map = auto_layout(relaxed.layout)
    save_project(project, path)


def fresh_per_second(report: dict[str, Any], canvases: dict[str, int] | None = None) -> float:
    """Fresh node-frames per second, or canvas-frames per second given each node's canvas count."""
    rate = float(Fraction(report["rate"]))
    fresh = sum((int(n["frames"]) - int(n["dropped"])) * (canvases or {}).get(name, 1)
                for name, n in report["nodes"].items())
    return fresh * rate / max(int(report["frames"]), 1)


def stage_path(report: Path) -> Path:
    """Where ``gpu_frameloop.sh`` writes the stage a report was run with."""
    return report.with_suffix(".stage.yaml")


def canvases_per_node(report: Path) -> dict[str, int] | None:
    path = stage_path(report)
    if not path.is_file():
        return None
    counts: dict[str, int] = {}
    for canvas in Stage.open(path).project.canvases:
        counts[canvas.node] = counts.get(canvas.node, 0) + 1
    return counts


def summary(paths: list[Path]) -> None:
    rows, base = [], None
    for path in paths:
        r = json.loads(path.read_text())
        fresh = fresh_per_second(r, canvases_per_node(path))
        base = base or fresh
        gpus = r.get("gpus", {}).get("devices", [])
        util = ", ".join(f"{g['index']}: {g['utilization_pct']['p50']}%" for g in gpus) or "n/a"
        rows.append([path.stem, r["frames"], r["skipped"], r["late"], r["dropped"], round(fresh, 1),
                     round(fresh / base, 2) if base else "-", r["render_ms"]["p50"], r["render_all_ms"]["p50"],
                     r["render_all_ms"]["p99"], r["plan_ms"]["p50"], r["present_skew_ms"]["p50"],
                     r["present_skew_ms"]["p99"], r["tracking_to_present_ms"]["p50"], util])
    print_table("Frame loop on GPUs (demo stage, full canvas size)",
                ["run", "frames", "skipped", "late", "dropped", "fresh canvas-frames/s", "scaling",
                 "render on time p50", "render all p50", "render all p99", "plan p50", "skew p50", "skew p99",
                 "tracking->present p50", "GPU util p50"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    stage = sub.add_parser("stage")
    stage.add_argument("--gpus", type=int, choices=[1, 2, 4], required=True,
                       help="4: one node per canvas, each on its own GPU")
    stage.add_argument("--rate", default="60")
    stage.add_argument("-o", "--output", required=True)
    report = sub.add_parser("summary")
    report.add_argument("reports", nargs="+")
    args = parser.parse_args()
    if args.command == "stage":
        write_stage(args.gpus, Fraction(args.rate), Path(args.output))
    else:
        summary([Path(p) for p in args.reports])


if __name__ == "__main__":
    main()
