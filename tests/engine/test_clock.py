"""The frame clock: exact schedule, deadlines, jam-sync, skipping when behind."""

from datetime import datetime
from fractions import Fraction

import pytest

from vpstage.timing import FrameClock, ManualTimeSource, Timecode, TimecodeError

R2997 = Fraction(30000, 1001)


def test_schedule_is_exact_and_does_not_drift() -> None:
    clock = FrameClock(R2997, time_source=ManualTimeSource(), start_ns=1000)
    # 30000 frames at 30000/1001 last exactly 1001 s
    assert clock.time_of(30000) - clock.time_of(0) == 1001 * 10**9
    assert clock.index_at(clock.time_of(12345)) == 12345
    assert clock.index_at(clock.time_of(12345) - 1) == 12344
    tick = clock.tick(3)
    assert tick.deadline_ns - tick.time_ns == 33_366_666  # one period, rounded down


@pytest.mark.parametrize("rate", ["24000/1001", "24", "25", "30000/1001", "30", "48", "50", "60000/1001", "60", "120"])
def test_every_standard_rate_runs(rate: str) -> None:
    from vpstage.stage.types import parse_rate

    r = parse_rate(rate)
    clock = FrameClock(r, time_source=ManualTimeSource())
    one_second = clock.tick(round(r))  # labels count nominal frames, also at 24000/1001
    assert (one_second.timecode.seconds, one_second.timecode.frames) == (1, 0)
    assert clock.time_of(r.numerator) - clock.time_of(0) == r.denominator * 10**9


def test_unsupported_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported frame rate"):
        FrameClock(Fraction(23976, 1000), time_source=ManualTimeSource())


def test_set_timecode_labels_the_frame_at_that_instant() -> None:
    src = ManualTimeSource(5_000_000_000)
    clock = FrameClock(R2997, time_source=src)
    src.advance(clock.time_of(10) - clock.start_ns + 5)  # inside frame 10
    clock.set_timecode(Timecode.parse("01:00:00;00", R2997))
    assert str(clock.tick(10).timecode) == "01:00:00;00"
    assert str(clock.tick(11).timecode) == "01:00:00;01"
    assert str(clock.tick(10 + 1800).timecode) == "01:01:00;02"  # drop-frame continues


def test_timecode_from_another_rate_is_refused() -> None:
    clock = FrameClock(Fraction(25), time_source=ManualTimeSource())
    with pytest.raises(ValueError, match="cannot label"):
        clock.set_timecode(Timecode.parse("01:00:00:00", 24))


def test_time_of_day_sync() -> None:
    clock = FrameClock(Fraction(25), time_source=ManualTimeSource())
    label = clock.sync_time_of_day(datetime(2026, 1, 2, 13, 45, 10, 500_000), at_ns=clock.time_of(0))
    assert str(label) == "13:45:10:12"
    assert str(clock.tick(1).timecode) == "13:45:10:13"
    df = FrameClock(R2997, time_source=ManualTimeSource())
    assert str(df.sync_time_of_day(datetime(2026, 1, 2, 13, 41, 0, 0))) == "13:41:00;02"


def test_next_index_skips_frames_when_behind() -> None:
    src = ManualTimeSource()
    clock = FrameClock(Fraction(30), time_source=src, start_ns=0)
    assert clock.next_index(0) == 1
    src.advance(clock.time_of(5) + 1)
    assert clock.next_index(1) == 5
    clock.wait_for(clock.tick(7))
    assert src.now_ns() == clock.time_of(7)


def test_rebase_resumes_the_frame_count_and_keeps_timecode_continuous() -> None:
    src = ManualTimeSource()
    clock = FrameClock(Fraction(25), time_source=src, start_ns=0)
    clock.set_timecode(Timecode.parse("01:00:00:00", 25), at_ns=0)
    src.advance(10 * 40_000_000 + 1_000_000)  # 1 ms into frame 10, labelled 01:00:00:10
    clock.rebase(src.now_ns(), first_index=4)
    assert clock.tick(4).time_ns == src.now_ns()
    assert str(clock.tick(4).timecode) == "01:00:00:10" and str(clock.tick(5).timecode) == "01:00:00:11"


def test_genlock_puts_frame_instants_in_phase_with_the_reference() -> None:
    time = ManualTimeSource(10**12)
    clock = FrameClock(Fraction(60), time_source=time)
    period = 10**9 // 60
    reference = 10**12 - 7 * period + 1_234_567  # a sync pulse in the past
    clock.genlock(reference)
    clock.rebase(10**12 + 5)
    first = clock.time_of(0)
    assert first >= 10**12 + 5 and first - (10**12 + 5) < period
    periods = (first - reference) * 60 / 10**9
    assert abs(periods - round(periods)) < 1e-6  # a whole number of periods after the reference (to the ns)
    clock.genlock(None)
    clock.rebase(10**12 + 5)
    assert clock.time_of(0) == 10**12 + 5


def test_steering_keeps_past_frames_and_index_at_consistent() -> None:
    src = ManualTimeSource()
    clock = FrameClock(Fraction(25), time_source=src, start_ns=0)
    before = [clock.time_of(i) for i in range(20)]
    clock.steer(10, 1.0001, step_ns=5_000)  # from frame 10: 100 ppm longer periods, 5 us later
    assert [clock.time_of(i) for i in range(10)] == before[:10]
    assert clock.time_of(10) == before[10] + 5_000
    assert clock.time_of(20) - clock.time_of(10) == round(10 * 40_000_000 * 1.0001)
    clock.steer(15, 0.9999)
    assert clock.time_of(16) - clock.time_of(15) == round(40_000_000 * 0.9999)
    for i in range(-3, 40):
        t = clock.time_of(i)
        assert clock.index_at(t) == i and clock.index_at(t - 1) == i - 1
    assert clock.scale == 0.9999
    with pytest.raises(ValueError):
        clock.steer(20, 3.0)


def test_relabel_and_drop_frame_convention() -> None:
    clock = FrameClock(R2997, time_source=ManualTimeSource(), start_ns=0)
    clock.relabel(5, Timecode.parse("00:01:00;02", R2997).to_count())
    assert str(clock.tick(5).timecode) == "00:01:00;02"
    clock.set_drop_frame(False)  # the same frame count, labelled without drops
    assert str(clock.tick(5).timecode) == "00:01:00:00"
    with pytest.raises(TimecodeError):
        FrameClock(Fraction(25), time_source=ManualTimeSource()).set_drop_frame(True)


def test_a_discipline_steers_only_on_the_loops_forward_ticks() -> None:
    class Counting:
        acquired = False

        def __init__(self) -> None:
            self.applied: list[int] = []

        def apply(self, clock: FrameClock, index: int) -> None:
            self.applied.append(index)
            clock.steer(index, 1.0 + 1e-4)

    src = ManualTimeSource()
    clock = FrameClock(Fraction(30), time_source=src, start_ns=0)
    discipline = Counting()
    clock.attach(discipline)
    clock.tick(0)
    clock.tick(1)
    clock.tick(0)  # looking back at a frame does not steer again
    clock.tick(3)
    assert discipline.applied == [0, 1, 3]
    clock.rebase(10**9, first_index=7)
    clock.tick(7)
    assert discipline.applied[-1] == 7 and clock.scale == 1.0 + 1e-4
    clock.attach(None)
    clock.tick(8)
    assert discipline.applied[-1] == 7
