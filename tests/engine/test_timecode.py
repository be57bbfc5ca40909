"""SMPTE timecode: the reference vectors (protocols.md §6.4), drop-frame rules, NDI units."""

from fractions import Fraction

import pytest

from vpstage.timing import Timecode, TimecodeError, count_to_ndi_100ns, frames_per_day

R2997, R5994 = Fraction(30000, 1001), Fraction(60000, 1001)
R23976 = Fraction(24000, 1001)

VECTORS = [  # (rate, drop-frame, frame count, label) from the reference table §6.4
    (R2997, True, 1799, "00:00:59;29"),
    (R2997, True, 1800, "00:01:00;02"),
    (R2997, True, 17981, "00:09:59;29"),
    (R2997, True, 17982, "00:10:00;00"),
    (R2997, True, 107892, "01:00:00;00"),
    (R2997, True, 1079999, "10:00:35;29"),
    (R5994, True, 3599, "00:00:59;59"),
    (R5994, True, 3600, "00:01:00;04"),
    (R5994, True, 35964, "00:10:00;00"),
    (R5994, True, 215784, "01:00:00;00"),
    (Fraction(30), False, 107892, "00:59:56:12"),
    (Fraction(25), False, 90000, "01:00:00:00"),
    (Fraction(24), False, 86400, "01:00:00:00"),
    (R23976, False, 86400, "01:00:00:00"),
]


@pytest.mark.parametrize(("rate", "df", "count", "label"), VECTORS)
def test_reference_vectors(rate: Fraction, df: bool, count: int, label: str) -> None:
    tc = Timecode.from_count(count, rate, df)
    assert str(tc) == label
    assert Timecode.parse(label, rate).to_count() == count


def test_frames_per_day() -> None:
    assert frames_per_day(R2997, True) == 2_589_408
    assert frames_per_day(R5994, True) == 5_178_816
    assert frames_per_day(Fraction(25)) == 25 * 86400
    assert str(Timecode.from_count(frames_per_day(R2997, True), R2997, True)) == "00:00:00;00"  # wraps


@pytest.mark.parametrize("rate", [R2997, R5994])
def test_drop_frame_round_trip_against_a_label_counter(rate: Fraction) -> None:
    """Every count in the first 11 minutes against a naive counter that increments labels."""
    nom, d = round(rate), round(rate) // 15
    h = m = s = f = 0
    for count in range(11 * 60 * nom):
        tc = Timecode.from_count(count, rate, True)
        assert (tc.hours, tc.minutes, tc.seconds, tc.frames) == (h, m, s, f)
        assert tc.to_count() == count
        f += 1
        if f == nom:
            f, s = 0, s + 1
            if s == 60:
                s, m = 0, m + 1
                if m % 10:
                    f = d  # drop-frame: skip frame numbers 0..d-1


@pytest.mark.parametrize("label", ["00:01:00;00", "00:01:00;01", "01:59:00;01"])
def test_illegal_drop_frame_labels_are_refused(label: str) -> None:
    with pytest.raises(TimecodeError, match="does not exist"):
        Timecode.parse(label, "30000/1001")


def test_illegal_labels_at_59_94_and_legal_tenth_minutes() -> None:
    with pytest.raises(TimecodeError):
        Timecode.parse("00:01:00;03", R5994)
    assert Timecode.parse("00:10:00;00", R5994).to_count() == 35964
    assert Timecode.parse("00:01:00;04", R5994).to_count() == 3600


@pytest.mark.parametrize(("text", "rate"), [("24:00:00:00", 25), ("00:60:00:00", 25), ("00:00:00:25", 25),
                                            ("1:2:3", 25), ("00:00:00:24", "24000/1001")])
def test_out_of_range_or_malformed(text: str, rate: object) -> None:
    with pytest.raises(TimecodeError):
        Timecode.parse(text, rate)


def test_drop_frame_only_at_ntsc_rates() -> None:
    with pytest.raises(TimecodeError, match="drop-frame"):
        Timecode.from_count(0, Fraction(25), True)
    with pytest.raises(TimecodeError, match="drop-frame"):
        Timecode.parse("00:00:00;00", R23976)


def test_ndi_100ns_units() -> None:
    assert count_to_ndi_100ns(107892, R2997) == 35_999_964_000  # §6.6
    assert Timecode.parse("01:00:00:00", 25).ndi_100ns() == 36_000_000_000  # §5.4
    assert Timecode.parse("01:00:00;00", R2997).ndi_100ns() == 35_999_964_000


def test_opentrackio_round_trip_and_bad_input() -> None:
    tc = Timecode.parse("01:02:03:04", R23976)
    fields = tc.to_opentrackio()
    assert fields["frameRate"] == {"num": 24000, "denom": 1001}
    assert Timecode.from_opentrackio(fields) == tc
    with pytest.raises(TimecodeError, match="malformed"):
        Timecode.from_opentrackio({"hours": 1})
    with pytest.raises(TimecodeError, match="out of range"):
        Timecode.from_opentrackio({**fields, "frames": 30})


def test_shifted_and_120fps_labels() -> None:
    assert str(Timecode.parse("00:09:59;29", R2997).shifted(1)) == "00:10:00;00"
    tc = Timecode.from_count(119, Fraction(120))
    assert str(tc) == "00:00:00:119"
