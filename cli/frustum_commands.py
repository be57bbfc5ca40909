"""``frustum``: which LED pixels a camera sees, per canvas and node, with DoD crops and pixel queries."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from cli import EXIT_INVALID, EXIT_OK
from vpstage.config import ConfigError

CAMERA_KEYS = ("x_m", "y_m", "z_m", "pan_deg", "tilt_deg", "roll_deg", "focal_length_mm", "sensor_width_mm",
               "sensor_height_mm")
OPTIONAL_KEYS = ("overscan_pct", "image_width", "image_height")


class UsageError(ValueError):
    """A bad --camera or --pixels argument (reported with exit 2)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("frustum", help="inner pixels, launch rectangles and DoD crops for one camera pose")
    p.add_argument("stage", help="stage / project YAML file")
    p.add_argument("--camera", required=True, metavar="JSON",
                   help="stage-frame pose and lens: {" + ", ".join(f'"{k}": ...' for k in CAMERA_KEYS)
                   + "} plus optional overscan_pct (number or [left, right, top, bottom]), image_width, "
                   "image_height; pan/tilt/roll as in FreeD/OpenTrackIO")
    p.add_argument("--pixels", metavar="CANVAS:X,Y;...", help="canvas pixels to report (world position, inner, uv)")
    p.add_argument("--far", type=float, default=100.0, help="DoD far distance, metres of camera depth (100)")
    p.add_argument("--soft-edge", type=float, default=0.0, help="soft-edge band, percent of the window (0)")
    p.add_argument("--fov-multiplier", type=float, default=1.0, help="multiplies the lens's angles (1)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_frustum)


def _number(doc: dict[str, Any], key: str) -> float:
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UsageError(f"--camera: {key} must be a finite number, got {value!r}")
    return float(value)


def parse_camera(text: str) -> dict[str, Any]:
    """The --camera JSON as a checked dict (numbers; overscan_pct as four percentages)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--camera is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise UsageError("--camera must be a JSON object")
    missing = [k for k in CAMERA_KEYS if k not in doc]
    unknown = sorted(set(doc) - set(CAMERA_KEYS) - set(OPTIONAL_KEYS))
    if missing or unknown:
        raise UsageError(f"--camera: missing keys {missing}, unknown keys {unknown}")
    out: dict[str, Any] = {k: _number(doc, k) for k in CAMERA_KEYS}
    overscan = doc.get("overscan_pct", 0.0)
    values = overscan if isinstance(overscan, list) else [overscan] * 4
    if len(values) != 4:
        raise UsageError("--camera: overscan_pct is a number or [left, right, top, bottom]")
    out["overscan_pct"] = [_number({"overscan_pct": v}, "overscan_pct") for v in values]
    for key in ("image_width", "image_height"):
        if key in doc:
            if not isinstance(doc[key], int) or isinstance(doc[key], bool) or doc[key] <= 0:
                raise UsageError(f"--camera: {key} must be a positive integer")
            out[key] = doc[key]
    for key in ("focal_length_mm", "sensor_width_mm", "sensor_height_mm"):
        if out[key] <= 0:
            raise UsageError(f"--camera: {key} must be > 0")
    return out


def parse_pixels(text: str | None) -> list[tuple[str, int, int]]:
    """``CANVAS:X,Y;CANVAS:X,Y`` -> [(canvas, x, y)]."""
    out = []
    for item in filter(None, (part.strip() for part in (text or "").split(";"))):
        canvas, sep, xy = item.rpartition(":")
        try:
            x, y = (int(v) for v in xy.split(","))
        except ValueError:
            raise UsageError(f"--pixels: {item!r} is not CANVAS:X,Y") from None
        if not sep or not canvas:
            raise UsageError(f"--pixels: {item!r} is not CANVAS:X,Y")
        out.append((canvas, x, y))
    return out


def _box_json(box: Any, lo: Any, hi: Any) -> dict[str, Any]:
    return {"min": [round(float(v), 6) for v in lo], "max": [round(float(v), 6) for v in hi],
            "corners": [[round(float(v), 6) for v in c] for c in box.corners()],
            "center": [round(float(v), 6) for v in box.center],
            "half_extents": [round(float(v), 6) for v in box.half_extents],
            "rotation": [[round(float(v), 9) for v in row] for row in box.rotation]}


def _rect(rect: tuple[int, int, int, int] | None) -> list[int] | None:
    return None if rect is None else [int(v) for v in rect]


def frustum_report(stage: Any, camera_doc: dict[str, Any], pixels: list[tuple[str, int, int]],
                   far: float, soft_edge: float, fov_multiplier: float) -> dict[str, Any]:
    """Everything ``frustum --json`` prints (see docs/frustum.md)."""
    from vpstage.frustum import FrustumSettings, StageFrustum, estimate_load
    from vpstage.frustum.scene import asset_scene_bounds
    from vpstage.tracking.camera import CameraState

    size = {k: camera_doc[k] for k in ("image_width", "image_height") if k in camera_doc}
    camera = CameraState.from_pan_tilt_roll(
        (camera_doc["x_m"], camera_doc["y_m"], camera_doc["z_m"]), camera_doc["pan_deg"], camera_doc["tilt_deg"],
        camera_doc["roll_deg"], camera_doc["focal_length_mm"], camera_doc["sensor_width_mm"],
        camera_doc["sensor_height_mm"], **size)
    settings = FrustumSettings(overscan_pct=tuple(camera_doc["overscan_pct"]),  # type: ignore[arg-type]
                               fov_multiplier=fov_multiplier, soft_edge_pct=soft_edge, far_m=far)
    assets = [a for a in stage.project.scene if a.enabled]
    asset = assets[0] if assets else None
    bounds = asset_scene_bounds(stage, asset)
    placement = None if asset is None else asset.placement
    frusta = StageFrustum(stage)
    nodes = frusta.nodes(camera, settings, bounds, placement)
    canvases = {name: cf for nf in nodes.values() for name, cf in nf.canvases.items()}
    report: dict[str, Any] = {
        "stage": str(stage.path), "camera": camera_doc,
        "scene": {"asset": None if asset is None else asset.name, "far_m": far,
                  "bounds": _box_json(bounds, *bounds.aabb())},
        "canvases": {name: {"node": cf.geometry.node, "inner_pixels": cf.inner_pixels,
                            "outer_pixels": cf.outer_pixels, "inner_rect": _rect(cf.inner_rect)}
                     for name, cf in canvases.items()},
        "nodes": {name: {"canvases": list(nf.canvases), "inner_pixels": nf.inner_pixels,
                         "outer_pixels": nf.outer_pixels, "uv_window": nf.uv_window,
                         "load": estimate_load(nf, assets).cost,
                         "dod_crop": None if nf.dod is None else _box_json(nf.dod.box, nf.dod.aabb_min,
                                                                           nf.dod.aabb_max)}
                  for name, nf in nodes.items()},
        "pixels": [_pixel_report(frusta, canvases, name, x, y) for name, x, y in pixels],
    }
    return report


def _pixel_report(frusta: Any, canvases: dict[str, Any], name: str, x: int, y: int) -> dict[str, Any]:
    if name not in canvases:
        raise UsageError(f"--pixels: no canvas named {name!r}")
    cf = canvases[name]
    if not (0 <= x < cf.geometry.width and 0 <= y < cf.geometry.height):
        raise UsageError(f"--pixels: ({x}, {y}) is outside canvas {name} ({cf.geometry.width} x {cf.geometry.height})")
    world = cf.geometry.position(x, y)
    out: dict[str, Any] = {"canvas": name, "x": x, "y": y,
                           "world": None if world is None else [round(float(v), 6) for v in world],
                           "inner": cf.is_inner(x, y)}
    if out["inner"]:
        uv = cf.frustum.project(world)
        out["uv"] = [round(float(v), 7) for v in uv]
        out["camera_uv"] = [round(float(v), 7) for v in cf.frustum.inner_to_camera_uv(uv)]
    return out


def _print_text(report: dict[str, Any]) -> None:
    print(f"stage {report['stage']}; scene asset {report['scene']['asset']}")
    for name, c in report["canvases"].items():
        print(f"canvas {name} ({c['node']}): {c['inner_pixels']:,} inner, {c['outer_pixels']:,} outer, "
              f"inner rect {c['inner_rect']}")
    for name, n in report["nodes"].items():
        crop = n["dod_crop"]
        where = "none" if crop is None else f"min {crop['min']} max {crop['max']}"
        print(f"node {name}: {n['inner_pixels']:,} inner, load {n['load']:,.0f}; DoD crop {where}")
    for p in report["pixels"]:
        uv = f" uv {p['uv']}" if p["inner"] else ""
        print(f"pixel {p['canvas']}:{p['x']},{p['y']}: world {p['world']} {'inner' if p['inner'] else 'outer'}{uv}")


def cmd_frustum(args: argparse.Namespace) -> int:
    from vpstage.stage import Stage

    try:
        camera_doc = parse_camera(args.camera)
        pixels = parse_pixels(args.pixels)
        stage = Stage.open(args.stage)
        report = frustum_report(stage, camera_doc, pixels, args.far, args.soft_edge, args.fov_multiplier)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem.format(), file=sys.stderr)
        return EXIT_INVALID
    except (UsageError, ValueError) as exc:
        print(f"frustum: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_text(report)
    return EXIT_OK
