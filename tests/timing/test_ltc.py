"""SMPTE LTC: the 80-bit word against the standard's layout, and decoding audio the encoder made,
through a studio line (band limit, AC coupling, hum, level ramp and step, noise, either polarity)
and a 16-bit WAV file, at every LTC rate."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tests.timing.ltc_audio import R2397, R2997, labels, ltc_audio, studio_line, through_wav
from vpstage.timing import LtcDecoder, LtcEncoder, LtcFrame, Timecode, ltc_rate
from vpstage.timing.ltc import SYNC_WORD, frame_bits, parse_bits, sliding_extremes


def check_frames(frames: list[LtcFrame], encoder: LtcEncoder, first: Timecode, count: int) -> np.ndarray:
    """Every frame has the label the encoder put where it was found, lasts one frame; returns each
    frame's start minus where the encoder started it (samples)."""
    expected = labels(first, count)
    offsets = []
    for frame in frames:
        k = round((frame.start - encoder.frame_start(0)) / encoder.frame_samples)
        assert frame.label == expected[k]
        assert frame.end - frame.start == pytest.approx(encoder.frame_samples, abs=1.0)
        offsets.append(frame.start - encoder.frame_start(k))
    return np.array(offsets)


def sending_order(word: int) -> str:
    return "".join(str((word >> i) & 1) for i in range(80))


def test_the_word_follows_the_standard_layout() -> None:
    frame = LtcFrame(hours=12, minutes=34, seconds=56, frames=23, drop_frame=True, color_frame=False,
                     user_bits=0x87654321, flags=0b010)
    bits = sending_order(frame_bits(frame, 30))
    assert bits[64:] == "0011111111111101"                      # sync word, as sent
    assert bits[0:4] == "1100" and bits[8:10] == "01"          # frames 23: units 3, tens 2 (LSB first)
    assert bits[10] == "1" and bits[11] == "0"                  # drop-frame, colour-frame flags
    assert bits[16:20] == "0110" and bits[24:27] == "101"       # seconds 56
    assert bits[32:36] == "0010" and bits[40:43] == "110"       # minutes 34
    assert bits[48:52] == "0100" and bits[56:58] == "10"        # hours 12
    assert bits[4:8] == "1000" and bits[60:64] == "0001"        # user groups 1 (0x1) and 8 (0x8)
    assert bits[58] == "1"                                      # BGF1
    assert bits.count("1") % 2 == 0                             # polarity correction: even ones
    at25 = sending_order(frame_bits(LtcFrame(hours=0, minutes=0, seconds=0,
                                             frames=3), 25))  # 2 ones + 13 in the sync word: odd
    at30 = sending_order(frame_bits(LtcFrame(hours=0, minutes=0, seconds=0, frames=3), 30))
    assert at25.count("1") % 2 == 0 and at30.count("1") % 2 == 0
    assert at25[59] == "1" and at25[27] == "0" and at30[27] == "1" and at30[59] == "0"  # 25 fps: bit 59
    assert (frame_bits(frame, 30) >> 64) == SYNC_WORD


def test_parse_refuses_what_cannot_be_a_frame() -> None:
    good = LtcFrame(hours=23, minutes=59, seconds=59, frames=29)
    assert parse_bits(frame_bits(good, 30), 30) == good
    assert parse_bits(frame_bits(LtcFrame(hours=0, minutes=0, seconds=0,
                                          frames=24), 25), 24) is None            # frame 24 at 24 fps
    assert parse_bits(frame_bits(LtcFrame(hours=0, minutes=0, seconds=0, frames=5,
                                          drop_frame=True), 25), 25) is None  # no DF at 25
    assert parse_bits(frame_bits(LtcFrame(hours=0, minutes=1, seconds=0, frames=0,
                                          drop_frame=True), 30), 30) is None  # skipped label
    assert parse_bits(frame_bits(LtcFrame(hours=24, minutes=0, seconds=0, frames=0), 30), 30) is None
    word = frame_bits(good, 30) | 0xF  # frame units 15
    assert parse_bits(word, 30) is None


def test_sliding_extremes_match_a_plain_window() -> None:
    x = np.random.default_rng(3).normal(size=1000)
    high, low = sliding_extremes(x, 37)
    plain = np.lib.stride_tricks.sliding_window_view(x, 37)
    np.testing.assert_array_equal(high, plain.max(axis=1))
    np.testing.assert_array_equal(low, plain.min(axis=1))


RATES = [(R2397, False), (Fraction(24), False), (Fraction(25), False), (R2997, True), (R2997, False),
         (Fraction(30), False)]


@pytest.mark.parametrize(("fps", "drop"), RATES, ids=["23.976", "24", "25", "29.97df", "29.97ndf", "30"])
@pytest.mark.parametrize("polarity", [1, -1], ids=["normal", "inverted"])
def test_every_rate_decodes_through_a_studio_line_and_a_wav(fps: Fraction, drop: bool, polarity: int,
                                                           tmp_path: Path) -> None:
    rate = 48000
    first = Timecode.parse("00:09:57;00" if drop else "23:59:57:00", fps, drop)  # crosses a drop / midnight
    count = 100
    clean, encoder = ltc_audio(first, count, rate)
    line = studio_line(clean, rate, polarity=polarity, gain=(0.25, 1.0), seed=int(fps * 7) + polarity)
    audio = through_wav(line, rate, tmp_path / "ltc.wav")
    decoder = LtcDecoder(rate)
    frames: list[LtcFrame] = []
    for i in range(0, len(audio), 1037):  # blocks that cut frames anywhere
        frames += decoder.feed(audio[i:i + 1037])
    assert len(frames) >= 0.9 * (count - 1) and decoder.bad_frames == 0
    assert decoder.nominal_fps == round(fps)
    offsets = check_frames(frames, encoder, first, count)
    assert all(f.drop_frame == drop for f in frames)
    # a constant lag (line filter, slicing threshold) of about a sample, steady to a fraction of one
    assert 0 < np.median(offsets) < 2 and np.max(np.abs(offsets - np.median(offsets))) < 0.6


@pytest.mark.parametrize("sample_rate", [44100, 96000])
def test_other_sample_rates_and_a_drifting_generator(sample_rate: int) -> None:
    first = Timecode.parse("01:00:00:00", 25)
    clean, encoder = ltc_audio(first, 60, sample_rate, speed=1.0 + 200e-6)
    frames = LtcDecoder(sample_rate, Fraction(25)).feed(studio_line(clean, sample_rate, snr_db=30, step_at=None))
    assert len(frames) >= 55
    check_frames(frames, encoder, first, 60)
    starts = np.array([f.start for f in frames])
    index = np.array([f.timecode(Fraction(25)).to_count() - first.to_count() for f in frames])
    slope = np.polyfit(index, starts, 1)[0]
    assert slope == pytest.approx(sample_rate / 25 / (1 + 200e-6), rel=5e-6)


def test_varispeed_is_followed() -> None:
    """A tape machine 5 % fast, then 5 % slow: the bit period estimate follows."""
    first = Timecode.parse("00:00:10:00", 30)
    fast, _ = ltc_audio(first, 40, speed=1.05)
    slow, _ = ltc_audio(first.shifted(40), 40, speed=0.95, start=0.0)
    decoder = LtcDecoder(48000)
    got = [f.label for f in decoder.feed(np.concatenate([fast, slow]))]
    expected = labels(first, 80)
    assert len(got) >= 75 and got == expected[expected.index(got[0]):][:len(got)]


def test_noise_alone_and_silence_give_no_frames() -> None:
    rng = np.random.default_rng(5)
    decoder = LtcDecoder(48000)
    assert decoder.feed(rng.normal(0, 0.3, 48000 * 5)) == [] and decoder.frames == 0
    assert decoder.feed(np.zeros(48000)) == []


def test_heavy_noise_loses_frames_but_never_invents_one() -> None:
    first = Timecode.parse("02:00:00:00", 24)
    clean, encoder = ltc_audio(first, 100)
    audio = studio_line(clean, 48000, snr_db=6, gain=(1.0, 1.0), step_at=None, seed=9)
    frames = LtcDecoder(48000).feed(audio)
    assert frames  # some get through
    check_frames(frames, encoder, first, 100)


def test_a_rate_given_refuses_ltc_at_another() -> None:
    clean, _ = ltc_audio(Timecode.parse("00:00:00:00", 30), 50)
    decoder = LtcDecoder(48000, Fraction(25))
    assert decoder.feed(clean) == []  # 30 fps frames are 17 % short for 25 fps: none is taken
    assert decoder.wrong_rate > 40


def test_frame_pairs_above_30() -> None:
    assert ltc_rate(Fraction(50)) == (Fraction(25), 2)
    assert ltc_rate(Fraction(60000, 1001)) == (R2997, 2)
    assert ltc_rate(Fraction(48)) == (Fraction(24), 2) and ltc_rate(Fraction(24)) == (Fraction(24), 1)
    with pytest.raises(ValueError, match="no LTC"):
        ltc_rate(Fraction(120))
    frame = LtcFrame(hours=1, minutes=0, seconds=0, frames=12, drop_frame=True)
    assert frame.video_count(Fraction(60000, 1001)) == 2 * Timecode.parse("01:00:00;12", R2997).to_count()
    assert str(Timecode.from_count(frame.video_count(Fraction(60000, 1001)), Fraction(60000, 1001), True)) \
        == "01:00:00;24"
