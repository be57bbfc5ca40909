"""Stage commands: validate, stage-info, auto-layout."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from cli import EXIT_INVALID, EXIT_OK
from vpstage.config import ConfigError
from vpstage.stage.report import format_summary

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("validate", help="check a stage file and print its summary (exit 2 on problems)")
    p.add_argument("stage", help="stage / project YAML file")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("stage-info", help="print stage totals (cabinets, pixels, canvases, nodes)")
    p.add_argument("stage")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_stage_info)

    p = sub.add_parser("auto-layout", help="pack every cabinet into the canvases and ports, and save")
    p.add_argument("stage")
    p.add_argument("-o", "--output", help="write here instead of replacing the stage file")
    p.set_defaults(handler=cmd_auto_layout)


def _print_problems(exc: ConfigError) -> int:
    for problem in exc.problems:
        print(problem.format(), file=sys.stderr)
    n = len([p for p in exc.problems if p.severity == "error"])
    print(f"{n} problem{'s' if n != 1 else ''} found", file=sys.stderr)
    return EXIT_INVALID


def cmd_validate(args: argparse.Namespace) -> int:
    from vpstage.stage import Stage

    try:
        stage = Stage.open(args.stage)
    except ConfigError as exc:
        return _print_problems(exc)
    log.info("validated %s (%d warnings)", Path(args.stage).resolve(), len(stage.problems))
    for warning in stage.problems:
        print(warning.format(), file=sys.stderr)
    print(format_summary(stage.summary()))
    print("\nOK: no problems found")
    return EXIT_OK


def cmd_stage_info(args: argparse.Namespace) -> int:
    from vpstage.stage import Stage

    try:
        stage = Stage.open(args.stage)
    except ConfigError as exc:
        return _print_problems(exc)
    summary = stage.summary()
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return EXIT_OK


def cmd_auto_layout(args: argparse.Namespace) -> int:
    from vpstage.stage import LayoutError, Stage, auto_layout, save_project

    try:
        stage = Stage.open(args.stage, strict=False)
        project = stage.project.model_copy(deep=True)
        project.pixel_map = auto_layout(stage.layout)
        out = Path(args.output or args.stage)
        save_project(project, out, base_dir=Path(args.stage).resolve().parent)
    except ConfigError as exc:
        return _print_problems(exc)
    except LayoutError as exc:
        print(f"{args.stage}: auto-layout failed: {exc}", file=sys.stderr)
        return EXIT_INVALID
    print(f"wrote {len(project.pixel_map)} pixel-map entries to {out}")
    return EXIT_OK
