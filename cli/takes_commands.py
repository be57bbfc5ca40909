"""Take commands: ``takes list|show|export|render|rename|edit|delete|restore``.

Every command names its database with ``--db PATH`` or ``--project FILE`` (the project's
``takes/takes.sqlite``). Takes are named ``SLATE_TNN`` (``A001_T03``) or by id.
Exit codes: 0 done, 1 take or database not found, not a takes database, damaged (``list`` checks
the whole file and names the damaged takes) / export failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from cli.progress import progress_for
from vpstage.takes import (
    TakeDatabaseError,
    TakeInfo,
    TakeLibrary,
    TakeNotFoundError,
    TakeRefError,
    default_db_path,
)
from vpstage.takes.exports import FORMATS, ExportError, export_take
from vpstage.takes.frame_records import split_take_name
from vpstage.takes.integrity import DatabaseHealth, TakeDamage
from vpstage.takes.take_stats import DEFAULT_GAP_THRESHOLD_MS, TakeStats, duration_label


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    takes = sub.add_parser("takes", help="browse, annotate and export recorded takes")
    actions = takes.add_subparsers(dest="takes_command", metavar="ACTION", required=True)
    where = argparse.ArgumentParser(add_help=False)
    group = where.add_mutually_exclusive_group(required=True)
    group.add_argument("--db", metavar="PATH", help="takes database file")
    group.add_argument("--project", metavar="FILE", help="project file (its takes/takes.sqlite)")

    p = actions.add_parser("list", parents=[where], help="list takes (newest last)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--search", metavar="TEXT", help="only takes whose slate, scene, roll or notes contain TEXT")
    p.add_argument("--scene", help="only takes whose scene contains this")
    p.add_argument("--circled", action="store_true", help="only circled takes")
    p.add_argument("--all", action="store_true", help="include soft-deleted takes")
    p.set_defaults(handler=cmd_list)

    p = actions.add_parser("show", parents=[where], help="a take's metadata and statistics")
    p.add_argument("take", help="SLATE_TNN (e.g. A001_T03) or take id")
    p.add_argument("--json", action="store_true")
    p.add_argument("--gap-ms", type=float, default=DEFAULT_GAP_THRESHOLD_MS,
                   help=f"tracking older than this is a gap (default {DEFAULT_GAP_THRESHOLD_MS:g} ms)")
    p.set_defaults(handler=cmd_show)

    p = actions.add_parser("export", parents=[where], help="write a take for post")
    p.add_argument("take")
    p.add_argument("--format", required=True, choices=sorted(FORMATS),
                   help="; ".join(f"{f.name}: {f.description}" for f in FORMATS.values()))
    p.add_argument("-o", "--output", required=True, metavar="PATH")
    p.set_defaults(handler=cmd_export)

    p = actions.add_parser("render", parents=[where],
                           help="review video: the camera's view along the recorded path, with burn-in")
    p.add_argument("take", help="SLATE_TNN (e.g. A001_T03) or take id")
    p.add_argument("-o", "--output", required=True, metavar="OUT.mp4")
    p.add_argument("--size", type=_size, metavar="WxH",
                   help="output size, even numbers (default: the camera's image aspect, at most 1920 wide)")
    p.add_argument("--quality", choices=("draft", "standard", "high"), default="standard",
                   help="draft: half-size render scaled up; standard: one sample per pixel; "
                        "high: 2x2 supersampling (default standard)")
    p.add_argument("--camera", metavar="NAME", help="which recorded camera (default: the first)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="render device (default cpu)")
    p.add_argument("--crf", type=int, default=20, help="H.264 constant quality, 0..51 (default 20)")
    p.add_argument("--project-dir", metavar="DIR",
                   help="the folder the take's stage paths (assets, panel catalog, meshes) are relative to "
                        "(default: the project's folder; with --db, the folder holding takes/, else the database's)")
    p.set_defaults(handler=cmd_render)

    p = actions.add_parser("rename", parents=[where], help="move a take to another slate / take number")
    p.add_argument("take")
    p.add_argument("new_name", metavar="NEW", help="SLATE (next free take number) or SLATE_TNN")
    p.set_defaults(handler=cmd_rename)

    p = actions.add_parser("edit", parents=[where], help="change a take's notes, scene, camera roll or circle")
    p.add_argument("take")
    p.add_argument("--notes")
    p.add_argument("--scene")
    p.add_argument("--roll", help="camera roll")
    circle = p.add_mutually_exclusive_group()
    circle.add_argument("--circle", dest="circled", action="store_const", const=True)
    circle.add_argument("--uncircle", dest="circled", action="store_const", const=False)
    p.set_defaults(handler=cmd_edit)

    for name, helptext in (("delete", "soft-delete a take (hidden, kept, restorable)"),
                           ("restore", "bring back a soft-deleted take")):
        p = actions.add_parser(name, parents=[where], help=helptext)
        p.add_argument("take")
        p.set_defaults(handler=cmd_delete if name == "delete" else cmd_restore)


def _db_path(args: argparse.Namespace) -> Path:
    return Path(args.db) if args.db else default_db_path(args.project)


def _with_library(args: argparse.Namespace, action: Callable[[TakeLibrary], int]) -> int:
    """Open the library, run ``action``, and turn the expected failures into messages and exit codes."""
    db = _db_path(args)
    try:
        with TakeLibrary(db) as library:
            for take in library.recovered:
                print(f"recovered interrupted take {take.name} ({take.frame_count} frames)", file=sys.stderr)
            if library.recovery_error:
                print(f"warning: {db}: {library.recovery_error}", file=sys.stderr)
            return action(library)
    except TakeRefError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except (TakeDatabaseError, TakeNotFoundError, ExportError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except sqlite3.DatabaseError as exc:  # a read the library did not expect to fail: still no traceback
        print(f"error: {db}: the takes database cannot be read: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _row(take: TakeInfo, damage: TakeDamage | None = None) -> str:
    flags = ("*" if take.circled else " ") + ("D" if take.deleted else " ")
    span = f"{take.start_timecode or '--'} - {take.end_timecode or '--'}"
    status = "DAMAGED" if damage is not None else take.status
    return (f"{take.id:>5} {take.name:<16} {flags} {status:<10} {span:<25} {take.frame_count:>7} "
            f"{take.scene:<12} {take.notes}")


def _report_health(db: Path, health: DatabaseHealth) -> None:
    """Say on stderr what a damaged database still holds."""
    if not health.takes_readable:
        print(f"error: {db}: the database file is damaged and even its list of takes does not read back "
              f"({'; '.join(health.problems[:3])})", file=sys.stderr)
        return
    for damage in health.damaged:
        print(f"error: {db}: {damage.describe()}", file=sys.stderr)
    if not health.damaged:
        print(f"error: {db}: the database file is damaged ({'; '.join(health.problems[:3])}), though every take "
              "still reads back: export what matters", file=sys.stderr)
    print("copy the file before any repair (e.g. `sqlite3 takes.sqlite .recover`)", file=sys.stderr)


def cmd_list(args: argparse.Namespace) -> int:
    def run(library: TakeLibrary) -> int:
        health = library.check()
        if not health.takes_readable:
            _report_health(library.path, health)
            return EXIT_FAILED
        takes = library.search(args.search, scene=args.scene, circled=True if args.circled else None,
                               include_deleted=args.all)
        damaged = {d.take.id: d for d in health.damaged}
        if args.json:
            print(json.dumps([{**t.to_dict(), "damage": damaged[t.id].to_dict() if t.id in damaged else None}
                              for t in takes], indent=2))
        else:
            print(f"{'id':>5} {'take':<16} {'':2} {'status':<10} {'timecode in - out':<25} {'frames':>7} "
                  f"{'scene':<12} notes")
            for take in takes:
                print(_row(take, damaged.get(take.id)))
        if not health.ok:
            _report_health(library.path, health)
            return EXIT_FAILED
        return EXIT_OK

    return _with_library(args, run)


def _format_stats(take: TakeInfo, stats: TakeStats) -> str:
    lines = [f"take {take.name} (id {take.id}, {take.status}{', circled' if take.circled else ''}"
             f"{', deleted' if take.deleted else ''})",
             f"  scene {take.scene or '-'}, roll {take.camera_roll or '-'}, rate {take.rate}, "
             f"notes: {take.notes or '-'}",
             f"  timecode {stats.start_timecode} - {stats.end_timecode}, {stats.frame_count} frames, "
             f"duration {duration_label(stats.duration_s)}",
             f"  frames missing: {stats.missing_frames} {stats.missing_ranges or ''}; lost by the recorder: "
             f"{take.frames_lost}",
             f"  stage config {take.stage_hash or '-'}"]
    for n in stats.nodes:
        lines.append(f"  node {n.node:<12} late {n.late:>5}  dropped {n.dropped:>5}  "
                     f"render mean {n.mean_render_ms:.2f} ms  max {n.max_render_ms:.2f} ms")
    lines.append(f"  tracking gaps (> {stats.gap_threshold_ms:g} ms or missing): {len(stats.tracking_gaps)}")
    for g in stats.tracking_gaps:
        age = "no sample" if g.max_age_ms is None else f"max age {g.max_age_ms:.1f} ms"
        lines.append(f"    {g.camera:<8} {g.range.first_timecode} - {g.range.last_timecode} "
                     f"({g.range.frames} frames, {g.missing_frames} without sample, {age})")
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    def run(library: TakeLibrary) -> int:
        take = library.get(args.take)
        stats = library.stats(take.id, gap_threshold_ms=args.gap_ms)
        if args.json:
            print(json.dumps({"take": take.to_dict(), "stats": stats.to_dict()}, indent=2))
        else:
            print(_format_stats(take, stats))
        return EXIT_OK

    return _with_library(args, run)


def cmd_export(args: argparse.Namespace) -> int:
    def run(library: TakeLibrary) -> int:
        with progress_for(args, f"takes export {args.format}", "frame") as progress:
            path = export_take(library, args.take, args.format, args.output, progress=progress)
        print(f"wrote {args.format} export of {library.get(args.take).name} to {path}")
        return EXIT_OK

    return _with_library(args, run)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH (e.g. 1280x720), got {text!r}") from None
    return width, height


def _project_dir(args: argparse.Namespace) -> Path:
    """Where the take's relative asset paths resolve: ``--project-dir``, the project's folder
    (``--project``), or the folder holding ``takes/takes.sqlite`` (``--db``), else the database's own folder."""
    if getattr(args, "project_dir", None):
        return Path(args.project_dir).resolve()
    if args.project:
        return Path(args.project).resolve().parent
    db = Path(args.db).resolve()
    return db.parent.parent if db.parent.name == "takes" else db.parent


def cmd_render(args: argparse.Namespace) -> int:
    from render.review import ReviewError, ReviewOptions, render_take_review

    try:
        options = ReviewOptions(size=args.size, quality=args.quality, camera=args.camera, device=args.device,
                                crf=args.crf)
        options.check()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID

    def run(library: TakeLibrary) -> int:
        try:
            with progress_for(args, "takes render", "frame") as progress:
                result = render_take_review(library, args.take, args.output, options, project_dir=_project_dir(args),
                                            progress=progress)
        except ReviewError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        held = f", held {result.tracking_gaps} (tracking gap) + {result.not_recorded} (not recorded)"
        print(f"wrote {result.path}: {result.frames} frames ({result.rendered} rendered{held}), "
              f"{result.duration_s:.3f} s at {result.rate.numerator}/{result.rate.denominator} fps, "
              f"{result.width}x{result.height} {result.codec}, quality {result.quality}, camera {result.camera}, "
              f"take {result.take}; render {result.render_s:.1f} s")
        return EXIT_OK

    return _with_library(args, run)


def cmd_rename(args: argparse.Namespace) -> int:
    def run(library: TakeLibrary) -> int:
        parsed = split_take_name(args.new_name)
        take = library.rename(args.take, *parsed) if parsed else library.rename(args.take, args.new_name)
        print(f"renamed to {take.name}")
        return EXIT_OK

    return _with_library(args, run)


def cmd_edit(args: argparse.Namespace) -> int:
    def run(library: TakeLibrary) -> int:
        take = library.update(args.take, notes=args.notes, scene=args.scene, camera_roll=args.roll,
                              circled=args.circled)
        print(_row(take))
        return EXIT_OK

    return _with_library(args, run)


def cmd_delete(args: argparse.Namespace) -> int:
    return _with_library(args, lambda lib: _report("deleted", lib.delete(args.take)))


def cmd_restore(args: argparse.Namespace) -> int:
    return _with_library(args, lambda lib: _report("restored", lib.restore(args.take)))


def _report(verb: str, take: TakeInfo) -> int:
    print(f"{verb} {take.name}")
    return EXIT_OK
