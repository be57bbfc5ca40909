"""Render commands: ``render`` (one image of any asset) and ``preview`` (an orbit video).

Both go through :func:`render.assets.load_asset`, so they work for splats and NeRFs alike. torch,
PyAV and OpenCV are imported inside the handlers, after the arguments have been checked: a bad
argument is refused at once (exit 2), not after the renderer has loaded. ``preview`` says how far
it is as it renders (``cli.progress``: a bar on a terminal, INFO lines with ``-v`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from cli.progress import announce, progress_for


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("render", help="render one image of an asset (.ply/.splat/.spz, NeRF, procedural:demo)")
    p.add_argument("asset", help="asset file or scheme (e.g. procedural:demo)")
    p.add_argument("--camera", required=True,
                   help='JSON (or a .json file): {"world_to_camera": 4x4 row-major OpenCV, "fx", "fy", "cx", "cy"}')
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--height", type=int, required=True)
    p.add_argument("-o", "--output", required=True, help="PNG file to write")
    p.add_argument("--depth", help="also write the camera-z depth as a float32 .npy (0 where empty)")
    _common_options(p)
    p.set_defaults(handler=cmd_render)

    p = sub.add_parser("preview", help="render an orbit preview video (H.264 MP4) with its camera path")
    p.add_argument("asset")
    p.add_argument("-o", "--output", default="preview.mp4", help="video file (default preview.mp4)")
    p.add_argument("--seconds", type=float, default=8.0, help="duration, 5..10 (default 8)")
    p.add_argument("--fps", type=float, default=30.0, help="frame rate, 1..120 (default 30)")
    p.add_argument("--elevation", type=float, default=35.0,
                   help="degrees above the horizontal, 30..45 (default 35; object framing)")
    p.add_argument("--arc", type=float, default=360.0, help="orbit arc in degrees, 270..360 (default 360)")
    p.add_argument("--size", default="1280x720", help="WxH, even numbers (default 1280x720)")
    p.add_argument("--crf", type=int, default=23, help="H.264 constant quality, 0..51 (default 23)")
    p.add_argument("--fov", type=float, default=45.0, help="vertical field of view in degrees, 10..120 (default 45)")
    p.add_argument("--up", choices=["x", "y", "z", "-x", "-y", "-z"], help="up axis (default: the asset's own)")
    p.add_argument("--framing", choices=["auto", "object", "stage"], default="auto",
                   help="object: orbit it from outside; stage: from inside the volume, as the console's "
                   "rehearsal camera (default auto: stage for assets in the stage frame, e.g. procedural:demo)")
    p.add_argument("--best-effort", action="store_true",
                   help="on any failure print a warning and exit 0 (no partial video is left)")
    _common_options(p)
    p.set_defaults(handler=cmd_preview)


def _common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="render device (default cpu)")
    p.add_argument("--background", default="0,0,0", help="R,G,B in 0..1 (default black)")


def parse_background(text: str) -> tuple[float, float, float]:
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 3 or not all(0.0 <= v <= 1.0 for v in values):
        raise ValueError(f"--background must be R,G,B with each in 0..1, got {text!r}")
    return values[0], values[1], values[2]


def parse_camera(text: str, width: int, height: int) -> Any:
    """A PinholeCamera from the --camera JSON (inline, or a path to a .json file)."""
    import numpy as np

    from render.assets import PinholeCamera

    source = Path(text).read_text() if text.strip().endswith(".json") and Path(text).is_file() else text
    try:
        data = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--camera is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("--camera must be a JSON object")
    missing = [k for k in ("world_to_camera", "fx", "fy", "cx", "cy") if k not in data]
    if missing:
        raise ValueError(f"--camera lacks {', '.join(missing)}")
    try:
        view = np.asarray(data["world_to_camera"], dtype=np.float64)
        fx, fy, cx, cy = (float(data[k]) for k in ("fx", "fy", "cx", "cy"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"--camera has a non-numeric value: {exc}") from exc
    if view.shape != (4, 4) or not np.all(np.isfinite(view)):
        raise ValueError(f"--camera world_to_camera must be a finite 4x4 matrix, got shape {view.shape}")
    if fx <= 0 or fy <= 0 or width <= 0 or height <= 0:
        raise ValueError("focal lengths and image size must be positive")
    return PinholeCamera(world_to_camera=view, fx=fx, fy=fy, cx=cx, cy=cy, width=width, height=height)


def cmd_render(args: argparse.Namespace) -> int:
    import numpy as np

    from render.assets import AssetError, load_asset
    from vpstage.config import atomic_write_bytes

    try:
        camera = parse_camera(args.camera, args.width, args.height)
        background = parse_background(args.background)
    except ValueError as exc:
        print(f"render: {exc}", file=sys.stderr)
        return EXIT_INVALID
    import torch  # after the arguments are checked: a bad one is refused at once
    try:
        asset = load_asset(args.asset, args.device)
        out = asset.render_pinhole(camera, background=background)
    except (AssetError, RuntimeError, ValueError) as exc:  # bad file, or a device that is not there
        print(f"render: {exc}", file=sys.stderr)
        return EXIT_FAILED
    rgb = (out.rgb.clamp(0, 1) * 255 + 0.5).to(torch.uint8).cpu().numpy()
    atomic_write_bytes(args.output, _png(rgb), backup=False)
    if args.depth:
        import io

        buffer = io.BytesIO()
        np.save(buffer, out.depth.float().cpu().numpy())
        atomic_write_bytes(args.depth, buffer.getvalue(), backup=False)
    coverage = float(out.alpha.mean())
    print(f"wrote {args.output} ({args.width}x{args.height}, {coverage:.1%} covered)"
          + (f" and {args.depth}" if args.depth else ""))
    return EXIT_OK


def _png(rgb: Any) -> bytes:
    import cv2
    import numpy as np

    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return bytes(buffer.tobytes())


def _preview_options(args: argparse.Namespace) -> Any:
    """The checked options (ValueError naming the bad one); imports no torch."""
    from render.preview import PreviewOptions

    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError as exc:
        raise ValueError(f"--size must be WxH, got {args.size!r}") from exc
    options = PreviewOptions(seconds=args.seconds, fps=args.fps, elevation_deg=args.elevation, arc_deg=args.arc,
                             width=width, height=height, crf=args.crf, up=args.up, vertical_fov_deg=args.fov,
                             background=parse_background(args.background), framing=args.framing)
    options.validate()
    return options


def cmd_preview(args: argparse.Namespace) -> int:
    try:
        options = _preview_options(args)  # before torch and the asset load: a bad argument is refused at once
    except ValueError as exc:
        return _preview_failed(args, exc)
    # A one-shot render does not win back what compiling the splat blend kernel's other warp
    # counts costs on a cold kernel cache (2.6 s of an 11.4 s preview on an H100): use one.
    os.environ.setdefault("VPSTAGE_SPLAT_TUNE_WARPS", "4")
    from render.preview import preview_encoder, render_preview

    announce(args, f"preview: loading {args.asset} on {args.device}, then {options.frame_count} frames of "
                   f"{options.width}x{options.height}")
    # the encoder opens (PyAV, the NVENC probe, the file) on a worker thread while torch and the
    # asset load and the first frames render
    encoder = preview_encoder(args.output, options, args.device)
    try:
        from render.assets import load_asset

        asset = load_asset(args.asset, args.device)
        with progress_for(args, "preview", "frame") as progress:
            result = render_preview(asset, args.output, options, encoder=encoder,
                                    progress=lambda done, total, _render_s: progress(done, total))
    except Exception as exc:  # every failure: an error, or a warning under --best-effort
        encoder.abort()  # no partial video, also when the asset did not load
        return _preview_failed(args, exc)
    announce(args, "preview timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.timings_s.items()))
    print(f"wrote {result.video} ({result.frames} frames, {result.codec}: {result.codec_reason}; "
          f"{result.timings_s['total']:.1f} s), {result.path_json.name}, {result.thumbnail.name}")
    return EXIT_OK


def _preview_failed(args: argparse.Namespace, exc: Exception) -> int:
    if args.best_effort:
        print(f"warning: preview of {args.asset} skipped: {exc}", file=sys.stderr)
        return EXIT_OK
    print(f"preview: {exc}", file=sys.stderr)
    return EXIT_INVALID if isinstance(exc, ValueError) else EXIT_FAILED
