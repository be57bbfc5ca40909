"""LTC audio for tests: the encoder's output through a studio line (band limit, AC coupling, hum,
level changes, noise, polarity), written to a WAV and read back as the decoder would get it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

from devices.timecode.wav import WavReader, write_wav
from vpstage.timing import LtcEncoder, Timecode

Audio = npt.NDArray[np.float32]


def ltc_audio(first: Timecode, frames: int, sample_rate: int = 48000, *, start: float = 150.4,
              speed: float = 1.0, amplitude: float = 0.5) -> tuple[Audio, LtcEncoder]:
    """``frames`` LTC frames from ``first`` (at its LTC rate), the first starting at sample
    ``start`` (a steady level before it); the encoder says where each frame starts."""
    encoder = LtcEncoder(sample_rate, first.rate, amplitude=amplitude, speed=speed, start=start)
    return encoder.encode_timecodes(first, frames), encoder


def studio_line(audio: Audio, sample_rate: int, *, seed: int = 0, snr_db: float = 20.0, polarity: int = 1,
                hum: float = 0.2, gain: tuple[float, float] = (0.05, 1.0), step_at: float | None = 0.6,
                highpass_hz: float = 40.0, lowpass_hz: float = 12_000.0) -> Audio:
    """What a real input makes of LTC: first-order high-pass (AC coupling: droop), low-pass (slow
    edges), 50 Hz hum (``hum`` x the amplitude), a level ramping from ``gain[0]`` to ``gain[1]``
    then halved at ``step_at`` of the way, white noise at ``snr_db`` against the full level, and
    the polarity."""
    n = len(audio)
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(audio.astype(np.float64))
    f = np.fft.rfftfreq(n, 1 / sample_rate)
    response = (1j * f / highpass_hz) / (1 + 1j * f / highpass_hz) / (1 + 1j * f / lowpass_hz)
    x = np.fft.irfft(spectrum * response, n)
    amplitude = float(np.max(np.abs(audio)))
    level = np.linspace(gain[0], gain[1], n)
    if step_at is not None:
        level[int(step_at * n):] *= 0.5
    t = np.arange(n) / sample_rate
    x = polarity * x * level + hum * amplitude * np.sin(2 * np.pi * 50 * t + 0.3)
    noise = amplitude * 10 ** (-snr_db / 20)
    return (x + rng.normal(0.0, noise, n)).astype(np.float32)


def through_wav(audio: Audio, sample_rate: int, path: Path, *, floating: bool = False) -> Audio:
    write_wav(path, audio, sample_rate, floating=floating)
    with WavReader(path) as wav:
        assert wav.info.sample_rate == sample_rate
        return wav.read()


def labels(first: Timecode, count: int) -> list[str]:
    base = first.to_count()
    out = []
    for i in range(count):
        tc = Timecode.from_count(base + i, first.rate, first.drop_frame)
        out.append(f"{tc.hours:02d}:{tc.minutes:02d}:{tc.seconds:02d}:{tc.frames:02d}")
    return out


R2397, R2997 = Fraction(24000, 1001), Fraction(30000, 1001)
