"""Colour commands: ``colour probe`` (one scene colour -> the code values a canvas sends).

    python main.py colour probe STAGE.yaml --canvas NAME --rgb R,G,B [--asset NAME] [--json]

The colour goes through the same baked shaper + 3D LUT and torch code (CPU) as the render nodes.
Exit codes: 0 done, 2 invalid stage or arguments.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from cli import EXIT_INVALID, EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    colour = sub.add_parser("colour", help="the wall's colour pipeline (OCIO)")
    actions = colour.add_subparsers(dest="colour_command", metavar="ACTION", required=True)
    p = actions.add_parser("probe", help="the code values a canvas sends for one scene colour",
                           description="Send one scene-linear (or working-space) colour through a canvas's "
                           "baked OCIO LUT and print the code values the canvas would send.")
    p.add_argument("stage", help="stage / project YAML file")
    p.add_argument("--canvas", required=True, help="canvas name (one with colour settings)")
    p.add_argument("--rgb", required=True, type=parse_rgb, metavar="R,G,B",
                   help="the colour in the asset's working space, e.g. 0.18,0.18,0.18")
    p.add_argument("--asset", help="scene asset whose working space the colour is in (default: the working space)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_probe)


def parse_rgb(text: str) -> tuple[float, float, float]:
    """``"R,G,B"`` -> three finite floats (argparse type)."""
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not R,G,B (three numbers)") from None
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"{text!r} is not R,G,B (three finite numbers)")
    return values[0], values[1], values[2]


def _fail(message: str) -> int:
    print(f"colour probe: {message}", file=sys.stderr)
    return EXIT_INVALID


def cmd_probe(args: argparse.Namespace) -> int:
    from render.colour.probe import ProbeError, probe_colour
    from vpstage.config import ConfigError
    from vpstage.stage import Stage

    try:
        stage = Stage.open(args.stage)
        assert stage.path is not None
        result = probe_colour(stage.project, stage.path.parent.resolve(), args.canvas, args.rgb, args.asset)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem.format(), file=sys.stderr)
        return EXIT_INVALID
    except ProbeError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(result.as_json()))
        return EXIT_OK
    target = result.colour_space or f"{result.display} / {result.view}"
    rgb = ", ".join(f"{v:g}" for v in args.rgb)
    codes = ", ".join(str(v) for v in result.code_values)
    print(f"{args.canvas}: ({rgb}) in {result.source} -> {target} -> code values ({codes}) at {result.bits} bits")
    return EXIT_OK
