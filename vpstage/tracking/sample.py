"""One decoded tracking sample, exactly as the tracker sent it (before lens mapping and alignment).

Every receiver (FreeD, OpenTrackIO, OSC; UDP or serial) turns what it decodes into a
``CameraSample``. Units are the stage conventions, not the wire's: metres and degrees (FreeD's
millimetres are divided by 1000), pan/tilt/roll as in ``vpstage.geometry.rotations``, in the
*tracker's* frame (the alignment to the stage frame is applied later).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal, NamedTuple

from vpstage.timing.timecode import Timecode
from vpstage.tracking.distortion import LensDistortion

Protocol = Literal["freed", "opentrackio", "osc"]
CameraId = int | str
EncoderCount = int
"""A lens encoder's raw count, as the tracker sent it (FreeD zoom/focus, OpenTrackIO ``rawEncoders``):
the one type of raw encoder values in the project (normalised 0..1 values are ``*_norm`` floats)."""


class CameraSample(NamedTuple):
    """A camera pose (and whatever lens data came with it) from one tracker message.

    Threading: created on a receiver thread, immutable (a NamedTuple: ten times cheaper to build
    than a frozen dataclass, which matters at decode rates), safe to share. Copy with changes
    through ``_replace``.

    ``arrival_ns`` is ``time.monotonic_ns()`` when the datagram or serial frame was read: the time
    axis of the per-camera buffers. ``source`` names the sender (``"10.0.0.5"`` for UDP,
    ``"/dev/ttyUSB0"`` for serial) and ``camera_id`` the stream within it (FreeD camera id,
    OpenTrackIO ``sourceNumber`` or ``sourceId``, the id in an OSC address).

    Encoders: ``*_raw`` are integer counts (FreeD zoom/focus, OpenTrackIO ``rawEncoders``);
    ``*_norm`` are normalised 0..1 values (OpenTrackIO ``encoders``, OSC presets).
    ``user_bits`` is FreeD's 16-bit spare field (some senders put the iris there).

    Physical lens values are present only when the sender sent them (OpenTrackIO ``lens``, OSC):
    focal length in mm, focus distance in m, entrance-pupil offset in m along the optical axis
    (positive forward of the image plane), ``distortion`` (a
    :class:`~vpstage.tracking.distortion.LensDistortion`: the model name, k1..k6, p1, p2, the
    overscan factor and the distortion centre offset, as sent), ``projection_offset_mm`` (x right,
    y up on the sensor, as OpenTrackIO sends it).

    Timing when sent: ``source_time_ns`` (PTP sample timestamp, ns since the PTP epoch),
    ``timecode``, ``sequence``, ``sample_rate``.
    """

    protocol: Protocol
    source: str
    camera_id: CameraId
    arrival_ns: int
    x_m: float
    y_m: float
    z_m: float
    pan_deg: float
    tilt_deg: float
    roll_deg: float
    focus_raw: EncoderCount | None = None
    iris_raw: EncoderCount | None = None
    zoom_raw: EncoderCount | None = None
    focus_norm: float | None = None
    iris_norm: float | None = None
    zoom_norm: float | None = None
    user_bits: int | None = None
    focal_length_mm: float | None = None
    focus_distance_m: float | None = None
    f_stop: float | None = None
    t_stop: float | None = None
    entrance_pupil_m: float | None = None
    distortion: LensDistortion | None = None
    projection_offset_mm: tuple[float, float] | None = None
    sensor_size_mm: tuple[float, float] | None = None
    source_time_ns: int | None = None
    timecode: Timecode | None = None
    sequence: int | None = None
    sample_rate: Fraction | None = None
    status: str | None = None

    @property
    def position_m(self) -> tuple[float, float, float]:
        return (self.x_m, self.y_m, self.z_m)

    @property
    def stream_key(self) -> tuple[str, CameraId]:
        """(source, camera id): how receivers and the hub tell streams apart."""
        return (self.source, self.camera_id)

    def is_finite(self) -> bool:
        """True when every float in the pose and lens fields is finite (decoders drop the rest)."""
        values = [self.x_m, self.y_m, self.z_m, self.pan_deg, self.tilt_deg, self.roll_deg]
        for extra in (self.focus_norm, self.iris_norm, self.zoom_norm, self.focal_length_mm,
                      self.focus_distance_m, self.f_stop, self.t_stop, self.entrance_pupil_m):
            if extra is not None:
                values.append(extra)
        for group in (self.projection_offset_mm, self.sensor_size_mm):
            if group is not None:
                values.extend(group)
        if self.distortion is not None:  # a LensDistortion checks its own values when built
            try:
                LensDistortion.coerce(self.distortion)
            except (TypeError, ValueError):
                return False
        return all(math.isfinite(v) for v in values)


#: Numeric lens fields that buffers interpolate linearly between two samples.
INTERPOLATED_LENS_FIELDS: tuple[str, ...] = (
    "focus_norm", "iris_norm", "zoom_norm", "focal_length_mm", "focus_distance_m", "f_stop",
    "t_stop", "entrance_pupil_m",
)
#: Integer encoder counts, interpolated and rounded.
INTERPOLATED_RAW_FIELDS: tuple[str, ...] = ("focus_raw", "iris_raw", "zoom_raw")
