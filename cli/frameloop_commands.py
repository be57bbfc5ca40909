"""Frame-loop commands: ``patterns`` runs the loop headless with test patterns on every canvas."""

from __future__ import annotations

import argparse
import json
import sys

from cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from cli.progress import EventCounter, ProgressReporter, progress_for, wait_reporting
from vpstage.patterns import PATTERN_NAMES


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("patterns", help="run the frame loop headless with a test pattern on every canvas")
    p.add_argument("stage", help="stage / project YAML file")
    p.add_argument("--pattern", choices=PATTERN_NAMES, default="cabinets")
    p.add_argument("--color", default="255,255,255", help="R,G,B 0..255 for --pattern solid")
    p.add_argument("--sync-overlay", action="store_true", help="draw the moving sync bar and frame counter on top")
    p.add_argument("--outputs", choices=["ndi", "none"], default="ndi")
    p.add_argument("--fourcc", choices=["BGRX", "UYVY"], default="UYVY", help="NDI pixel format")
    p.add_argument("--frames", type=int, help="stop after N frames (default: run until Ctrl+C)")
    p.add_argument("--cluster", choices=["local", "ray", "threads"],
                   help="override the project's cluster backend (local: one process per render node)")
    p.add_argument("--timecode", help="start timecode HH:MM:SS:FF (default: time of day)")
    p.add_argument("--report", metavar="FILE", help="write the run report (JSON) here")
    p.set_defaults(handler=cmd_patterns)


def _pattern(args: argparse.Namespace) -> object:
    from vpstage.patterns import PatternSpec

    color = tuple(int(v) for v in args.color.split(","))
    if len(color) != 3:
        raise ValueError(f"--color {args.color!r} is not R,G,B")
    return PatternSpec(name=args.pattern, color=color, sync_overlay=args.sync_overlay)  # type: ignore[arg-type]


def cmd_patterns(args: argparse.Namespace) -> int:
    from cli.stage_commands import _print_problems
    from render.node.cluster import default_outputs, make_node_cluster
    from vpstage.config import ConfigError, atomic_write_text
    from vpstage.frame_master import FrameLoop, PatternSource, WorkerStartError
    from vpstage.stage import Stage
    from vpstage.timing import Timecode

    try:
        stage = Stage.open(args.stage)
        spec = _pattern(args)
        start_tc = Timecode.parse(args.timecode, stage.project.frame_rate) if args.timecode else None
    except ConfigError as exc:
        return _print_problems(exc)
    except ValueError as exc:
        print(f"{args.stage}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    outputs = default_outputs(stage, kind=args.outputs, fourcc=args.fourcc)
    loop = FrameLoop(stage, PatternSource(stage, spec),  # type: ignore[arg-type]
                     make_node_cluster(stage, args.cluster, outputs=outputs))
    if start_tc is None:
        loop.clock.sync_time_of_day()
    else:
        loop.clock.set_timecode(start_tc)
    loop.events.node_down.connect(lambda node, reason: print(f"node {node} down: {reason}", file=sys.stderr))
    loop.events.node_up.connect(lambda node: print(f"node {node} back up", file=sys.stderr))
    try:
        with progress_for(args, "patterns", "frame") as progress:
            _run(loop, args.frames, progress)
    except WorkerStartError as exc:
        print(f"cannot start the render nodes: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        report = loop.report()
        loop.close()
    for output in report["outputs"]:
        print(f"{output['kind']} {output['canvas']}: {output['name']} at {output['address'] or 'unknown address'}")
    print(f"{report['frames']} frames, {report['late']} late, {report['dropped']} dropped, "
          f"{report['skipped']} skipped; render p50 {report['render_ms']['p50']} ms, "
          f"present skew p99 {report['present_skew_ms']['p99']} ms")
    if args.report:
        atomic_write_text(args.report, json.dumps(report, indent=2) + "\n", backup=False)
        print(f"report written to {args.report}")
    return EXIT_OK if loop.error is None else EXIT_FAILED


def _run(loop: object, frames: int | None, progress: ProgressReporter) -> None:
    """Run the loop on its own thread (frames presented of ``frames`` to ``progress``); Ctrl+C stops
    it cleanly after the current frame."""
    from vpstage.frame_master import FrameLoop

    assert isinstance(loop, FrameLoop)
    loop.cluster.start()  # start-up errors surface here, on the caller's thread
    presented = EventCounter()
    loop.events.frame_presented.connect(presented)
    loop.start(frames)
    try:
        wait_reporting(lambda timeout: loop.join(timeout=timeout), presented, frames, progress)
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
        loop.stop()
