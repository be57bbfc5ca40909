"""Helpers of ``bench/gpu_frameloop.sh``: the demo stage on GPUs, and a summary of the run reports.

    python -m bench.gpu_frameloop stage --gpus 1|2|4 [--rate 60] [--canvas 1920x1080] [--deadline-ms MS] -o STAGE.yaml
    python -m bench.gpu_frameloop add-asset STAGE.yaml ASSET [--at X,Y,Z] [--height M]
    python -m bench.gpu_frameloop drop-keys STAGE.yaml KEY[.KEY] [...]
    python -m bench.gpu_frameloop summary REPORT.json [REPORT.json ...]

``stage`` writes the demo stage at full size (four canvases on two nodes, 1920 x 1080 unless
``--canvas`` says otherwise) at ``--rate``, with the nodes on GPUs: with 1 GPU both nodes render on
GPU 0 (two node processes sharing it), with 2 GPUs node1 on GPU 0 and node2 on GPU 1, with 4 GPUs
one node per canvas; ``--deadline-ms`` sets the project's present deadline after each frame's
instant (``cluster.deadline_ms``; default one period). ``add-asset`` (alias ``add-splat``) adds a trained
splat or NeRF to the stage's scene (next to the procedural demo scene), standing upright on the floor at ``--at``
(default the simulated orbit's subject) and ``--height`` metres tall; it edits the YAML only, so it
works on stage files of any version of the project. ``drop-keys`` removes fields (``colour``,
``cluster.deadline_ms``) from a stage file, so an older checkout that does not know them can run
it (its validation refuses unknown fields). ``summary`` prints one row per report
(``main.py run`` JSON, with the ``cpu_probe`` JSON beside it): frames, late and dropped
node-frames, fresh canvas-frames per second, skew and tracking-to-present p99, render, host CPU per
node-frame and GPU busy.
"""

from __future__ import annotations

import argparse
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from bench.common import print_table

DEMO = Path(__file__).resolve().parents[1] / "configs" / "stages" / "demo.yaml"
SUBJECT = (0.0, 0.5, 0.0)
"""Stage floor point under the simulated orbit's subject (``devices.tracking.paths.SUBJECT``)."""


def write_stage(gpus: int, rate: Fraction, canvas: tuple[int, int], path: Path,
                deadline_ms: float | None = None) -> None:
    """The demo stage at ``rate`` on ``gpus`` GPUs with canvases of ``canvas`` (W, H) and the present
    deadline ``deadline_ms`` after each frame instant (None: one period); the pixel map is packed
    again (``auto_layout``): a processor port carries half as many pixels at 60 Hz."""
    from vpstage.stage import Stage, auto_layout, save_project

    demo = Stage.open(DEMO)
    project = demo.project.model_copy(deep=True)
    project.frame_rate = rate
    project.cluster.deadline_ms = deadline_ms
    for c in project.canvases:
        c.width, c.height = canvas
    if gpus > len(project.nodes):  # one node per canvas, each on its own GPU while there are enough
        template = project.nodes[0]
        project.nodes = [template.model_copy(update={"name": f"node{k + 1}"}) for k in range(len(project.canvases))]
        for k, c in enumerate(project.canvases):
            c.node = f"node{k + 1}"
    for k, node in enumerate(project.nodes):
        node.gpu = k % gpus
    project.name = f"Demo volume, {gpus} GPU(s), {rate} fps, {canvas[0]}x{canvas[1]}"
    relaxed = Stage.from_project(project, demo.layout.base_dir, strict=False)
    project.pixel_map = auto_layout(relaxed.layout)
    save_project(project, path)


UP_PITCH_DEG = {"z": 0.0, "-y": 90.0, "y": -90.0}
"""Pitch that turns the stage's up (+z) into an asset's up axis (``Placement`` convention)."""


def asset_placement(asset_path: Path, at: tuple[float, float, float], height_m: float) -> dict[str, Any]:
    """Placement (stage -> scene) standing an asset upright, its lowest point on the floor at
    ``at``, ``height_m`` tall. Up is the asset's own (``up_axis``: splats in the 3DGS frame are
    '-y'), else 'z' (NeRF datasets oriented by colmap2nerf / instant-ngp)."""
    import numpy as np

    from render.assets import load_asset
    from vpstage.stage.model import Placement

    asset = load_asset(str(asset_path), "cpu")
    up = getattr(asset, "up_axis", None) or "z"
    if up not in UP_PITCH_DEG:
        raise SystemExit(f"{asset_path}: up axis {up!r} is not one of {sorted(UP_PITCH_DEG)}")
    pitch = UP_PITCH_DEG[up]
    lo, hi = (np.asarray(v, dtype=np.float64) for v in asset.bounds())
    rotation = Placement(pitch_deg=pitch).rotation()          # stage -> scene
    up_scene = rotation @ np.array([0.0, 0.0, 1.0])
    axis = int(np.argmax(np.abs(up_scene)))
    scale = float(hi[axis] - lo[axis]) / height_m              # scene units per stage metre
    foot = (lo + hi) / 2
    foot[axis] = lo[axis] if up_scene[axis] > 0 else hi[axis]  # bottom centre
    translation = foot - scale * rotation @ np.asarray(at)
    return {"translation": [round(float(v), 6) for v in translation], "pitch_deg": pitch, "scale": round(scale, 6)}


def add_asset(stage_file: Path, asset: Path, at: tuple[float, float, float], height_m: float) -> None:
    data = yaml.safe_load(stage_file.read_text())
    scene = data.setdefault("scene", [{"name": "demo", "path": "procedural:demo"}])
    scene.append({"name": asset.stem.split(".")[0], "path": str(asset.resolve()),
                  "placement": asset_placement(asset, at, height_m)})
    stage_file.write_text(yaml.safe_dump(data, sort_keys=False))


def drop_keys(stage_file: Path, keys: list[str]) -> None:
    data = yaml.safe_load(stage_file.read_text())
    for key in keys:
        *parents, last = key.split(".")
        section = data
        for parent in parents:
            section = section.get(parent) if isinstance(section, dict) else None
        if isinstance(section, dict):
            section.pop(last, None)
    stage_file.write_text(yaml.safe_dump(data, sort_keys=False))


def fresh_per_second(report: dict[str, Any], canvases: dict[str, int] | None = None) -> float:
    """Fresh node-frames per second, or canvas-frames per second given each node's canvas count."""
    rate = float(Fraction(report["rate"]))
    fresh = sum((int(n["frames"]) - int(n["dropped"])) * (canvases or {}).get(name, 1)
                for name, n in report["nodes"].items())
    return fresh * rate / max(int(report["frames"]) + int(report["skipped"]), 1)


def stage_path(report: Path) -> Path:
    """Where ``gpu_frameloop.sh`` writes the stage a report was run with."""
    return report.with_suffix(".stage.yaml")


def canvases_per_node(report: Path) -> dict[str, int] | None:
    path = stage_path(report)
    if not path.is_file():
        return None
    counts: dict[str, int] = {}
    for canvas in yaml.safe_load(path.read_text()).get("canvases", []):
        counts[canvas["node"]] = counts.get(canvas["node"], 0) + 1
    return counts


def host_cpu_per_node_frame(report: dict[str, Any], probe: dict[str, Any] | None) -> float | None:
    """(master process CPU over the run + every node process's CPU) / node-frames rendered."""
    node_frames = sum(int(n["frames"]) for n in report["nodes"].values())
    if not node_frames or probe is None or "cpu_s" not in probe:
        return None
    nodes_ms = float(report.get("cpu", {}).get("node_ms_per_node_frame") or 0.0) * node_frames
    return (probe["cpu_s"] * 1e3 + nodes_ms) / node_frames


def _p(block: dict[str, Any] | None, key: str) -> Any:
    return "-" if not block or block.get(key) is None else block[key]


def summary(paths: list[Path]) -> None:
    rows, base = [], None
    for path in paths:
        r = json.loads(path.read_text())
        probe_file = path.with_suffix(".cpu.json")
        probe = json.loads(probe_file.read_text()) if probe_file.is_file() else None
        fresh = fresh_per_second(r, canvases_per_node(path))
        base = base or fresh
        node_frames = sum(int(n["frames"]) for n in r["nodes"].values())
        gpus = r.get("gpus", {}).get("devices", [])
        util = ", ".join(f"{g['index']}: {g['utilization_pct']['p50']}%" for g in gpus) or "n/a"
        cpu = host_cpu_per_node_frame(r, probe)
        tracking = r.get("tracking_to_present_ms")
        rows.append([path.stem, r["frames"], r["skipped"], r["late"], r["dropped"],
                     f"{100 * r['dropped'] / max(node_frames, 1):.2f}", round(fresh, 1),
                     round(fresh / base, 2) if base else "-", _p(r["render_ms"], "p50"),
                     _p(r.get("render_all_ms", r["render_ms"]), "p99"), _p(r["present_skew_ms"], "p99"),
                     _p(tracking, "p50"), _p(tracking, "p99"), "-" if cpu is None else round(cpu, 2), util])
    print_table("Frame loop on GPUs (demo stage, full size, NDI on loopback)",
                ["run", "frames", "skipped", "late", "dropped", "dropped %", "fresh canvas-frames/s", "vs first",
                 "render p50", "render p99", "skew p99", "tracking->send p50", "tracking->send p99",
                 "host CPU ms / node-frame", "GPU util p50"], rows)


def _triple(text: str) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in text.split(","))
    return x, y, z


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    stage = sub.add_parser("stage")
    stage.add_argument("--gpus", type=int, choices=[1, 2, 4], required=True,
                       help="4: one node per canvas, each on its own GPU")
    stage.add_argument("--rate", default="60")
    stage.add_argument("--canvas", default="1920x1080", help="every canvas's size, WxH")
    stage.add_argument("--deadline-ms", type=float, default=None,
                       help="present deadline after each frame's instant (default: one period)")
    stage.add_argument("-o", "--output", required=True)
    add = sub.add_parser("add-asset", aliases=["add-splat"])
    add.add_argument("stage")
    add.add_argument("asset", help="a splat (.ply/.spz/.splat), NeRF (.nerf/.ingp) or baked NeRF (.bnerf)")
    add.add_argument("--at", type=_triple, default=SUBJECT, help="stage floor point X,Y,Z (metres)")
    add.add_argument("--height", type=float, default=1.8, help="height on the stage (metres)")
    drop = sub.add_parser("drop-keys")
    drop.add_argument("stage")
    drop.add_argument("keys", nargs="+", help="fields to remove: a top-level key, or KEY.KEY inside one")
    report = sub.add_parser("summary")
    report.add_argument("reports", nargs="+")
    args = parser.parse_args()
    if args.command == "stage":
        width, height = (int(v) for v in args.canvas.lower().split("x"))
        if args.deadline_ms is not None and not (math.isfinite(args.deadline_ms) and args.deadline_ms > 0):
            parser.error("--deadline-ms must be > 0")
        write_stage(args.gpus, Fraction(args.rate), (width, height), Path(args.output), args.deadline_ms)
    elif args.command in ("add-asset", "add-splat"):
        if not math.isfinite(args.height) or args.height <= 0:
            parser.error("--height must be > 0")
        add_asset(Path(args.stage), Path(args.asset), args.at, args.height)
    elif args.command == "drop-keys":
        drop_keys(Path(args.stage), args.keys)
    else:
        summary([Path(p) for p in args.reports])


if __name__ == "__main__":
    main()
