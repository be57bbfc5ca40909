"""Command line: ``main.py`` with no subcommand opens the console; subcommands run headless.

Each module in ``COMMAND_MODULES`` defines ``register(subparsers)`` and imports its heavy
dependencies (torch, Qt, ...) only inside the command handler, so ``main.py --help`` and the
light commands start fast.

Logging is configured here, once, for every subcommand (``vpstage.logs.configure_cli_logging``:
stderr, WARNING by default, ``-v`` INFO, ``-vv`` DEBUG with the library throttle lifted, ``-q``
errors only); the console configures its own (``ui.live.console_log``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from vpstage.logs import cli_logging

COMMAND_MODULES: tuple[str, ...] = (
    "cli.stage_commands",
    "cli.takes_commands",
    "cli.frameloop_commands",
    "cli.frustum_commands",
    "cli.track_commands",
    "cli.timecode_commands",
    "cli.render_commands",
    "cli.run_commands",
    "cli.train_commands",
    "cli.bake_commands",
    "cli.delay_commands",
    "cli.lens_commands",
    "cli.token_commands",
    "cli.colour_commands",
)

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="vpstage: operator console for LED-volume virtual production with neural scenes. "
        "Without a subcommand it opens the console (rehearsal mode unless --project is given).",
    )
    parser.add_argument("--project", metavar="FILE", help="open this project in the console")
    parser.add_argument("--rehearsal", action="store_true", help="force rehearsal mode (demo stage, simulated tracker)")
    parser.add_argument("--web", metavar="HOST:PORT", help="serve the web viewer and control API from the console "
                        "(loopback unless the project's network.mode is studio; console setting remote/web)")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("-v", "--verbose", action="count", default=0,
                       help="subcommands: log INFO (progress lines when stderr is not a terminal); -vv: DEBUG, "
                       "third-party libraries included")
    noise.add_argument("-q", "--quiet", action="store_true", help="subcommands: log errors only, no progress bars")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _open_console(args: argparse.Namespace) -> int:
    from ui.app import run_console  # Qt only when the console is wanted

    return int(run_console(project=args.project, rehearsal=args.rehearsal or args.project is None,
                           on_window=lambda window: _serve_console(window, args.web)))


def _serve_console(window: object, listen: str | None) -> Callable[[], None] | None:
    """The console's web viewer when ``--web`` or the console setting asks for it; returns what
    stops it (None when off, or when it could not start: the reason goes to stderr)."""
    from remote.console import serve_console, web_listen
    from remote.headless import web_settings

    where = web_listen(getattr(window, "settings", None), listen)
    if where is None:
        return None
    try:
        server = serve_console(window, web_settings(where))
    except (ValueError, OSError) as exc:
        print(f"web viewer: {exc}", file=sys.stderr)
        return None
    print(f"web viewer at {server.url}", file=sys.stderr, flush=True)
    return server.stop


def verbosity(args: argparse.Namespace) -> int:
    """-1 for ``-q``, else the number of ``-v`` (``vpstage.logs.level_for_verbosity``)."""
    return -1 if getattr(args, "quiet", False) else int(getattr(args, "verbose", 0))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    try:
        if handler is None:
            return _open_console(args)
        with cli_logging(verbosity(args)):
            return int(handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `main.py validate X | head`: the reader went away, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
