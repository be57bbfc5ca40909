"""Frame timing: SMPTE timecode at exact rational rates, and the frame clock."""

from vpstage.timing.clock import FrameClock, FrameTick, ManualTimeSource, MonotonicTimeSource, TimeSource
from vpstage.timing.timecode import (
    DROP_FRAME_RATES,
    Timecode,
    TimecodeError,
    count_to_ndi_100ns,
    default_drop_frame,
    frames_per_day,
    nominal_fps,
)

__all__ = [
    "DROP_FRAME_RATES",
    "FrameClock",
    "FrameTick",
    "ManualTimeSource",
    "MonotonicTimeSource",
    "TimeSource",
    "Timecode",
    "TimecodeError",
    "count_to_ndi_100ns",
    "default_drop_frame",
    "frames_per_day",
    "nominal_fps",
]
