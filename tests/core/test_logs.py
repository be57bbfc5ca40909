"""Logging at the CLI entry point (``vpstage.logs``): levels per -q/-v/-vv, third-party libraries
held back, Python warnings as log records, and ``main.py -v`` showing INFO."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import warnings
from collections.abc import Iterator

import pytest

from cli import build_parser, verbosity
from tests.conftest import ROOT, STAGES
from vpstage.logs import LIBRARY_LEVELS, cli_logging, level_for_verbosity, throttle_libraries


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    yield io.StringIO()


@pytest.fixture
def osc_logging_untouched() -> Iterator[None]:
    """python-osc's logging as the library leaves it: ``devices.tracking.osc_log.install()`` (run by
    any tracking test earlier in this process) filters the root logger and silences ``pythonosc``."""
    root, osc = logging.getLogger(), logging.getLogger("pythonosc")
    filters, level = list(root.filters), osc.level
    for f in filters:
        root.removeFilter(f)
    osc.setLevel(logging.NOTSET)
    yield
    osc.setLevel(level)
    for f in filters:
        root.addFilter(f)


def _osc_message_with_unknown_type() -> None:
    """python-osc itself logs ``Unhandled parameter type`` through the root logger (a sender's bytes)."""
    from pythonosc.osc_message import OscMessage

    OscMessage(b"/cam\x00\x00\x00\x00,Q\x00\x00")


@pytest.mark.parametrize(("argv", "level"), [
    ([], logging.WARNING), (["-v"], logging.INFO), (["-vv"], logging.DEBUG), (["-vvv"], logging.DEBUG),
    (["-q"], logging.ERROR), (["--verbose"], logging.INFO), (["--quiet"], logging.ERROR),
])
def test_flags_before_the_subcommand_set_the_level(argv: list[str], level: int) -> None:
    args = build_parser().parse_args([*argv, "validate", "stage.yaml"])
    assert args.command == "validate"
    assert level_for_verbosity(verbosity(args)) == level
    with cli_logging(verbosity(args), io.StringIO()) as state:
        assert logging.getLogger().level == level and state.handler.level == level


def test_quiet_and_verbose_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["-q", "-v", "validate", "stage.yaml"])
    assert "not allowed with" in capsys.readouterr().err


def test_records_are_one_line_level_name_message(stream: io.StringIO) -> None:
    with cli_logging(1, stream):
        logging.getLogger("vpstage.test").info("validated %s", "demo.yaml")
        logging.getLogger("vpstage.test").debug("not at -v")
    assert stream.getvalue() == "INFO vpstage.test: validated demo.yaml\n"


def test_python_osc_stays_off_stderr_unless_vv(stream: io.StringIO, osc_logging_untouched: None) -> None:
    with cli_logging(1, stream):  # -v: our INFO shows, the library's does not
        logging.getLogger("pythonosc.dispatcher").info("osc chatter")
        _osc_message_with_unknown_type()
        logging.getLogger("aiortc.rtcpeerconnection").info("ice chatter")
        logging.getLogger("cli.test").info("ours")
    assert stream.getvalue() == "INFO cli.test: ours\n"
    loud = io.StringIO()
    with cli_logging(2, loud):  # -vv: everything
        logging.getLogger("pythonosc.dispatcher").info("osc chatter")
        _osc_message_with_unknown_type()
    assert "INFO pythonosc.dispatcher: osc chatter" in loud.getvalue()
    assert "WARNING root: Unhandled parameter type: Q" in loud.getvalue()


def test_a_library_error_still_shows_by_default(stream: io.StringIO, osc_logging_untouched: None) -> None:
    with cli_logging(0, stream):
        logging.getLogger("aiortc").warning("dtls failed")
        logging.getLogger("pythonosc").warning("bytes of a sender")  # held at ERROR
    assert stream.getvalue() == "WARNING aiortc: dtls failed\n"


def test_quiet_shows_errors_only(stream: io.StringIO) -> None:
    with cli_logging(-1, stream):
        logging.getLogger("cli.test").warning("a warning")
        logging.getLogger("aiortc").warning("library warning")
        logging.getLogger("cli.test").error("an error")
    assert stream.getvalue() == "ERROR cli.test: an error\n"


def test_python_warnings_become_log_records(stream: io.StringIO, caplog: pytest.LogCaptureFixture) -> None:
    with cli_logging(0, stream), warnings.catch_warnings():
        warnings.simplefilter("always")
        with caplog.at_level(logging.WARNING, logger="py.warnings"):
            warnings.warn_explicit("numba says hello", DeprecationWarning, "numba/core.py", 12)
    record, = [r for r in caplog.records if r.name == "py.warnings"]
    assert "DeprecationWarning: numba says hello" in record.getMessage()
    assert stream.getvalue().startswith("WARNING py.warnings: numba/core.py:12: DeprecationWarning: numba says hello")


def test_close_puts_everything_back(stream: io.StringIO) -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers), logging.getLogger("aiortc").level, warnings.showwarning)
    with cli_logging(1, stream):
        assert logging.getLogger("aiortc").level == LIBRARY_LEVELS["aiortc"]
        assert warnings.showwarning is not before[3]
    assert (root.level, list(root.handlers), logging.getLogger("aiortc").level, warnings.showwarning) == before


def test_throttle_keeps_a_stricter_level_and_undoes() -> None:
    names = ("numba", "PIL", "pythonosc")
    before = {name: logging.getLogger(name).level for name in names}
    logging.getLogger("PIL").setLevel(logging.NOTSET)
    logging.getLogger("numba").setLevel(logging.CRITICAL)
    try:
        throttle = throttle_libraries()
        assert logging.getLogger("numba").level == logging.CRITICAL
        assert logging.getLogger("PIL").level == logging.WARNING
        logging.getLogger("pythonosc").setLevel(logging.CRITICAL + 1)  # what osc_log.install() does meanwhile
        throttle.undo()
        assert logging.getLogger("PIL").level == logging.NOTSET
        assert logging.getLogger("numba").level == logging.CRITICAL
        assert logging.getLogger("pythonosc").level == logging.CRITICAL + 1  # not undone under its owner
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)


def _main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_main_v_shows_info_and_default_does_not() -> None:
    stage = STAGES / "demo.yaml"
    verbose = _main("-v", "validate", str(stage))
    assert verbose.returncode == 0, verbose.stderr
    assert f"INFO cli.stage_commands: validated {stage.resolve()} (0 warnings)" in verbose.stderr.splitlines()
    plain = _main("validate", str(stage))
    assert plain.returncode == 0 and "INFO" not in plain.stderr
    assert plain.stdout == verbose.stdout
