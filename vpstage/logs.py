"""Where log records go, set once per entry point, and the policy for third-party libraries.

Two entry points configure logging, each once: ``main.py`` with a subcommand calls
:func:`configure_cli_logging` (one stderr handler, ``LEVEL name: message``); the console installs
``ui.live.console_log.ConsoleLog`` (a log file, errors on the terminal). Render node processes
configure their own (``render/node/__main__.py``). Library code only logs, never configures.

Both entry points hold the chatty third-party libraries at :data:`LIBRARY_LEVELS` through
:func:`throttle_libraries`: aiortc, aioice and aiohttp log every connection step at INFO, numba
and PIL at DEBUG, and python-osc logs the half-understood datagrams of any sender (its bytes in the
message) through the *root* logger, which no named-logger level reaches: :class:`LibraryRecords`
drops those by the file that logged them. ``-vv`` lifts the throttle.

Stdlib only (no Qt, no torch): ``vpstage`` is the bottom layer.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TextIO

CLI_FORMAT = "%(levelname)s %(name)s: %(message)s"
LIBRARY_LEVELS: Mapping[str, int] = {
    "pythonosc": logging.ERROR,  # a sender's bytes in the message; the tracking decoder counts them instead
    "aioice": logging.WARNING,
    "aiortc": logging.WARNING,
    "aiohttp": logging.WARNING,
    "av": logging.WARNING,
    "libav": logging.ERROR,  # FFmpeg's own chatter (codec options, NVENC probing)
    "PIL": logging.WARNING,
    "numba": logging.WARNING,
    "ray": logging.WARNING,
    "urllib3": logging.WARNING,
    "asyncio": logging.WARNING,
    "OpenGL": logging.WARNING,
    "matplotlib": logging.WARNING,
    "filelock": logging.WARNING,
}
"""Third-party logger -> the lowest level of its records that is let through (unless ``-vv``)."""
ROOT_LOGGING_PACKAGES: tuple[str, ...] = ("pythonosc",)
"""Libraries that log through the root logger (``logging.warning(...)``), recognised by their folder."""


def level_for_verbosity(verbosity: int) -> int:
    """-1 (``-q``): ERROR; 0: WARNING; 1 (``-v``): INFO; 2 or more (``-vv``): DEBUG."""
    if verbosity < 0:
        return logging.ERROR
    return (logging.WARNING, logging.INFO)[verbosity] if verbosity < 2 else logging.DEBUG


def library_package(record: logging.LogRecord) -> str | None:
    """The package of :data:`ROOT_LOGGING_PACKAGES` whose file logged ``record`` through the root logger."""
    if record.name != "root":
        return None
    parts = set(PurePath(record.pathname).parts)
    return next((p for p in ROOT_LOGGING_PACKAGES if p in parts), None)


class LibraryRecords(logging.Filter):
    """A handler filter: records a library logged through the root logger pass only at its
    :data:`LIBRARY_LEVELS` level or above (named loggers are held by their level instead)."""

    def filter(self, record: logging.LogRecord) -> bool:
        package = library_package(record)
        return package is None or record.levelno >= LIBRARY_LEVELS.get(package, logging.WARNING)


@dataclass
class LibraryThrottle:
    """Library logger -> (its level before :func:`throttle_libraries`, the level it set); ``undo()``
    restores the first where the second still holds (a level changed since, e.g. by
    ``devices.tracking.osc_log.install``, stays)."""

    levels: dict[str, tuple[int, int]] = field(default_factory=dict)

    def undo(self) -> None:
        for name, (before, throttled) in self.levels.items():
            logger = logging.getLogger(name)
            if logger.level == throttled:
                logger.setLevel(before)
        self.levels.clear()


def throttle_libraries(levels: Mapping[str, int] = LIBRARY_LEVELS) -> LibraryThrottle:
    """Hold each library logger at its level (a logger already set higher keeps its own)."""
    throttle = LibraryThrottle()
    for name, level in levels.items():
        logger = logging.getLogger(name)
        throttled = max(level, logger.level)
        throttle.levels[name] = (logger.level, throttled)
        logger.setLevel(throttled)
    return throttle


@dataclass
class CliLogging:
    """What :func:`configure_cli_logging` changed; ``close()`` puts it all back (tests, embedding)."""

    handler: logging.Handler
    root_level: int
    throttle: LibraryThrottle

    def close(self) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self.root_level)
        self.throttle.undo()
        logging.captureWarnings(False)


def configure_cli_logging(verbosity: int = 0, stream: TextIO | None = None) -> CliLogging:
    """Log to ``stream`` (stderr) at :func:`level_for_verbosity`, Python warnings included
    (``py.warnings`` records), libraries throttled unless ``verbosity >= 2``."""
    level = level_for_verbosity(verbosity)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setLevel(level)  # also what a throttled library's WARNING meets under -q
    handler.setFormatter(logging.Formatter(CLI_FORMAT))
    root = logging.getLogger()
    state = CliLogging(handler, root.level, LibraryThrottle())
    if verbosity < 2:
        handler.addFilter(LibraryRecords())
        state.throttle = throttle_libraries()
    root.setLevel(level)
    root.addHandler(handler)
    logging.captureWarnings(True)
    return state


@contextmanager
def cli_logging(verbosity: int = 0, stream: TextIO | None = None) -> Iterator[CliLogging]:
    """:func:`configure_cli_logging` for the length of a ``with`` block."""
    state = configure_cli_logging(verbosity, stream)
    try:
        yield state
    finally:
        state.close()
