"""Frame timing: SMPTE timecode at exact rational rates, the frame clock, LTC, and the clock's
discipline to a timecode master."""

from vpstage.timing.clock import FrameClock, FrameTick, ManualTimeSource, MonotonicTimeSource, TimeSource
from vpstage.timing.discipline import (
    ClockDiscipline,
    DisciplineSettings,
    LockStatus,
    clock_lock_status,
    internal_status,
)
from vpstage.timing.ltc import LtcDecoder, LtcEncoder, LtcFrame, ltc_rate
from vpstage.timing.masters import FittedTimeline, FixedTimeline, LtcMaster, TrackerTimecodeMaster
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
    "ClockDiscipline",
    "DisciplineSettings",
    "FittedTimeline",
    "FixedTimeline",
    "FrameClock",
    "FrameTick",
    "LockStatus",
    "LtcDecoder",
    "LtcEncoder",
    "LtcFrame",
    "LtcMaster",
    "ManualTimeSource",
    "MonotonicTimeSource",
    "TimeSource",
    "Timecode",
    "TimecodeError",
    "TrackerTimecodeMaster",
    "clock_lock_status",
    "count_to_ndi_100ns",
    "default_drop_frame",
    "frames_per_day",
    "internal_status",
    "ltc_rate",
    "nominal_fps",
]
