"""SMPTE timecode (ST 12) at exact rational rates, with drop-frame counting at 29.97 and 59.94.

A timecode is a *label* for a frame count: ``count`` frames since 00:00:00:00 at the stage rate.
Non-drop labels count ``nominal`` frames per second (24 for 24000/1001, 30 for 30000/1001, ...),
so at the NTSC-family rates a label runs 0.1 % slow against the wall clock. Drop-frame labels skip
frame *numbers* (never frames) to stay in step: ``d = nominal / 15`` numbers (2 at 29.97, 4 at
59.94) at the start of every minute except minutes 00, 10, 20, 30, 40, 50.

Conversions follow the reference (protocols.md §6.3); labels that drop-frame counting skips
(``mm:00;00`` and ``mm:00;01`` at 29.97 when ``mm % 10 != 0``) are refused, not rounded.
NDI carries timecode as 100 ns units: ``count * denominator * 10**7 // numerator`` (§6.6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from vpstage.stage.types import STANDARD_RATES, format_rate, parse_rate

#: Rates at which drop-frame counting exists (29.97 and 59.94).
DROP_FRAME_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))

NDI_TICKS_PER_SECOND = 10_000_000
"""NDI timecodes and timestamps count 100 ns units."""

_LABEL_RE = re.compile(r"^\s*(\d{1,2})[:](\d{2})[:](\d{2})([:;.,])(\d{2,3})\s*$")


class TimecodeError(ValueError):
    """A timecode that does not exist at its rate (out of range, or skipped by drop-frame)."""


def nominal_fps(rate: Fraction) -> int:
    """Frame numbers per timecode second: the rate rounded to an integer (30 for 30000/1001)."""
    return round(rate)


def drops_per_minute(rate: Fraction, drop_frame: bool) -> int:
    """Frame numbers skipped at the start of each non-tenth minute (0 without drop-frame)."""
    if not drop_frame:
        return 0
    if rate not in DROP_FRAME_RATES:
        raise TimecodeError(f"drop-frame timecode exists only at 30000/1001 and 60000/1001, not {format_rate(rate)}")
    return nominal_fps(rate) // 15


def frames_per_day(rate: Fraction, drop_frame: bool = False) -> int:
    """Frame counts in 24 hours of labels (the point where timecode wraps to 00:00:00:00)."""
    nom, d = nominal_fps(rate), drops_per_minute(rate, drop_frame)
    return 24 * (6 * (600 * nom - 9 * d))


def count_to_ndi_100ns(count: int, rate: Fraction) -> int:
    """Real time of frame ``count`` in NDI's 100 ns units, exact (floor)."""
    return count * rate.denominator * NDI_TICKS_PER_SECOND // rate.numerator


@dataclass(frozen=True, kw_only=True)
class Timecode:
    """One SMPTE label at ``rate``. Construct with :meth:`from_count` or :meth:`parse`; the
    constructor checks the fields (ranges, and labels that drop-frame counting skips)."""

    hours: int
    minutes: int
    seconds: int
    frames: int
    rate: Fraction
    drop_frame: bool = False
    sub_frame: int = 0
    """Which sample within the frame, as a tracker labels several per frame (OpenTrackIO
    ``subFrame``); not part of the label's count."""

    def __post_init__(self) -> None:
        if self.sub_frame < 0:
            raise TimecodeError(f"sub-frame {self.sub_frame} is negative")
        nom = nominal_fps(self.rate)
        d = drops_per_minute(self.rate, self.drop_frame)
        if not (0 <= self.hours < 24 and 0 <= self.minutes < 60 and 0 <= self.seconds < 60
                and 0 <= self.frames < nom):
            raise TimecodeError(f"{self._text()} is out of range at {format_rate(self.rate)} "
                                f"(hours < 24, minutes and seconds < 60, frames < {nom})")
        if d and self.seconds == 0 and self.frames < d and self.minutes % 10 != 0:
            raise TimecodeError(f"{self._text()} does not exist: drop-frame counting skips frames "
                                f"00..{d - 1:02d} at the start of minute {self.minutes:02d}")

    # ------------------------------------------------------------------ conversions

    @classmethod
    def from_count(cls, count: int, rate: Fraction, drop_frame: bool = False) -> Timecode:
        """The label of frame ``count`` (frames since 00:00:00:00; wraps every 24 hours)."""
        nom, d = nominal_fps(rate), drops_per_minute(rate, drop_frame)
        n = count % frames_per_day(rate, drop_frame)
        if d:
            per_ten = 600 * nom - 9 * d
            per_minute = 60 * nom - d
            tens, rest = divmod(n, per_ten)
            n += 9 * d * tens + (d * ((rest - d) // per_minute) if rest >= d else 0)
        return cls(hours=n // (3600 * nom) % 24, minutes=n // (60 * nom) % 60, seconds=n // nom % 60, frames=n % nom,
                   rate=rate, drop_frame=drop_frame)

    def to_count(self) -> int:
        """Frames since 00:00:00:00 (the inverse of :meth:`from_count`)."""
        nom, d = nominal_fps(self.rate), drops_per_minute(self.rate, self.drop_frame)
        total_minutes = 60 * self.hours + self.minutes
        labelled = (3600 * self.hours + 60 * self.minutes + self.seconds) * nom + self.frames
        return labelled - d * (total_minutes - total_minutes // 10)

    def ndi_100ns(self) -> int:
        """This label's real time since 00:00:00:00 in NDI 100 ns units."""
        return count_to_ndi_100ns(self.to_count(), self.rate)

    def shifted(self, frames: int) -> Timecode:
        return Timecode.from_count(self.to_count() + frames, self.rate, self.drop_frame)

    # ------------------------------------------------------------------ text

    @classmethod
    def parse(cls, text: str, rate: Any, drop_frame: bool | None = None) -> Timecode:
        """``"01:00:00:00"`` (non-drop) or ``"00:01:00;02"`` (``;`` or ``.`` or ``,`` marks drop-frame).

        ``drop_frame`` overrides the separator when given. Raises TimecodeError with the reason.
        """
        fraction = parse_rate(rate)
        match = _LABEL_RE.match(text)
        if not match:
            raise TimecodeError(f"{text!r} is not a timecode (hh:mm:ss:ff, or hh:mm:ss;ff for drop-frame)")
        h, m, s, sep, f = match.groups()
        df = sep != ":" if drop_frame is None else drop_frame
        return cls(hours=int(h), minutes=int(m), seconds=int(s), frames=int(f), rate=fraction, drop_frame=df)

    def _text(self) -> str:
        sep = ";" if self.drop_frame else ":"
        width = 3 if nominal_fps(self.rate) > 100 else 2
        return f"{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}{sep}{self.frames:0{width}d}"

    def __str__(self) -> str:
        return self._text()

    # ------------------------------------------------------------------ OpenTrackIO

    def to_opentrackio(self) -> dict[str, Any]:
        """The OpenTrackIO ``timing.timecode`` object for this label."""
        return {"hours": self.hours, "minutes": self.minutes, "seconds": self.seconds, "frames": self.frames,
                "frameRate": {"num": self.rate.numerator, "denom": self.rate.denominator},
                "dropFrame": self.drop_frame}

    @classmethod
    def from_opentrackio(cls, fields: dict[str, Any]) -> Timecode:
        """Build from an OpenTrackIO ``timing.timecode`` object; raises TimecodeError when malformed."""
        try:
            rate_obj = fields["frameRate"]
            rate = Fraction(int(rate_obj["num"]), int(rate_obj["denom"]))
            return cls(hours=int(fields["hours"]), minutes=int(fields["minutes"]), seconds=int(fields["seconds"]),
                       frames=int(fields["frames"]), rate=rate, drop_frame=bool(fields.get("dropFrame", False)))
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            if isinstance(exc, TimecodeError):
                raise
            raise TimecodeError(f"malformed OpenTrackIO timecode {fields!r}: {exc}") from exc


def default_drop_frame(rate: Fraction) -> bool:
    """Drop-frame is the usual choice at 29.97 and 59.94; everything else counts without drops."""
    return rate in DROP_FRAME_RATES


def check_rate(rate: Fraction) -> Fraction:
    """Refuse rates the console does not run at (the project's STANDARD_RATES)."""
    if rate not in STANDARD_RATES:
        allowed = ", ".join(format_rate(r) for r in STANDARD_RATES)
        raise ValueError(f"unsupported frame rate {format_rate(rate)}; use one of {allowed}")
    return rate
