"""The task assigner on an unbalanced stage: dropped frames with and without moving tiles.

    python -m bench.assigner [--splat /work/shared/data/splats/biker.spz] [--frames 600] [--rate 60]
        [--scale 1] [--inner-scale 1] [--outer-scale 0.25] [--distance 1.5] [--size 1.5]
        [--cluster local|ray|threads] [--report FILE]

The demo stage at ``--rate`` Hz, its nodes on this machine (one process per node, all on GPU 0
when there is one: several node processes on one GPU), a static simulated camera looking at the
main wall. The splat is placed ``--distance`` m in front of the camera, ``--size`` m across
(its bounds are declared, so the assigner's estimate sees where it is): the node driving the main
wall renders a close-up of it, the other node's canvases show the outer frustum only. The same
run twice, with ``cluster.assign_tiles`` off and on; printed per run: frames, late, dropped,
render time per node, and the assigner's decisions (bands assigned, used, rendered locally after
all, kept local for the deadline) and relayed bytes. On a CPU machine use ``--scale 8
--inner-scale 0.25 --outer-scale 0.05 --rate 24`` (every frame is late there; it shows the
machinery, not the balance).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import machine, print_table
from devices.tracking.paths import WALL_TARGET
from live import LiveEngine, LiveOptions
from vpstage.nodes import RenderQuality
from vpstage.stage import Stage, auto_layout
from vpstage.stage.model import Placement
from vpstage.stage.model import SceneAsset as SceneAssetModel
from vpstage.stage.scaling import scaled_stage

DEMO = Path(__file__).resolve().parents[1] / "configs" / "stages" / "demo.yaml"
SPLAT = Path("/work/shared/data/splats/biker.spz")
STATIC_EYE = (0.0, -3.0, 1.7)
"""Where ``--simulate static`` puts the camera (``devices.tracking.paths.static``), aimed at WALL_TARGET."""


def unbalanced_stage(stage: Stage, splat: Path, distance_m: float, size_m: float, rate: int) -> Stage:
    """``stage`` at ``rate`` Hz showing only ``splat``, ``size_m`` across, ``distance_m`` in front of the
    static camera, with its bounds declared (read from the file once, on the CPU)."""
    from render.assets import load_asset

    lo, hi = (np.asarray(v, dtype=np.float64) for v in load_asset(str(splat), "cpu").bounds())
    centre = (lo + hi) / 2
    scale = float(np.max(hi - lo)) / size_m  # scene units per stage metre
    eye, target = np.asarray(STATIC_EYE), np.asarray(WALL_TARGET)
    where = eye + distance_m * (target - eye) / np.linalg.norm(target - eye)
    placement = Placement(translation=tuple(float(v) for v in centre - scale * where), scale=scale)
    project = stage.project.model_copy(deep=True)
    project.frame_rate = rate
    project.scene = [SceneAssetModel(name="splat", path=str(splat), placement=placement,
                                     bounds_min=tuple(float(v) for v in lo), bounds_max=tuple(float(v) for v in hi))]
    # a processor port carries fewer pixels at a higher rate: pack the pixel map again for this rate
    project.pixel_map = auto_layout(Stage.from_project(project, stage.layout.base_dir, strict=False).layout)
    return Stage.from_project(project, stage.layout.base_dir)


def run_once(stage: Stage, args: argparse.Namespace, assign: bool) -> dict[str, Any]:
    options = LiveOptions(rehearsal=True, simulate="static", outputs="none", cluster=args.cluster,
                          quality=RenderQuality(args.inner_scale, args.outer_scale), frames=args.frames,
                          assign_tiles=assign)
    engine = LiveEngine(stage, options)
    try:
        engine.cluster.start()
        engine.start()
        engine.wait()
        return engine.report()
    finally:
        engine.close()


def summary(name: str, report: dict[str, Any]) -> list[list[Any]]:
    rows = []
    tiles = report.get("tiles", {})
    nodes = tiles.get("nodes", {})
    for node, figures in report["nodes"].items():
        mine = nodes.get(node, {})
        rows.append([name, node, figures["frames"], figures["late"], figures["dropped"],
                     figures["render_ms"]["p50"], figures["render_ms"]["p99"], mine.get("rendered", 0),
                     mine.get("used", 0), mine.get("local_fallback", 0), mine.get("late", 0)])
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vpstage-assigner-") as tmp:
        stage = Stage.open(DEMO)
        if args.scale > 1:
            stage = scaled_stage(stage, args.scale, Path(tmp))
        stage = unbalanced_stage(stage, Path(args.splat), args.distance, args.size, args.rate)
        reports = {"alone": run_once(stage, args, False), "tiles": run_once(stage, args, True)}
    for report in reports.values():
        report.pop("outputs", None)
    return {"machine": machine(), "bench": vars(args), "runs": reports}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splat", default=str(SPLAT))
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--rate", type=int, default=60)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--inner-scale", type=float, default=1.0)
    parser.add_argument("--outer-scale", type=float, default=0.25)
    parser.add_argument("--distance", type=float, default=1.5, help="metres from the camera to the splat")
    parser.add_argument("--size", type=float, default=1.5, help="the splat's size across, metres")
    parser.add_argument("--cluster", choices=["local", "ray", "threads"], default="local")
    parser.add_argument("--report", metavar="FILE", help="write both run reports (JSON) here")
    args = parser.parse_args()
    result = run(args)
    rows = [row for name, report in result["runs"].items() for row in summary(name, report)]
    headers = ["run", "node", "frames", "late", "dropped", "render p50", "render p99", "bands rendered",
               "bands used", "local fallback", "bands late"]
    print_table("unbalanced stage, tiles off and on", headers, rows)
    for name, report in result["runs"].items():
        print(f"{name}: {report['frames']} frames, {report['late']} late, {report['dropped']} dropped; "
              f"decisions {report.get('tiles', {}).get('decisions', {})}, "
              f"relay {report.get('tiles', {}).get('relay', {})}")
    if args.report:
        Path(args.report).write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
