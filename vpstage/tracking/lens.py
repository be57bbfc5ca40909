"""Lens profiles: raw or normalised encoder values -> focal length, focus, entrance pupil, distortion.

A ``LensProfile`` holds piecewise-linear tables built from calibration points (``encoder`` ->
value). Zoom drives focal length (mm), entrance-pupil offset (m, along the optical axis, positive
toward the subject) and the lens distortion (:class:`DistortionTables`: the Brown-Conrady
coefficients k1..k6, p1, p2 and the overscan factor, in the profile's distortion model); focus
drives focus distance (m); iris drives the f-number. Between points values are linear; outside the calibrated range
they are held at the end values (``extrapolate=False``), except in the presets below whose tables
are exact linear scales.

Which values win, per quantity: the sender's physical value when ``use_sent_values`` and the
sample has one; else the table, when the sample has that encoder; else the fallback (the nominal
focal length, no focus distance, zero entrance pupil, no distortion). A sender's distortion is
taken whole (model, coefficients, overscan, centre offset) as it sent it.

Presets (always available; the profile file adds calibrated lenses, see ``lens_file``):

``physical``       use what the sender sends (OpenTrackIO ``lens``, OSC); nominal 35 mm otherwise.
``zcam-freed``     Z CAM PTZ FreeD: zoom = focal length mm x 100, focus = distance mm x 10, iris in
                   the spare bits 0-11 as f-number x 100 (protocol reference §1.5).
``syncrolink-freed`` SYNCRO-LINK encoder FreeD: zoom = mm x 64, focus = mm x 64, iris in the spare
                   bits 0-11 as f-number x 10.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from vpstage.tracking.distortion import NO_DISTORTION, LensDistortion
from vpstage.tracking.sample import CameraSample

EncoderKind = Literal["raw", "normalized"]
DEFAULT_NOMINAL_FOCAL_MM = 35.0
USER_BITS_IRIS_MASK = 0x0FFF


@dataclass(frozen=True)
class PiecewiseLinear:
    """y(x) through sorted calibration points; held (or linearly extended) beyond the ends."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    extrapolate: bool = False

    def __post_init__(self) -> None:
        if not self.xs or len(self.xs) != len(self.ys):
            raise ValueError("a table needs at least one point and as many xs as ys")
        if any(b <= a for a, b in zip(self.xs, self.xs[1:], strict=False)):
            raise ValueError("table encoder values must be strictly increasing")

    @staticmethod
    def from_points(points: Sequence[tuple[float, float]], extrapolate: bool = False) -> PiecewiseLinear:
        ordered = sorted(points)
        return PiecewiseLinear(tuple(p[0] for p in ordered), tuple(p[1] for p in ordered), extrapolate)

    def __call__(self, x: float) -> float:
        xs, ys = self.xs, self.ys
        if len(xs) == 1:
            return ys[0]
        i = bisect.bisect_right(xs, x)
        if i == 0 or i == len(xs):
            if not self.extrapolate:
                return ys[0] if i == 0 else ys[-1]
            i = 1 if i == 0 else len(xs) - 1
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


@dataclass(frozen=True)
class DistortionTables:
    """Zoom encoder -> distortion: one table per coefficient (k1..k6, p1, p2) and the overscan
    factor, in one model (``Brown-Conrady U-D`` for OpenCV calibrations, ``D-U`` by default)."""

    model: str
    radial: tuple[PiecewiseLinear, PiecewiseLinear, PiecewiseLinear, PiecewiseLinear, PiecewiseLinear,
                  PiecewiseLinear]
    tangential: tuple[PiecewiseLinear, PiecewiseLinear]
    overscan: PiecewiseLinear | None = None

    def at(self, zoom: float) -> LensDistortion:
        k = [table(zoom) for table in self.radial]
        p = [table(zoom) for table in self.tangential]
        overscan = self.overscan(zoom) if self.overscan is not None else 1.0
        return LensDistortion.from_coefficients(k, p, self.model, max(overscan, 1e-6))


@dataclass(frozen=True, kw_only=True)
class LensValues:
    """A lens state in physical units (what ``CameraState`` needs)."""

    focal_length_mm: float
    focus_distance_m: float | None = None
    entrance_pupil_m: float = 0.0
    distortion: LensDistortion = NO_DISTORTION
    f_stop: float | None = None
    projection_offset_mm: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True, kw_only=True)
class LensProfile:
    """Maps a sample's encoders (or sent physical values) to ``LensValues``. See the module doc."""

    name: str
    encoder: EncoderKind = "raw"
    use_sent_values: bool = True
    nominal_focal_length_mm: float = DEFAULT_NOMINAL_FOCAL_MM
    focal_length: PiecewiseLinear | None = None
    focus_distance: PiecewiseLinear | None = None
    entrance_pupil: PiecewiseLinear | None = None
    distortion: DistortionTables | None = None
    f_stop: PiecewiseLinear | None = None
    iris_user_bits_divisor: float | None = None
    """When set, f-number = (FreeD spare bits 0-11) / divisor."""
    description: str = ""

    def _encoders(self, sample: CameraSample) -> tuple[float | None, float | None, float | None]:
        if self.encoder == "raw":
            return sample.zoom_raw, sample.focus_raw, sample.iris_raw
        return sample.zoom_norm, sample.focus_norm, sample.iris_norm

    def _f_stop(self, sample: CameraSample, iris: float | None) -> float | None:
        if self.use_sent_values and sample.f_stop is not None:
            return sample.f_stop
        if self.iris_user_bits_divisor and sample.user_bits is not None:
            bits = sample.user_bits & USER_BITS_IRIS_MASK
            return bits / self.iris_user_bits_divisor if bits else None
        return self.f_stop(iris) if self.f_stop is not None and iris is not None else None

    def evaluate(self, sample: CameraSample) -> LensValues:
        """Physical lens values for one (possibly interpolated) sample."""
        zoom, focus, iris = self._encoders(sample)
        sent = self.use_sent_values
        if sent and sample.focal_length_mm is not None and sample.focal_length_mm > 0:
            focal = sample.focal_length_mm
        elif self.focal_length is not None and zoom is not None:
            focal = self.focal_length(zoom)
        else:
            focal = self.nominal_focal_length_mm
        if sent and sample.focus_distance_m is not None:
            focus_m: float | None = sample.focus_distance_m
        else:
            focus_m = self.focus_distance(focus) if self.focus_distance and focus is not None else None
        if sent and sample.entrance_pupil_m is not None:
            pupil = sample.entrance_pupil_m
        else:
            pupil = self.entrance_pupil(zoom) if self.entrance_pupil and zoom is not None else 0.0
        if sent and sample.distortion is not None:
            distortion = LensDistortion.coerce(sample.distortion)
        elif self.distortion is not None and zoom is not None:
            distortion = self.distortion.at(zoom)
        else:
            distortion = NO_DISTORTION
        offset = sample.projection_offset_mm if sent and sample.projection_offset_mm else (0.0, 0.0)
        return LensValues(focal_length_mm=max(focal, 1e-3), focus_distance_m=focus_m, entrance_pupil_m=pupil,
                          distortion=distortion, f_stop=self._f_stop(sample, iris), projection_offset_mm=offset)


def _scale(units_per_value: float) -> PiecewiseLinear:
    """An exact linear scale ``value = encoder / units_per_value`` as a two-point table."""
    return PiecewiseLinear((0.0, units_per_value), (0.0, 1.0), extrapolate=True)


PRESETS: dict[str, LensProfile] = {
    "physical": LensProfile(name="physical", encoder="normalized", use_sent_values=True,
                            description="values the sender sends in physical units (OpenTrackIO, OSC)"),
    "zcam-freed": LensProfile(name="zcam-freed", encoder="raw", use_sent_values=False,
                              focal_length=_scale(100.0), focus_distance=_scale(10_000.0),
                              iris_user_bits_divisor=100.0,
                              description="Z CAM PTZ FreeD: zoom mm x 100, focus mm x 10, iris f x 100 in spare"),
    "syncrolink-freed": LensProfile(name="syncrolink-freed", encoder="raw", use_sent_values=False,
                                    focal_length=_scale(64.0), focus_distance=_scale(64_000.0),
                                    iris_user_bits_divisor=10.0,
                                    description="SYNCRO-LINK FreeD: zoom mm x 64, focus mm x 64, iris f x 10 in spare"),
}
