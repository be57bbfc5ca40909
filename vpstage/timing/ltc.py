"""SMPTE linear timecode (LTC, ST 12-1): an 80-bit frame per video frame, biphase-mark coded audio.

**Frame.** Bits are sent bit 0 first; BCD fields are least significant bit first:

====== ==================================  ====== ==================================
bits   field                               bits   field
====== ==================================  ====== ==================================
0-3    frame units                         40-42  minutes tens
4-7    user bits 1                         43     BGF0 (24/30 fps), BGF2 (25 fps)
8-9    frame tens                          44-47  user bits 6
10     drop-frame flag                     48-51  hours units
11     colour-frame flag                   52-55  user bits 7
12-15  user bits 2                         56-57  hours tens
16-19  seconds units                       58     BGF1
20-23  user bits 3                         59     BGF2 (24/30 fps), polarity correction (25 fps)
24-26  seconds tens                        60-63  user bits 8
27     polarity correction (24/30 fps),    64-79  sync word ``0011 1111 1111 1101``
       BGF0 (25 fps)
28-31  user bits 4
32-35  minutes units
36-39  user bits 5
====== ==================================  ====== ==================================

The polarity correction bit makes the number of ones in the frame even, so every frame starts
with a transition of the same direction.

**Biphase mark.** Every bit cell starts with a transition; a one has a second transition in the
middle of the cell. Only transitions carry information, so the signal's polarity does not matter.

**Rates.** LTC runs at 24000/1001, 24, 25, 30000/1001 (drop-frame or not) and 30 frames per
second: ``80 x fps`` bits a second (1918 to 2400). A frame field holds at most 39, so there is no
LTC at 48, 50, 59.94 or 60 frames: at those rates the house generator sends LTC at half the rate
(24, 25, 29.97, 30) and each LTC frame labels a *pair* of video frames, the first of which starts
with the LTC frame (``ltc_rate``). That is what this module assumes; 120 has no LTC here.

**Decoder** (:class:`LtcDecoder`): streaming, fed blocks of samples of any size, numpy for the
per-sample work:

1. *Envelope*: the running maximum and minimum over the last three longest bit cells (so every
   window holds both levels); the slicing level is their mean, the hysteresis +/-25 % of their
   half difference. This follows level changes within a few bits, and ignores DC offsets, hum and
   the droop of AC-coupled inputs. Below ``min_level`` (default -60 dBFS) nothing is sliced.
2. *Slicer*: a Schmitt trigger (vectorised: states forward-filled); each transition's position is
   interpolated between the two samples around the threshold crossing (sub-sample timing).
3. *Bits*, per transition in Python (a few thousand a second): an interval shorter than 3/4 of
   the bit-period estimate is half a cell (two make a one), a longer one a whole cell (a zero).
   The bit period starts in the middle of the LTC range (so every rate decodes without being
   told) and follows each decoded cell (1/8 per bit: varispeed, drifting clocks). Intervals
   outside 1/4 to 3/2 of a cell, or a lone half cell, break the bit sequence (``sync_errors``).
4. *Frames*: after 80 unbroken bits ending with the sync word the frame is read; BCD digits out
   of range, a frame number at or beyond the rate, a drop-frame flag where there is none, or a
   label that drop-frame counting skips is counted in ``bad_frames`` and not reported.

Each :class:`LtcFrame` carries ``start`` (the sample position of the transition that starts bit
0: the frame's instant) and ``end`` (the transition after bit 79: the start of the next frame),
as fractional sample indices counted from the first sample fed. Both come from a straight line
fitted through the frame's 81 cell boundaries (one outlier pass), so they are steadier than any
single transition; they lie about 0.15 of the rise time after the mid-level crossing (the
hysteresis threshold; 4 us at the standard 25 us rise), the same for every frame. Reverse play (the sync word
backwards) is not decoded.

**Encoder** (:class:`LtcEncoder`): renders frames as audio with transitions at exact fractional
sample positions, each a linear ramp of ``rise_time_s`` (ST 12-1: 25 +/- 5 us), optionally running
``speed`` times the nominal rate (a drifting generator), for tests and the LTC simulator.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from vpstage.timing.timecode import Timecode, nominal_fps

BITS_PER_FRAME = 80
SYNC_WORD = 0xBFFC
"""Bits 64-79 as an integer (bit 64 least significant): 0011 1111 1111 1101 in sending order."""

LTC_RATES = (Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30))
"""Frame rates LTC itself runs at."""

_LOWEST_BIT_RATE = 80 * 24000 / 1001
_HIGHEST_BIT_RATE = 80 * 30.0
_MIDDLE_BIT_RATE = 80 * 27.0
HYSTERESIS = 0.25
"""Schmitt trigger thresholds: mid level +/- this fraction of the half peak-to-peak."""
RATE_TOLERANCE = 0.03
"""With a rate given, frames more than 3 % longer or shorter than its period are refused (LTC at
another rate, 24 against 25 say; 23.976 against 24 is the clock discipline's to notice)."""
MIN_LEVEL = 1e-3
"""Half peak-to-peak below which the slicer holds its state (-60 dBFS for full scale 1.0)."""

FloatArray = npt.NDArray[np.float64]


def ltc_rate(rate: Fraction) -> tuple[Fraction, int]:
    """(LTC frame rate, video frames per LTC frame) for a stage rate: LTC runs at the stage rate up
    to 30 frames a second, and at half of 48, 50, 60000/1001 and 60 (one LTC frame per pair)."""
    rate = Fraction(rate)
    if rate in LTC_RATES:
        return rate, 1
    if rate / 2 in LTC_RATES:
        return rate / 2, 2
    raise ValueError(f"no LTC at {rate} frames per second (LTC runs at 23.976 to 30, "
                     "and labels frame pairs at 48 to 60)")


@dataclass(frozen=True, kw_only=True)
class LtcFrame:
    """One decoded (or to-be-encoded) LTC frame."""

    hours: int
    minutes: int
    seconds: int
    frames: int
    drop_frame: bool = False
    color_frame: bool = False
    user_bits: int = 0
    """The eight 4-bit user groups as one 32-bit number, group 1 in the lowest nibble."""
    flags: int = 0
    """Binary group flags as the bits (BGF0, BGF1, BGF2) of a 3-bit number."""
    start: float = 0.0
    """Sample position of the transition that starts bit 0 (the frame's instant)."""
    end: float = 0.0
    """Sample position of the transition that ends bit 79 (the next frame's start)."""

    @property
    def label(self) -> str:
        """``HH:MM:SS:FF`` (colons whatever the drop-frame flag says)."""
        return f"{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}:{self.frames:02d}"

    def timecode(self, rate: Fraction) -> Timecode:
        """The label at the LTC rate ``rate`` (raises TimecodeError when it does not exist there)."""
        return Timecode(hours=self.hours, minutes=self.minutes, seconds=self.seconds, frames=self.frames,
                        rate=Fraction(rate), drop_frame=self.drop_frame)

    def video_count(self, rate: Fraction) -> int:
        """Frame count at the stage ``rate`` of the video frame that starts with this LTC frame
        (the first of the pair at 48 to 60 frames a second)."""
        ltc, per_frame = ltc_rate(rate)
        return self.timecode(ltc).to_count() * per_frame


# ----------------------------------------------------------------------------- 80-bit words


def _put(word: int, value: int, first: int, width: int) -> int:
    return word | ((value & ((1 << width) - 1)) << first)


def _get(word: int, first: int, width: int) -> int:
    return (word >> first) & ((1 << width) - 1)


def _polarity_bit(nominal: int) -> int:
    return 59 if nominal == 25 else 27


def frame_bits(frame: LtcFrame, nominal: int) -> int:
    """The 80-bit word of ``frame`` (bit 0 least significant) at ``nominal`` frames per second
    (24, 25 or 30), polarity correction bit set."""
    tens_units = [(frame.frames, 0, 8, 2), (frame.seconds, 16, 24, 3), (frame.minutes, 32, 40, 3),
                  (frame.hours, 48, 56, 2)]
    word = 0
    for value, units_at, tens_at, tens_width in tens_units:
        word = _put(word, value % 10, units_at, 4)
        word = _put(word, value // 10, tens_at, tens_width)
    for group, at in enumerate((4, 12, 20, 28, 36, 44, 52, 60)):
        word = _put(word, frame.user_bits >> (4 * group), at, 4)
    word = _put(word, int(frame.drop_frame), 10, 1)
    word = _put(word, int(frame.color_frame), 11, 1)
    bgf = (27, 58, 43) if nominal == 25 else (43, 58, 59)  # positions of BGF0, BGF1, BGF2
    for i, at in enumerate(bgf):
        word = _put(word, frame.flags >> i, at, 1)
    word = _put(word, SYNC_WORD, 64, 16)
    if bin(word).count("1") % 2:
        word |= 1 << _polarity_bit(nominal)
    return word


def parse_bits(word: int, nominal: int | None) -> LtcFrame | None:
    """The frame in an 80-bit word, or None when a field is out of range for ``nominal`` frames
    per second (None: up to 30)."""
    fu, ft = _get(word, 0, 4), _get(word, 8, 2)
    su, st = _get(word, 16, 4), _get(word, 24, 3)
    mu, mt = _get(word, 32, 4), _get(word, 40, 3)
    hu, ht = _get(word, 48, 4), _get(word, 56, 2)
    if fu > 9 or su > 9 or mu > 9 or hu > 9 or st > 5 or mt > 5:
        return None
    frames, seconds, minutes, hours = 10 * ft + fu, 10 * st + su, 10 * mt + mu, 10 * ht + hu
    if hours > 23 or frames >= (nominal or 30):
        return None
    drop = bool(_get(word, 10, 1))
    if drop and nominal not in (None, 30):
        return None
    if drop and seconds == 0 and frames < 2 and minutes % 10:
        return None  # a label that drop-frame counting skips
    user = 0
    for group, at in enumerate((4, 12, 20, 28, 36, 44, 52, 60)):
        user |= _get(word, at, 4) << (4 * group)
    bgf = (27, 58, 43) if nominal == 25 else (43, 58, 59)
    flags = sum(_get(word, at, 1) << i for i, at in enumerate(bgf))
    return LtcFrame(hours=hours, minutes=minutes, seconds=seconds, frames=frames, drop_frame=drop,
                    color_frame=bool(_get(word, 11, 1)), user_bits=user, flags=flags)


# ----------------------------------------------------------------------------- encoder


class LtcEncoder:
    """Renders consecutive LTC frames as audio (float32, one channel).

    Frame ``k`` (counted over all calls) starts at sample position ``start + k * fs / (fps * speed)``;
    its bit cells divide that exactly. ``speed`` 1.0001 runs 100 ppm fast against the sample clock.
    Successive ``encode`` calls continue the same waveform (no gap, no phase jump).
    """

    def __init__(self, sample_rate: float, fps: Fraction, *, amplitude: float = 0.5, rise_time_s: float = 25e-6,
                 speed: float = 1.0, start: float = 0.0, polarity: int = 1) -> None:
        if Fraction(fps) not in LTC_RATES:
            raise ValueError(f"LTC runs at 24000/1001, 24, 25, 30000/1001 or 30 frames a second, not {fps}")
        if sample_rate < 8000 or speed <= 0 or amplitude <= 0:
            raise ValueError("sample rate >= 8000, positive speed and amplitude")
        self.sample_rate = float(sample_rate)
        self.fps = Fraction(fps)
        self.nominal = nominal_fps(self.fps)
        self.amplitude = amplitude
        self.rise = rise_time_s * self.sample_rate
        self.frame_samples = self.sample_rate / (float(self.fps) * speed)
        self.start = float(start)
        self.frames_done = 0
        self._next_sample = 0
        self._level = 1.0 if polarity >= 0 else -1.0

    def frame_start(self, k: int) -> float:
        """Sample position where frame ``k`` (0: the first encoded) starts."""
        return self.start + k * self.frame_samples

    def encode(self, frames: list[LtcFrame]) -> npt.NDArray[np.float32]:
        """Audio for ``frames`` (consecutive), up to just before the next frame's first transition."""
        edges: list[float] = []
        cell = self.frame_samples / BITS_PER_FRAME
        for frame in frames:
            origin = self.frame_start(self.frames_done)
            word = frame_bits(frame, self.nominal)
            for bit in range(BITS_PER_FRAME):
                at = origin + bit * cell
                edges.append(at)
                if (word >> bit) & 1:
                    edges.append(at + cell / 2)
            self.frames_done += 1
        half = self.rise / 2
        end = int(np.ceil(self.frame_start(self.frames_done) - half))
        n = np.arange(self._next_sample, max(end, self._next_sample), dtype=np.float64)
        e = np.asarray(edges, dtype=np.float64)
        passed = np.searchsorted(e + half, n, side="right")
        level = self._level * np.where(passed % 2 == 0, 1.0, -1.0)
        if half > 0 and len(e):
            nxt = np.minimum(passed, len(e) - 1)
            ramp = (passed < len(e)) & (n > e[nxt] - half)
            frac = np.clip((n - (e[nxt] - half)) / self.rise, 0.0, 1.0)
            level = np.where(ramp, level * (1.0 - 2.0 * frac), level)
        if len(e) % 2:
            self._level = -self._level
        self._next_sample = max(end, self._next_sample)
        return (self.amplitude * level).astype(np.float32)

    def encode_timecodes(self, first: Timecode, count: int, user_bits: int = 0) -> npt.NDArray[np.float32]:
        """``count`` frames labelled ``first``, ``first + 1``, ... (``first`` at the LTC rate)."""
        if first.rate != self.fps:
            raise ValueError(f"a {first.rate} timecode on {self.fps} LTC")
        count0 = first.to_count()
        frames = []
        for i in range(count):
            tc = Timecode.from_count(count0 + i, first.rate, first.drop_frame)
            frames.append(LtcFrame(hours=tc.hours, minutes=tc.minutes, seconds=tc.seconds, frames=tc.frames,
                                   drop_frame=tc.drop_frame, user_bits=user_bits))
        return self.encode(frames)


# ----------------------------------------------------------------------------- decoder


def sliding_extremes(x: FloatArray, width: int) -> tuple[FloatArray, FloatArray]:
    """(max, min) over each window ``x[i - width + 1 : i + 1]`` for ``i >= width - 1`` (van Herk /
    Gil-Werman: three passes whatever the width)."""
    n = len(x)
    pad = (-n) % width
    out = []
    for sign in (1.0, -1.0):
        xp = np.concatenate([sign * x, np.full(pad, -np.inf)]).reshape(-1, width)
        prefix = np.maximum.accumulate(xp, axis=1).ravel()
        suffix = np.maximum.accumulate(xp[:, ::-1], axis=1)[:, ::-1].ravel()
        out.append(sign * np.maximum(suffix[: n - width + 1], prefix[width - 1: n]))
    return out[0], out[1]


class LtcDecoder:
    """Streaming LTC decoder (see the module notes). ``feed(block)`` returns the frames whose last
    bit ended in that block. ``fps`` (an LTC rate) checks frame numbers and starts the bit-period
    estimate there; without it every LTC rate decodes and ``nominal_fps`` says which it is.

    Counters: ``frames``, ``bad_frames`` (sync word found, fields invalid), ``wrong_rate`` (with
    ``fps``: frames more than ``RATE_TOLERANCE`` off its period), ``sync_errors`` (intervals that
    fit no bit), ``samples`` fed. Not thread-safe: feed it from one thread.
    """

    def __init__(self, sample_rate: float, fps: Fraction | None = None, *, hysteresis: float = HYSTERESIS,
                 min_level: float = MIN_LEVEL) -> None:
        if sample_rate < 8000:
            raise ValueError("LTC needs a sample rate of at least 8000 Hz")
        if fps is not None and Fraction(fps) not in LTC_RATES:
            raise ValueError(f"LTC runs at 24000/1001, 24, 25, 30000/1001 or 30 frames a second, not {fps}")
        self.sample_rate = float(sample_rate)
        self.fps = None if fps is None else Fraction(fps)
        self.hysteresis, self.min_level = hysteresis, min_level
        if self.fps is None:
            self._period = self.sample_rate / _MIDDLE_BIT_RATE
            self._min_period = self.sample_rate / (_HIGHEST_BIT_RATE * 1.08)
            self._max_period = self.sample_rate / (_LOWEST_BIT_RATE * 0.92)
        else:
            self._period = self.sample_rate / (80 * float(self.fps))
            self._min_period, self._max_period = self._period / 1.1, self._period * 1.1
        self._width = int(np.ceil(3 * self.sample_rate / (_LOWEST_BIT_RATE * 0.92)))
        self._tail: FloatArray = np.zeros(0)
        self._state = 0
        self._prev_x = 0.0
        self._last_edge: float | None = None
        self._half: float | None = None  # position of the cell start when a half cell is pending
        self._word = 0
        self._bits = 0
        self._starts: deque[float] = deque(maxlen=BITS_PER_FRAME)
        self.samples = 0
        self.frames = self.bad_frames = self.sync_errors = self.wrong_rate = 0

    @property
    def bit_period(self) -> float:
        """Current estimate of one bit cell, in samples."""
        return self._period

    @property
    def nominal_fps(self) -> int:
        """24, 25 or 30: the given rate's, else the nearest to the measured bit rate."""
        if self.fps is not None:
            return nominal_fps(self.fps)
        measured = self.sample_rate / (BITS_PER_FRAME * self._period)
        return min((24, 25, 30), key=lambda f: abs(f - measured))

    def feed(self, block: npt.ArrayLike) -> list[LtcFrame]:
        x = np.asarray(block, dtype=np.float64).ravel()
        if not len(x):
            return []
        base = self.samples
        self.samples += len(x)
        if not len(self._tail):
            self._tail = np.full(self._width - 1, x[0])
            self._prev_x = x[0]
        joined = np.concatenate([self._tail, x])
        self._tail = joined[-(self._width - 1):]
        high, low = sliding_extremes(joined, self._width)
        mid, half = (high + low) / 2, (high - low) / 2
        hi, lo = mid + self.hysteresis * half, mid - self.hysteresis * half
        sign = np.where(x > hi, 1, np.where(x < lo, -1, 0))
        quiet = half < self.min_level
        sign[quiet] = 0
        if self._state == 0:  # nothing sliced yet: a steady level before the first transition counts
            sign = np.where(quiet & (np.abs(x) > 4 * self.min_level), np.sign(x).astype(int), sign)
        at = np.where(sign != 0, np.arange(len(x)), -1)
        np.maximum.accumulate(at, out=at)
        state = np.where(at >= 0, sign[np.maximum(at, 0)], self._state)
        before = np.concatenate([[self._state], state[:-1]])
        edges = np.nonzero((state != before) & (before != 0))[0]
        x_prev = np.concatenate([[self._prev_x], x[:-1]])
        threshold = np.where(state[edges] > 0, hi[edges], lo[edges])
        step = x[edges] - x_prev[edges]
        frac = np.divide(threshold - x_prev[edges], step, out=np.ones(len(edges)), where=step != 0)
        positions = base + edges - 1 + np.clip(frac, 0.0, 1.0)
        self._state = int(state[-1])
        self._prev_x = float(x[-1])
        out: list[LtcFrame] = []
        for position in positions.tolist():
            frame = self._edge(position)
            if frame is not None:
                out.append(frame)
        return out

    # ------------------------------------------------------------------ per transition

    def _broken(self) -> None:
        self.sync_errors += 1
        self._half = None
        self._bits = 0

    def _edge(self, position: float) -> LtcFrame | None:
        last = self._last_edge
        self._last_edge = position
        if last is None:
            return None
        interval = position - last
        period = self._period
        if interval < 0.25 * period or interval > 1.5 * period:
            self._broken()
            return None
        if interval < 0.75 * period:  # half a cell
            if self._half is None:
                self._half = last
                return None
            start, self._half = self._half, None
            return self._bit(1, start, position)
        if self._half is not None:  # a lone half cell: we were out of step; this cell is a zero
            self._broken()
        return self._bit(0, last, position)

    def _bit(self, bit: int, start: float, end: float) -> LtcFrame | None:
        cell = end - start
        self._period = min(self._max_period, max(self._min_period, self._period + (cell - self._period) / 8))
        self._word = (self._word >> 1) | (bit << (BITS_PER_FRAME - 1))
        self._bits += 1
        self._starts.append(start)
        if self._bits < BITS_PER_FRAME or (self._word >> 64) != SYNC_WORD:
            return None
        self._bits = 0
        frame = parse_bits(self._word, self.nominal_fps)
        if frame is None:
            self.bad_frames += 1
            return None
        start, stop = _fit_cells(np.array([*self._starts, end]), self._period)
        if self.fps is not None and abs((stop - start) * float(self.fps) / self.sample_rate - 1) > RATE_TOLERANCE:
            self.wrong_rate += 1
            return None
        self.frames += 1
        return LtcFrame(hours=frame.hours, minutes=frame.minutes, seconds=frame.seconds, frames=frame.frames,
                        drop_frame=frame.drop_frame, color_frame=frame.color_frame, user_bits=frame.user_bits,
                        flags=frame.flags, start=start, end=stop)


_CELLS = np.arange(BITS_PER_FRAME + 1, dtype=np.float64)


def _fit_cells(boundaries: FloatArray, period: float) -> tuple[float, float]:
    """(start, end) of a frame from its 81 cell boundaries by a straight-line fit (the cells of one
    frame are equal), leaving out boundaries more than a fifth of a cell off the first fit: a
    frame's instant to a fraction of the single-transition jitter, and one disturbed transition
    (noise, a glitch at start-up) does not move it."""
    keep = np.ones(len(boundaries), dtype=bool)
    for _ in range(2):
        slope, intercept = np.polyfit(_CELLS[keep], boundaries[keep], 1)
        residual = np.abs(boundaries - (intercept + slope * _CELLS))
        keep = residual < 0.2 * period
        if keep.sum() < BITS_PER_FRAME // 2:
            break
    return float(intercept), float(intercept + slope * BITS_PER_FRAME)

