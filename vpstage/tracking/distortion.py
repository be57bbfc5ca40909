"""Lens distortion, kept whole: the model name, k1..k6, p1, p2, the overscan factor and the centre offset.

The model is OpenTrackIO's (and OpenLensIO's, Unreal's) Brown-Conrady polynomial division model on
normalized image coordinates ``x = X / Z``, ``y = Y / Z`` (OpenCV camera frame: x right, y down),
relative to the distortion centre, with ``r² = x² + y²``::

    radial = (1 + k1 r² + k2 r⁴ + k3 r⁶) / (1 + k4 r² + k5 r⁴ + k6 r⁶)
    x' = x · radial + 2 p1 x y + p2 (r² + 2 x²)
    y' = y · radial + p1 (r² + 2 y²) + 2 p2 x y

which is OpenCV's rational model with ``distCoeffs = (k1, k2, p1, p2, k3, k4, k5, k6)``. The model
name says which way the function maps:

* ``Brown-Conrady U-D``: undistorted -> distorted (OpenCV's convention: ``projectPoints`` applies it,
  ``calibrateCamera`` estimates it);
* ``Brown-Conrady D-U`` (OpenTrackIO's default when a sample names no model): distorted ->
  undistorted.

So :func:`undistort_points` evaluates the polynomial for D-U and inverts it for U-D
(``cv2.undistortPoints`` iterated to convergence, then polished by Newton steps), and
:func:`distort_points` the other way round. Models of other names are kept as sent but not
applied (``LensDistortion.known`` is False): their ``overscan`` still widens the inner frustum.

``overscan`` (>= 1 in the OpenTrackIO schema) is the factor by which a render must be wider and
taller than the sensor to hold the distorted image; it is kept as sent (1 when not sent).
``offset_mm`` is OpenTrackIO's ``distortionOffset``: the distortion centre's offset from the
principal point on the sensor, millimetres, +x right and **+y up** (OpenTrackIO's convention,
kept everywhere this object travels; :meth:`LensDistortion.centre` converts it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
Radial = tuple[float, float, float, float, float, float]

BROWN_CONRADY_DU = "Brown-Conrady D-U"
BROWN_CONRADY_UD = "Brown-Conrady U-D"
KNOWN_MODELS: tuple[str, ...] = (BROWN_CONRADY_DU, BROWN_CONRADY_UD)
DEFAULT_MODEL = BROWN_CONRADY_DU
"""OpenTrackIO's default; also how distortion recorded before the model was kept is read."""
MAX_MODEL_NAME = 64
RADIAL_COUNT, TANGENTIAL_COUNT = 6, 2
_ZERO_RADIAL: Radial = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
_NEWTON_STEPS = 8
_CONVERGED = 1e-9
"""Largest residual (normalized units, ~1e-5 pixel) of an inverted point."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LensDistortion:
    """One lens's distortion at one instant (see the module docstring). Immutable and hashable."""

    model: str = DEFAULT_MODEL
    radial: Radial = _ZERO_RADIAL
    """k1..k6 (numerator r², r⁴, r⁶; denominator r², r⁴, r⁶)."""
    tangential: tuple[float, float] = (0.0, 0.0)
    """p1, p2."""
    overscan: float = 1.0
    offset_mm: tuple[float, float] = (0.0, 0.0)
    """Distortion centre minus principal point on the sensor, mm, +x right, +y up (OpenTrackIO)."""

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model or len(self.model) > MAX_MODEL_NAME:
            raise ValueError(f"distortion model must be a name of 1..{MAX_MODEL_NAME} characters")
        if len(self.radial) != RADIAL_COUNT or len(self.tangential) != TANGENTIAL_COUNT or len(self.offset_mm) != 2:
            raise ValueError("distortion needs 6 radial, 2 tangential coefficients and a 2-value offset")
        try:  # math.isfinite refuses what is not a number (a string, None) with a TypeError
            finite = all(map(math.isfinite, (*self.radial, *self.tangential, *self.offset_mm, self.overscan)))
        except TypeError:
            finite = False
        if not finite:
            raise ValueError("distortion coefficients, overscan and offset must be finite numbers")
        if self.overscan <= 0:
            raise ValueError(f"distortion overscan must be > 0, got {self.overscan}")

    # ------------------------------------------------------------------ building

    @staticmethod
    def from_coefficients(radial: Sequence[float] = (), tangential: Sequence[float] = (), model: str = DEFAULT_MODEL,
                          overscan: float = 1.0, offset_mm: Sequence[float] = (0.0, 0.0)) -> LensDistortion:
        """Up to 6 radial and 2 tangential coefficients (missing ones are 0)."""
        if len(radial) > RADIAL_COUNT or len(tangential) > TANGENTIAL_COUNT:
            raise ValueError(f"Brown-Conrady takes at most {RADIAL_COUNT} radial and {TANGENTIAL_COUNT} tangential "
                             f"coefficients, got {len(radial)} and {len(tangential)}")
        k = (*map(float, radial), *_ZERO_RADIAL[len(radial):])
        p = (*map(float, tangential), *_ZERO_RADIAL[:TANGENTIAL_COUNT - len(tangential)])
        ox, oy = offset_mm
        return LensDistortion(model=model, radial=k, tangential=p,  # type: ignore[arg-type]
                              overscan=float(overscan), offset_mm=(float(ox), float(oy)))

    @staticmethod
    def from_opencv(coefficients: Sequence[float] | NDArray[np.floating], model: str = BROWN_CONRADY_UD,
                    overscan: float = 1.0, offset_mm: Sequence[float] = (0.0, 0.0)) -> LensDistortion:
        """From OpenCV's ``distCoeffs`` order ``(k1, k2, p1, p2[, k3[, k4, k5, k6]])`` (4, 5 or 8 values);
        OpenCV's estimates are undistorted -> distorted, hence U-D by default."""
        c = [float(v) for v in np.asarray(coefficients, dtype=np.float64).ravel()]
        if len(c) not in (4, 5, 8) and not (len(c) > 8 and not any(c[8:])):
            raise ValueError(f"OpenCV distortion has 4, 5 or 8 coefficients, got {len(c)}")
        c = (c + [0.0] * 8)[:8]
        return LensDistortion.from_coefficients((c[0], c[1], c[4], c[5], c[6], c[7]), (c[2], c[3]), model,
                                                overscan, offset_mm)

    @staticmethod
    def coerce(value: object) -> LensDistortion:
        """A ``LensDistortion`` as it is; a legacy ``(k1, k2, p1, p2)`` sequence (what samples, camera
        states and take records held before the whole model was kept) as Brown-Conrady D-U."""
        if isinstance(value, LensDistortion):
            return value
        if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 4:
            k1, k2, p1, p2 = (float(v) for v in value)
            return LensDistortion.from_coefficients((k1, k2), (p1, p2))
        raise TypeError(f"not a lens distortion: {value!r:.80}")

    # ------------------------------------------------------------------ reading

    @property
    def known(self) -> bool:
        """True for the Brown-Conrady models this module can apply."""
        return self.model in KNOWN_MODELS

    @property
    def is_zero(self) -> bool:
        """No coefficient set: the lens is a pinhole (whatever the model)."""
        return not any(self.radial) and not any(self.tangential)

    @property
    def legacy(self) -> tuple[float, float, float, float]:
        """(k1, k2, p1, p2): the four values kept before (old record fields, USD ``vpstage:distortion``)."""
        return (self.radial[0], self.radial[1], self.tangential[0], self.tangential[1])

    def opencv(self) -> F64:
        """(8,) OpenCV ``distCoeffs`` (k1, k2, p1, p2, k3, k4, k5, k6) of the polynomial, whichever way
        the model maps."""
        k, p = self.radial, self.tangential
        return np.array([k[0], k[1], p[0], p[1], k[2], k[3], k[4], k[5]], dtype=np.float64)

    def centre(self, focal_length_mm: float) -> tuple[float, float]:
        """The distortion centre relative to the principal point in normalized image coordinates
        (x right, y down): sensor millimetres over the focal length, y negated."""
        return (self.offset_mm[0] / focal_length_mm, -self.offset_mm[1] / focal_length_mm)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"model", "radial": [k1..k6], "tangential": [p1, p2], "overscan", "offset_mm"}``."""
        return {"model": self.model, "radial": list(self.radial), "tangential": list(self.tangential),
                "overscan": self.overscan, "offset_mm": list(self.offset_mm)}

    @staticmethod
    def from_dict(data: Mapping[str, Any] | Sequence[float]) -> LensDistortion:
        """Inverse of :meth:`to_dict`; a legacy 4-value list reads as :meth:`coerce` does."""
        if not isinstance(data, Mapping):
            return LensDistortion.coerce(data)
        return LensDistortion.from_coefficients(data.get("radial", ()), data.get("tangential", ()),
                                                str(data.get("model", DEFAULT_MODEL)),
                                                float(data.get("overscan", 1.0)), data.get("offset_mm", (0.0, 0.0)))


NO_DISTORTION = LensDistortion()


# ----------------------------------------------------------------------------- maths


def apply_polynomial(xy: NDArray[np.floating], coefficients: F64) -> F64:
    """The Brown-Conrady polynomial division function (module docstring) at points (..., 2), with
    OpenCV-ordered ``coefficients`` (8,). Whichever way the model maps, this is its forward function."""
    k1, k2, p1, p2, k3, k4, k5, k6 = (float(c) for c in coefficients)
    pts = np.asarray(xy, dtype=np.float64)
    x, y = pts[..., 0], pts[..., 1]
    r2 = x * x + y * y
    radial = (1 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1 + r2 * (k4 + r2 * (k5 + r2 * k6)))
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return np.stack([xd, yd], axis=-1)


def _jacobian(xy: F64, coefficients: F64, h: float = 1e-7) -> F64:
    """(n, 2, 2) central-difference Jacobian of :func:`apply_polynomial`."""
    dx = np.array([h, 0.0])
    dy = np.array([0.0, h])
    jx = (apply_polynomial(xy + dx, coefficients) - apply_polynomial(xy - dx, coefficients)) / (2 * h)
    jy = (apply_polynomial(xy + dy, coefficients) - apply_polynomial(xy - dy, coefficients)) / (2 * h)
    return np.stack([jx, jy], axis=-1)


def invert_polynomial(xy: NDArray[np.floating], coefficients: F64) -> F64:
    """Points p (..., 2) with ``apply_polynomial(p) = xy``: OpenCV's iterative ``undistortPoints``
    (run to convergence, not its default 5 steps), then Newton steps that polish what it left
    (strong distortion towards the corners). NaN where no such point was found: beyond the radius
    where the polynomial folds back (a calibration extrapolated past its valid range)."""
    import cv2  # light at call time; keeps ``vpstage.tracking`` importable without it

    target = np.asarray(xy, dtype=np.float64)
    flat = target.reshape(-1, 2)
    if not len(flat):
        return target.copy()
    criteria = (cv2.TERM_CRITERIA_COUNT + cv2.TERM_CRITERIA_EPS, 100, 1e-14)
    guess = cv2.undistortPoints(flat.reshape(-1, 1, 2), np.eye(3), coefficients, criteria=criteria)
    p = np.asarray(guess, dtype=np.float64).reshape(-1, 2)
    bad = ~np.all(np.isfinite(p), axis=1)
    p[bad] = flat[bad]
    for _ in range(_NEWTON_STEPS):
        residual = apply_polynomial(p, coefficients) - flat
        if float(np.abs(residual).max()) < 1e-13:
            break
        jac = _jacobian(p, coefficients)
        det = jac[:, 0, 0] * jac[:, 1, 1] - jac[:, 0, 1] * jac[:, 1, 0]
        ok = np.abs(det) > 1e-12
        safe = np.where(ok, det, 1.0)
        step_x = (jac[:, 1, 1] * residual[:, 0] - jac[:, 0, 1] * residual[:, 1]) / safe
        step_y = (-jac[:, 1, 0] * residual[:, 0] + jac[:, 0, 0] * residual[:, 1]) / safe
        p = p - np.where(ok[:, None], np.stack([step_x, step_y], axis=1), 0.0)
    missed = np.abs(apply_polynomial(p, coefficients) - flat).max(axis=1) > _CONVERGED
    p[missed | ~np.all(np.isfinite(p), axis=1)] = np.nan
    return p.reshape(target.shape)


def undistort_points(distortion: LensDistortion, xy: NDArray[np.floating],
                     centre: tuple[float, float] = (0.0, 0.0)) -> F64:
    """Distorted -> undistorted normalized image points (..., 2), both relative to the principal
    point; ``centre`` is the distortion centre there (:meth:`LensDistortion.centre`). Unknown
    models and zero coefficients leave the points as they are. NaN where a U-D model cannot reach
    the point (:func:`invert_polynomial`)."""
    return _map_points(distortion, xy, centre, forward_model=BROWN_CONRADY_DU)


def distort_points(distortion: LensDistortion, xy: NDArray[np.floating],
                   centre: tuple[float, float] = (0.0, 0.0)) -> F64:
    """Undistorted -> distorted normalized image points (the inverse of :func:`undistort_points`;
    NaN where a D-U model cannot reach the point)."""
    return _map_points(distortion, xy, centre, forward_model=BROWN_CONRADY_UD)


def _map_points(distortion: LensDistortion, xy: NDArray[np.floating], centre: tuple[float, float],
                forward_model: str) -> F64:
    """The polynomial applied directly where the model is ``forward_model``, inverted otherwise."""
    pts = np.asarray(xy, dtype=np.float64)
    if not distortion.known or distortion.is_zero:
        return pts.copy()
    c = np.asarray(centre, dtype=np.float64)
    coefficients = distortion.opencv()
    if distortion.model == forward_model:
        out = apply_polynomial(pts - c, coefficients)
    else:
        out = invert_polynomial(pts - c, coefficients)
    return np.asarray(out + c, dtype=np.float64)
