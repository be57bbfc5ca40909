"""``run``: the live frame loop headless (tracked camera -> scene on every canvas), with a report.

    python main.py run --stage STAGE.yaml [--scene ASSET] [--tracker udp://HOST:PORT | --simulate orbit
        | --replay TAKE] [--frames N] [--outputs ndi|none] [--cluster local|ray|threads] --report report.json
        [--record SLATE [--take-scene S] [--notes N]] [--scale N] [--inner-scale F] [--outer-scale F]
        [--web HOST:PORT [--web-cert CERT --web-key KEY] [--web-fps F]]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from cli.progress import EventCounter, ProgressReporter, progress_for, wait_reporting

SIMULATED_MOVES = ("orbit", "dolly", "crane", "handheld", "static")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run the live frame loop headless (tracking, scene, outputs) and write a report")
    p.add_argument("--stage", required=True, help="stage / project YAML file")
    p.add_argument("--scene", metavar="ASSET", help="show this asset instead of the project's scene "
                   "(a .ply/.splat/.spz/.ingp/.nerf file, or procedural:demo)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--tracker", action="append", metavar="udp://HOST:PORT", default=[],
                        help="listen here instead of the project's tracking source address (repeat: sources in order)")
    source.add_argument("--simulate", choices=SIMULATED_MOVES,
                        help="rehearsal: a simulated tracker sends this move as real packets on loopback")
    source.add_argument("--replay", metavar="TAKE", help="replay a recorded take (SLATE_TNN or id) as the tracker")
    p.add_argument("--replay-camera", metavar="NAME", help="camera of the take to replay (default: its first)")
    p.add_argument("--frames", type=int, help="stop after N frames (default: until Ctrl+C)")
    p.add_argument("--outputs", choices=["ndi", "none"], default="ndi")
    p.add_argument("--fourcc", choices=["BGRX", "UYVY"], default="UYVY", help="NDI pixel format")
    p.add_argument("--cluster", choices=["local", "ray", "threads"],
                   help="override the project's cluster backend (local: one process per render node)")
    p.add_argument("--report", required=True, metavar="FILE", help="write the run report (JSON) here")
    p.add_argument("--record", metavar="SLATE", help="record a take on this slate into the project's takes database")
    p.add_argument("--take-scene", default="", metavar="S", help="scene label of the recorded take")
    p.add_argument("--notes", default="", help="notes of the recorded take")
    p.add_argument("--db", metavar="PATH", help="takes database (default: <project dir>/takes/takes.sqlite)")
    p.add_argument("--scale", type=int, default=1, metavar="N",
                   help="divide every cabinet's pixels, canvas and pixel-map offset by N (CPU rehearsal)")
    p.add_argument("--inner-scale", type=float, default=1.0, help="inner render resolution factor")
    p.add_argument("--outer-scale", type=float, default=1.0, help="outer (cube map) resolution factor")
    p.add_argument("--timecode", help="start timecode HH:MM:SS:FF (default: time of day)")
    p.add_argument("--assign-tiles", action=argparse.BooleanOptionalAction, default=None,
                   help="move bands of overloaded nodes' heavy camera views to nodes with time to spare "
                        "(default: the project's cluster.assign_tiles)")
    p.add_argument("--deadline-ms", type=_positive_ms, metavar="MS",
                   help="present deadline after each frame instant (default: the project's cluster.deadline_ms, "
                        "else one period); a few ms over the period give renders a margin for that much latency")
    p.add_argument("--timecode-master", choices=["internal", "ltc", "tracker"],
                   help="what the frame clock follows (default: the project's timecode.master)")
    ltc = p.add_mutually_exclusive_group()
    ltc.add_argument("--ltc-file", metavar="WAV", help="follow the LTC of this WAV file, replayed in real time")
    ltc.add_argument("--ltc-simulate", type=float, metavar="PPM",
                     help="follow a simulated LTC generator running PPM parts per million fast (rehearsal)")
    web = p.add_argument_group("web viewer and control API (tokens: main.py token create)")
    web.add_argument("--web", metavar="HOST:PORT", help="serve the viewer page at / and the API under /api/ "
                     "(loopback unless the project's network.mode is studio; port 0: any free port)")
    web.add_argument("--web-cert", metavar="CERT", help="TLS certificate (PEM) for the web server")
    web.add_argument("--web-key", metavar="KEY", help="TLS private key (PEM) for the web server")
    web.add_argument("--web-fps", type=float, default=30.0, metavar="F", help="viewer frame rate (default 30)")
    p.set_defaults(handler=cmd_run)


def _positive_ms(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected milliseconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of milliseconds, got {text!r}")
    return value


def _options(args: argparse.Namespace, stage: Any, db: Path) -> Any:
    from live import LiveOptions, ReplaySpec
    from vpstage.nodes import RenderQuality

    replay = None
    if args.replay:
        from vpstage.takes import TakeLibrary

        with TakeLibrary(db) as library:
            frames = library.frames(args.replay)
        cameras = [c.camera for f in frames[:1] for c in f.cameras]
        camera = args.replay_camera or (cameras[0] if cameras else "")
        replay = ReplaySpec(frames, camera)
    if not 0 < args.inner_scale <= 4 or not 0 < args.outer_scale <= 4:
        raise ValueError("--inner-scale and --outer-scale must be within (0, 4]")
    return LiveOptions(rehearsal=args.simulate is not None, simulate=args.simulate, replay=replay,
                       trackers=tuple(args.tracker), scene=args.scene, cluster=args.cluster, outputs=args.outputs,
                       fourcc=args.fourcc,
                       quality=RenderQuality(args.inner_scale, args.outer_scale),
                       takes_db=db if args.record or args.web else None, frames=args.frames,
                       timecode_master=args.timecode_master, ltc_file=args.ltc_file,
                       ltc_simulate_ppm=args.ltc_simulate, assign_tiles=args.assign_tiles,
                       deadline_ms=args.deadline_ms)


def _open_stage(args: argparse.Namespace, workdir: Path) -> Any:
    from vpstage.stage import Stage
    from vpstage.stage.scaling import scaled_stage

    stage = Stage.open(args.stage)
    if args.scale < 1:
        raise ValueError("--scale must be at least 1")
    return scaled_stage(stage, args.scale, workdir) if args.scale > 1 else stage


def cmd_run(args: argparse.Namespace) -> int:
    import tempfile

    from cli.stage_commands import _print_problems
    from devices.outputs.ndi_runtime import NdiUnavailable
    from vpstage.config import ConfigError
    from vpstage.takes.database import default_db_path

    db = Path(args.db) if args.db else default_db_path(args.stage)
    with tempfile.TemporaryDirectory(prefix="vpstage-run-") as workdir:
        try:
            stage = _open_stage(args, Path(workdir))
            options = _options(args, stage, db)
            from live import LiveEngine

            engine = LiveEngine(stage, options)
        except ConfigError as exc:
            return _print_problems(exc)
        except NdiUnavailable as exc:
            print(f"NDI outputs: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except (ValueError, KeyError, OSError) as exc:
            print(f"{args.stage}: {exc}", file=sys.stderr)
            return EXIT_INVALID
        return _run_engine(engine, args)


def _run_engine(engine: Any, args: argparse.Namespace) -> int:
    from vpstage.config import atomic_write_text
    from vpstage.frame_master import WorkerStartError
    from vpstage.timing import Timecode

    engine.events.tracking_lost.connect(lambda cam: print(f"camera {cam}: tracking lost (holding)", file=sys.stderr))
    engine.loop.events.node_down.connect(lambda node, why: print(f"node {node} down: {why}", file=sys.stderr))
    engine.loop.events.canvas_error.connect(
        lambda canvas, why: print(f"canvas {canvas}: {why or 'renders again'}", file=sys.stderr))
    take = web = None
    try:
        engine.cluster.start()  # start-up errors surface here, before any frame
        if args.timecode:  # labels the frame that starts now: the loop's first
            engine.loop.clock.set_timecode(Timecode.parse(args.timecode, engine.stage.project.frame_rate))
        else:
            engine.loop.clock.sync_time_of_day()
        if args.record:
            take = engine.start_take(args.record, scene=args.take_scene, notes=args.notes)
            print(f"recording take {take.name} into {engine.recorder.path}")
        errors = engine.start()
        for source, error in errors.items():
            print(f"tracking source {source}: {error}", file=sys.stderr)
        try:
            web = _serve_web(engine, args)
        except (ValueError, OSError) as exc:  # its address, or its certificate
            print(f"--web: {exc}", file=sys.stderr)
            engine.stop()
            return EXIT_INVALID
        with progress_for(args, "run", "frame") as progress:
            _wait(engine, args.frames, progress)
    except WorkerStartError as exc:
        print(f"cannot start the render nodes: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if web is not None:
            web.stop()
        if take is not None or engine.recording is not None:
            take = engine.stop_take()
        report = engine.report()
        engine.close()
    if take is not None:
        report["take"] = take.to_dict()
    _print_summary(report)
    atomic_write_text(args.report, json.dumps(report, indent=2, allow_nan=False) + "\n", backup=False)
    print(f"report written to {args.report}")
    return EXIT_OK if engine.loop.error is None else EXIT_FAILED


def _serve_web(engine: Any, args: argparse.Namespace) -> Any:
    """The web viewer and control API when ``--web`` is given (None otherwise)."""
    if not args.web:
        return None
    from remote.headless import serve_engine, web_settings

    server = serve_engine(engine, args.stage, web_settings(args.web, args.web_fps, args.web_cert, args.web_key))
    print(f"web viewer at {server.url} (API under {server.url}api/; tokens: main.py token create)", flush=True)
    return server


def _wait(engine: Any, frames: int | None, progress: ProgressReporter) -> None:
    """Until the loop ends (``--frames``: frames presented to ``progress``) or Ctrl+C, which stops it
    after the current frame."""
    presented = EventCounter()
    engine.loop.events.frame_presented.connect(presented)
    try:
        wait_reporting(lambda timeout: engine.wait(timeout=timeout), presented, frames, progress)
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
        engine.stop()


def _print_summary(report: dict[str, Any]) -> None:
    for output in report["outputs"]:
        print(f"{output['kind']} {output['canvas']}: {output['name']} at {output['address'] or 'unknown address'}")
    print(f"{report['frames']} frames, {report['late']} late, {report['dropped']} dropped, {report['skipped']} "
          f"skipped; render p50 {report['render_ms']['p50']} ms, plan p50 {report['plan_ms']['p50']} ms, "
          f"present skew p99 {report['present_skew_ms']['p99']} ms, tracking to present p50 "
          f"{report['tracking_to_present_ms']['p50']} ms")
    for tracker in report.get("tracking", []):
        for camera in tracker.get("cameras_never_tracked") or []:
            print(f"camera {camera}: NEVER TRACKED (source {tracker['source']} at {tracker['address']}: "
                  f"{tracker['packets']} packets, {tracker['bad_packets']} bad)")
    if "timecode" in report:
        print(f"timecode: {report['timecode']['display']}")
    if "tiles" in report:
        tiles = report["tiles"]
        used = sum(n.get("used", 0) for n in tiles["nodes"].values())
        fallback = sum(n.get("local_fallback", 0) for n in tiles["nodes"].values())
        print(f"tiles: {tiles['decisions'].get('tiles_assigned', 0)} assigned, {used} used, {fallback} rendered "
              f"locally after all, {tiles['decisions'].get('kept_local_deadline', 0)} kept local (deadline)")
    if "take" in report:
        take = report["take"]
        print(f"take {take['name']}: {take['frame_count']} frames, {take['frames_lost']} lost")
