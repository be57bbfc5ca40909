"""The frame clock disciplined to a simulated timecode master on a fake clock (no real-time waits):
acquisition, convergence under +/-100 ppm, holdover through a dropout with its alarm, label jumps,
drop-frame convention, a master at another rate, no master at all.

Bounds (``loop_bandwidth_hz`` 0.1, master jitter 20 us RMS, observations 1.5 frames late):
labels follow the master from acquisition (three agreeing frames); LOCKED within 1.5 s of the
first observation; |phase error| under 100 us from 0.5 s on, under 30 us after 10 s; the learned
master rate within 3 ppm of the truth after 40 s; through a 10 s dropout the held rate keeps the
phase within 30 us."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from tests.timing.master_sim import MasterSim, Row, window
from vpstage.timing import DisciplineSettings, FrameClock, ManualTimeSource, Timecode
from vpstage.timing.discipline import ClockDiscipline, clock_lock_status, internal_status

R2397, R2997, R5994 = Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)


def worst_us(rows: list[Row]) -> float:
    return max(abs(r.error_ns) for r in rows) / 1e3


@pytest.mark.parametrize(("rate", "drop", "per_label"), [
    (R2397, False, 1), (Fraction(25), False, 1), (R2997, True, 1), (Fraction(30), False, 1),
    (Fraction(50), False, 2), (R5994, True, 2)])
@pytest.mark.parametrize("ppm", [100.0, -100.0])
def test_converges_to_a_master_drifting_100_ppm(rate: Fraction, drop: bool, per_label: int, ppm: float) -> None:
    sim = MasterSim(rate=rate, ppm=ppm, drop_frame=drop, per_label=per_label,
                    start_label="10:00:00;00" if drop else "10:00:00:00")
    rows, discipline, clock, alarms = sim.run(40.0)
    locked_at = next(r.t_s for r in rows if r.state == "locked")
    assert locked_at < 1.5 + 4 / float(rate)  # first observation ~1.5 frames in
    assert worst_us(window(rows, 0.5, 40)) < 100
    assert worst_us(window(rows, 10, 40)) < 30
    assert {r.state for r in window(rows, locked_at, 40)} == {"locked"}
    assert rows[-1].rate_ppm == pytest.approx(ppm, abs=3)
    status = discipline.status()
    assert status.jumps == 0 and status.outliers == 0 and alarms == []
    assert clock.drop_frame == drop
    assert rows[-1].label[:8] in ("10:00:39", "10:00:40")  # the master's labels, 40 s on


def test_a_clock_jammed_once_then_free_drifts_away() -> None:
    """The control for the bounds above: jam-synced to the same master, then left free, the clock
    is 4 ms (100 ppm x 40 s) off after 40 s."""
    rows, _, _, _ = MasterSim(rate=Fraction(25), ppm=100.0, jam_only=True).run(40.0)
    assert worst_us(window(rows, 0.5, 2)) < 300
    assert 3_500 < worst_us(window(rows, 39, 40)) < 4_500


def test_dropout_holds_the_rate_and_raises_then_clears_the_alarm() -> None:
    rows, discipline, _, alarms = MasterSim(rate=Fraction(24), ppm=100.0, dropouts=((20.0, 30.0),)).run(45.0)
    assert {r.state for r in window(rows, 15, 20)} == {"locked"}
    assert {r.state for r in window(rows, 20.7, 30)} == {"holdover"}
    # held at the learned rate: without it the phase would be 1 ms off after 10 s at 100 ppm
    assert worst_us(window(rows, 20, 31)) < 30
    assert all(r.alarm and r.alarm.startswith("TIMECODE LOST") for r in window(rows, 20.7, 30))
    assert {r.state for r in window(rows, 32, 45)} == {"locked"}
    assert window(rows, 32, 45)[0].alarm is None
    assert len(alarms) == 2 and alarms[1] == ""
    held = re.search(r"holding ([-+][0-9.]+) ppm", alarms[0])
    assert alarms[0].startswith("TIMECODE LOST") and held is not None and abs(float(held.group(1)) - 100) < 5
    status = discipline.status()
    assert status.holdovers == 1 and status.jumps == 0


def test_a_label_jump_is_followed_after_three_frames() -> None:
    rows, discipline, _, _ = MasterSim(rate=Fraction(25), ppm=-50.0, jump=(10.0, 100)).run(15.0)
    assert worst_us(window(rows, 5, 10)) < 30
    assert worst_us(window(rows, 10.3, 15)) < 100  # relabelled: our labels are the master's again
    assert rows[-1].label.startswith("10:00:19")  # 15 s + 100 frames (4 s) after 10:00:00:00
    status = discipline.status()
    assert status.jumps == 1 and status.outliers == 3


def test_labels_follow_a_non_drop_frame_master_at_29_97() -> None:
    rows, _, clock, _ = MasterSim(rate=R2997, ppm=30.0, drop_frame=False).run(5.0)
    assert clock.drop_frame is False  # the clock took the master's convention
    assert ";" not in rows[-1].label and rows[-1].label[:8] in ("10:00:04", "10:00:05")
    assert worst_us(window(rows, 1, 5)) < 100


def test_a_master_at_another_rate_raises_an_alarm() -> None:
    """LTC at 23.976 on a 24 fps stage: 1000 ppm slow, beyond what a clock can be off."""
    _, _, _, alarms = MasterSim(rate=Fraction(24), ppm=1001.0).run(20.0)
    assert alarms and alarms[0].startswith("TIMECODE RATE")


def test_no_master_at_all_raises_no_timecode() -> None:
    rows, discipline, clock, alarms = MasterSim(rate=Fraction(24), ppm=0.0, dropouts=((0.0, 100.0),)).run(3.0)
    assert alarms == ["NO TIMECODE: nothing from the simulated master"]
    assert rows[-1].state == "free" and not discipline.acquired
    assert clock.scale == 1.0


def test_a_fault_is_an_alarm_until_cleared() -> None:
    discipline = ClockDiscipline(Fraction(25), "ltc", "LTC on 'x'")
    said: list[str] = []
    discipline.events.alarm.connect(said.append)
    discipline.set_fault("no sound device")
    assert discipline.status().alarm == "TIMECODE INPUT FAILED: no sound device"
    discipline.set_fault(None)
    assert discipline.status().alarm is None and said == ["TIMECODE INPUT FAILED: no sound device", ""]


def test_status_text_and_report() -> None:
    assert internal_status().display == "TC INT" and internal_status().severity == "ok"
    assert clock_lock_status(FrameClock(Fraction(25), time_source=ManualTimeSource())).master == "internal"
    _, discipline, clock, _ = MasterSim(rate=Fraction(25), ppm=10.0).run(3.0)
    status = discipline.status()
    assert clock_lock_status(clock) == discipline.status(clock.now_ns())
    assert status.display.startswith("TC LOCK LTC ") and status.display.endswith(" us")
    assert status.severity == "ok"
    _, lost, _, _ = MasterSim(rate=Fraction(25), ppm=10.0, dropouts=((2.0, 9.0),)).run(3.0)
    assert lost.status().display.startswith("TC HOLD") and lost.status().severity == "warning"
    _, never, _, _ = MasterSim(rate=Fraction(25), ppm=0.0, dropouts=((0.0, 9.0),)).run(1.0)
    assert never.status().severity == "error"
    report = status.to_dict()
    assert report["state"] == "locked" and report["locked"] is True and report["master_timecode"].startswith("10:00:0")
    assert set(report["locked_phase_us"]) == {"p50", "p99", "max"}


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        DisciplineSettings(loop_bandwidth_hz=0)
    with pytest.raises(ValueError):
        DisciplineSettings(lock_tolerance_us=-1)


def test_offset_moves_the_frame_instants_earlier() -> None:
    rows, _, _, _ = MasterSim(rate=Fraction(25), ppm=0.0, jitter_us=0.0,
                              settings=DisciplineSettings(offset_ms=2.0)).run(5.0)
    assert all(abs(r.error_ns + 2e6) < 5e3 for r in window(rows, 2, 5))  # 2 ms ahead of the master's arrival


def test_rebase_keeps_a_locked_clock_on_the_master_grid() -> None:
    time = ManualTimeSource(10**12)
    clock = FrameClock(Fraction(25), time_source=time)
    discipline = ClockDiscipline(Fraction(25), "ltc", "m")
    clock.attach(discipline)
    origin = 10**12 + 7_000_000
    for k in range(3):
        discipline.observe(90_000 + k, origin + k * 40_000_000)
    time.sleep_until(origin + 3 * 40_000_000)
    clock.tick(1)
    assert discipline.acquired
    clock.rebase(origin + 100 * 40_000_000 + 1_000, first_index=7)  # a new run, later, between frames
    tick = clock.tick(7)
    assert (tick.time_ns - origin) % 40_000_000 in (0, 1) and tick.time_ns > origin + 100 * 40_000_000
    assert tick.count == 90_000 + 101 and str(tick.timecode) == str(Timecode.from_count(90_101, Fraction(25)))


@pytest.mark.parametrize(("rate", "start", "drop"), [(Fraction(25), "23:59:58:00", False),
                                                     (R2997, "23:59:58;00", True)])
def test_midnight_is_not_a_jump(rate: Fraction, start: str, drop: bool) -> None:
    rows, discipline, _, _ = MasterSim(rate=rate, ppm=50.0, start_label=start, drop_frame=drop).run(5.0)
    status = discipline.status()
    assert status.jumps == 0 and status.outliers == 0
    assert rows[-1].label[:7] == "00:00:0" and worst_us(window(rows, 1, 5)) < 100
