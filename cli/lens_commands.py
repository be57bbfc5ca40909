"""``lens-calibrate``: one zoom step of a lens from checkerboard images, written into a lens file."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from cli.progress import progress_for

DEFAULT_SENSOR_WIDTH_MM = 24.88
"""Super 35 (the shipped stages' cameras); used, with a warning, when no sensor width is given."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("lens-calibrate",
                       help="calibrate one zoom step of a lens from checkerboard images (OpenCV) into a lens file")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="checkerboard images of one zoom (and focus) step")
    p.add_argument("--zoom", required=True, type=float, metavar="N",
                   help="the zoom encoder value of this step (raw counts, or 0..1 with --encoder normalized)")
    p.add_argument("--board", required=True, metavar="COLSxROWS",
                   help="the board's INNER corners, e.g. 9x6 for 10 x 7 squares")
    p.add_argument("--square-mm", required=True, type=float, metavar="S", help="side of one square, millimetres")
    p.add_argument("-o", "--output", required=True, metavar="LENSES.yaml",
                   help="lens file to add the zoom point to (created when missing; other lenses and points kept)")
    p.add_argument("--lens", default="calibrated", metavar="NAME", help="lens name in the file (calibrated)")
    p.add_argument("--encoder", choices=("raw", "normalized"), default="raw",
                   help="what --zoom counts (a new lens gets this; an existing one must match)")
    p.add_argument("--sensor-width-mm", type=float, metavar="W",
                   help=f"sensor width the images span, for the focal length in mm (default {DEFAULT_SENSOR_WIDTH_MM}, "
                        "with a warning)")
    p.add_argument("--radial", type=int, choices=(2, 3, 6), default=3,
                   help="radial coefficients to estimate: 2 (k1 k2), 3 (k1 k2 k3, default), 6 (rational k1..k6)")
    p.add_argument("--no-tangential", action="store_true", help="fix p1 = p2 = 0")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=cmd_lens_calibrate)


def cmd_lens_calibrate(args: argparse.Namespace) -> int:
    import cv2

    from vpstage.config import ConfigError, atomic_write_text
    from vpstage.tracking.distortion import BROWN_CONRADY_UD
    from vpstage.tracking.lens_calibration import Board, CalibrationError, calibrate_lens
    from vpstage.tracking.lens_file import merge_zoom_point

    try:
        board = Board.parse(args.board, args.square_mm)
    except ValueError as exc:
        print(f"error: --board/--square-mm: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if not math.isfinite(args.zoom) or (args.encoder == "normalized" and not 0.0 <= args.zoom <= 1.0):
        print("error: --zoom must be a finite encoder value (0..1 for normalized encoders)", file=sys.stderr)
        return EXIT_INVALID
    sensor_width = args.sensor_width_mm
    if sensor_width is None:
        sensor_width = DEFAULT_SENSOR_WIDTH_MM
        print(f"warning: no --sensor-width-mm: assuming {sensor_width} mm (Super 35) for the focal length",
              file=sys.stderr)
    elif not (math.isfinite(sensor_width) and sensor_width > 0):
        print("error: --sensor-width-mm must be > 0", file=sys.stderr)
        return EXIT_INVALID
    images = []
    for name in args.images:
        image = cv2.imread(name, cv2.IMREAD_GRAYSCALE)
        if image is None:
            print(f"error: {name}: not an image OpenCV can read", file=sys.stderr)
            return EXIT_INVALID
        images.append(image)
    try:
        with progress_for(args, "lens-calibrate: board search", "image") as progress:
            result = calibrate_lens(images, board, radial=args.radial, tangential=not args.no_tangential,
                                    progress=progress)
    except CalibrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    output = Path(args.output)
    point = result.zoom_point(args.zoom, sensor_width)
    try:
        text = merge_zoom_point(output.read_text() if output.exists() else None, args.lens, point,
                                encoder=args.encoder, model=BROWN_CONRADY_UD, file=str(output))
    except (ValueError, ConfigError, OSError) as exc:
        print(f"error: {output}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    atomic_write_text(output, text)
    summary = {"lens": args.lens, "zoom": args.zoom, "output": str(output), **result.summary(sensor_width),
               "rejected": [args.images[i] for i in result.rejected]}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"lens {args.lens} zoom {args.zoom:g}: {len(result.used)} of {len(images)} images, "
              f"RMS {result.rms_px:.3f} px; f = {summary['focal_length_mm']:.3f} mm "
              f"(fx {result.fx:.2f}, fy {result.fy:.2f} px), k1..k6 "
              + " ".join(f"{k:.6g}" for k in result.distortion.radial)
              + f", p1 p2 {result.distortion.tangential[0]:.6g} {result.distortion.tangential[1]:.6g}, "
              f"overscan {summary['overscan']:.4f}; wrote {output}")
        for name in summary["rejected"]:
            print(f"warning: {name}: no whole {board.columns}x{board.rows} board found, not used", file=sys.stderr)
    return EXIT_OK
