"""Progress of long CLI jobs (``cli.progress``): log lines off a terminal, a tqdm bar on one."""

from __future__ import annotations

import argparse
import io
import logging

import pytest

from cli.progress import EventCounter, ProgressReporter, duration_text, progress_line, wait_reporting, wants_bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_it_logs_the_first_every_five_seconds_and_the_last(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    reporter = ProgressReporter("preview", "frame", bar=False, every_s=5.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="cli.progress"):
        for done in range(1, 241):
            now[0] = 100.0 + 10.0 + done * 2.0  # 10 s loading, then two seconds a frame
            reporter(done, 240)
    lines = [r.getMessage() for r in caplog.records if r.name == "cli.progress"]
    assert all(r.levelno == logging.INFO for r in caplog.records)
    assert lines[0] == "preview: frame 1/240 (0 %)"  # its 12 s include the loading: no rate yet
    assert lines[1] == "preview: frame 4/240 (1 %), 2.0 s a frame, about 7 min 52 s left"  # 6 s after the first
    assert lines[-1] == "preview: frame 240/240 (100 %), 2.0 s a frame"
    assert len(lines) == 1 + 239 // 3 + 1  # every third frame is 6 s on (>= 5 s), plus the first and the last


def test_stats_come_before_the_rate() -> None:
    line = progress_line("train", "step", 100, 2000, 0.05, {"loss": "0.01234", "PSNR": "18.20 dB"})
    assert line == "train: step 100/2000 (5 %), loss 0.01234, PSNR 18.20 dB, 0.05 s a step, about 1 min 35 s left"
    assert progress_line("takes export csv", "frame", 9000, 9000, 4e-5, {}) == (
        "takes export csv: frame 9000/9000 (100 %), 25,000 frames/s")
    assert duration_text(3725) == "1 h 02 min" and duration_text(59.6) == "1 min 00 s"


def test_a_job_of_one_unit_gets_its_rate(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    reporter = ProgressReporter("held-out PSNR", "frame", bar=False, clock=lambda: now[0])
    now[0] = 3.0
    with caplog.at_level(logging.INFO, logger="cli.progress"):
        reporter(1, 1)
    assert [r.getMessage() for r in caplog.records] == ["held-out PSNR: frame 1/1 (100 %), 3.0 s a frame"]


def test_on_a_terminal_a_bar_shows_count_and_stats(caplog: pytest.LogCaptureFixture) -> None:
    stream = _Terminal()
    with caplog.at_level(logging.INFO, logger="cli.progress"), \
            ProgressReporter("train", "step", bar=True, stream=stream) as reporter:
        for step in (10, 20, 30):
            reporter(step, 30, {"loss": f"{1 / step:.3f}"})
    text = stream.getvalue()
    assert "train: 100%" in text and "30/30" in text and "loss=0.033" in text
    assert not [r for r in caplog.records if r.name == "cli.progress"]  # a bar, not log lines


def test_write_goes_to_stdout_around_the_bar(capsys: pytest.CaptureFixture[str]) -> None:
    stream = _Terminal()
    with ProgressReporter("train", "step", bar=True, stream=stream) as reporter:
        reporter(1, 2)
        reporter.write("step      1/2  loss 0.5")
    assert capsys.readouterr().out == "step      1/2  loss 0.5\n"


@pytest.mark.parametrize(("tty", "quiet", "bar"), [(True, False, True), (False, False, False), (True, True, False)])
def test_a_bar_only_on_a_terminal_without_quiet(tty: bool, quiet: bool, bar: bool) -> None:
    stream = _Terminal() if tty else io.StringIO()
    assert wants_bar(argparse.Namespace(quiet=quiet), stream) is bar


def test_a_job_on_its_own_thread_is_polled_for_its_count() -> None:
    counter, seen = EventCounter(), []
    arrivals = iter([0, 2, 2, 5, 6])  # frames presented between two polls

    def wait(timeout: float) -> bool:
        assert timeout > 0
        for _ in range(next(arrivals)):
            counter(object())
        return counter.count >= 15

    wait_reporting(wait, counter, 12, lambda done, total: seen.append((done, total)))
    assert seen == [(2, 12), (4, 12), (9, 12), (12, 12)]  # only when it changed, never past the total


def test_without_a_total_nothing_is_reported() -> None:
    counter, seen = EventCounter(), []
    polls = iter([False, False, True])

    def wait(_timeout: float) -> bool:
        counter()
        return next(polls)

    wait_reporting(wait, counter, None, lambda done, total: seen.append(done))
    assert seen == [] and counter.count == 3
