"""Measuring the tracking-to-wall delay: the probe motion, a 1-D signal from each picture, and the
lag between the two by cross-correlation (no Qt, no torch; the orchestration lives in
``live.delay_probe``).

The method, end to end:

1. **Motion** (:class:`ProbeMotion`): the camera pans between two angles in a pseudo-random
   binary pattern (a maximal-length sequence from a linear-feedback shift register, one bit per
   ``chip_s``), every change a raised-cosine ramp of ``ramp_s``. A binary sequence has a single
   sharp autocorrelation peak (no lag looks like another), and the smooth ramps let frames that
   fall on a ramp carry sub-frame timing.
2. **Signal** (:func:`window_centroid`): in each received picture, the brightness-weighted mean of
   a per-pixel coordinate over the pixels brighter than the picture's mid level: where the bright
   inner window sits. The coordinate is the pixel's column by default, or any (H, W) map (the
   probe passes each LED pixel's azimuth seen from the camera, so the signal is in degrees of pan
   and the canvas's pixel map, however it is cut, does not matter).
3. **Lag** (:func:`estimate_lag`): both signals are resampled onto one uniform grid at the frame
   rate and their normalised (Pearson) cross-correlation is taken at every whole-sample lag within
   ``max_lag``; the peak is refined by a parabola through it and its two neighbours. Positive lag:
   the picture follows the reference. The correlation is of positions (the ramps round the peak
   off, which suits the parabola); ``differentiate=True`` correlates sample differences instead, for
   a picture signal that drifts (a witness camera's exposure), at the price of a sidelobe of about
   -0.5 one chip away (a binary level's changes alternate in sign).
4. **Confidence**: the correlation at the peak (1: the picture is a delayed, monotonic image of the
   pose), the highest correlation outside the main lobe (another lag that also fits), their
   difference (``confidence``), and the main lobe's width at half height (peak sharpness).
5. **Proposal** (:func:`proposed_delay`): the engine samples tracking at ``frame time - delay_ms``
   (``vpstage.tracking.buffer``), so every millisecond of ``delay_ms`` adds one to the latency;
   cancelling a measured latency L takes ``delay_ms - L`` (negative: the pose is predicted) with
   ``extrapolate_ms`` at least ``L - delay_ms``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

LFSR_TAPS: dict[int, tuple[int, ...]] = {
    5: (5, 3), 6: (6, 5), 7: (7, 6), 8: (8, 6, 5, 4), 9: (9, 5), 10: (10, 7), 11: (11, 9), 12: (12, 11, 10, 4),
}
"""Feedback taps of a maximal-length (Fibonacci) shift register per order: period 2**order - 1."""

MIN_CONTRAST = 24.0
"""A picture whose bright and dark levels (2nd and 98th percentiles, 0-255) differ by less shows
no window: its signal is NaN."""


# ----------------------------------------------------------------------------- motion


def mls_bits(order: int = 9, seed: int = 1) -> NDArray[np.int8]:
    """One period (``2**order - 1`` chips) of a maximal-length sequence as +1 / -1.

    ``seed`` is the register's non-zero start state (it only rotates the sequence)."""
    taps = LFSR_TAPS.get(order)
    if taps is None:
        raise ValueError(f"no maximal-length taps for order {order}; use one of {sorted(LFSR_TAPS)}")
    mask = (1 << order) - 1
    state = seed & mask
    if state == 0:
        raise ValueError("the shift register's seed must be non-zero (modulo 2**order)")
    out = np.empty(mask, dtype=np.int8)
    for i in range(mask):
        out[i] = 1 if state & 1 else -1
        feedback = 0
        for tap in taps:
            feedback ^= (state >> (order - tap)) & 1
        state = (state >> 1) | (feedback << (order - 1))
    return out


@dataclass(frozen=True, kw_only=True)
class ProbeMotion:
    """A pan pattern with a rich spectrum: a pseudo-random binary sequence between ``-amplitude``
    and ``+amplitude`` degrees, one bit per ``chip_s``, each change a raised-cosine ramp of
    ``ramp_s`` centred on the chip boundary. ``offset(t)`` is the pan offset at ``t`` seconds since
    the start (the first bit is held before it); the pattern repeats every ``2**order - 1`` chips."""

    amplitude_deg: float = 10.0
    chip_s: float = 0.25
    ramp_s: float = 0.2
    order: int = 9
    seed: int = 0x5A

    def __post_init__(self) -> None:
        if not (math.isfinite(self.amplitude_deg) and self.amplitude_deg > 0):
            raise ValueError(f"amplitude must be > 0 degrees, got {self.amplitude_deg}")
        if not (math.isfinite(self.chip_s) and self.chip_s > 0):
            raise ValueError(f"chip must be > 0 s, got {self.chip_s}")
        if not 0 < self.ramp_s <= self.chip_s:
            raise ValueError(f"the ramp ({self.ramp_s} s) must be > 0 and at most one chip ({self.chip_s} s)")

    @property
    def period_s(self) -> float:
        return float(((1 << self.order) - 1) * self.chip_s)

    def bits(self) -> NDArray[np.int8]:
        return mls_bits(self.order, self.seed)

    def offsets(self, t_s: F64 | float) -> F64:
        """Pan offsets (degrees) at times ``t_s`` (seconds since the start; any shape)."""
        bits = self.bits().astype(np.float64)
        n = len(bits)
        t = np.maximum(np.asarray(t_s, dtype=np.float64), 0.0)
        chip = np.floor(t / self.chip_s).astype(np.int64)
        level = bits[chip % n]
        boundary = np.rint(t / self.chip_s).astype(np.int64)   # the nearest chip boundary
        u = (t - boundary * self.chip_s) / self.ramp_s + 0.5      # 0..1 across its ramp
        before = bits[np.maximum(boundary - 1, 0) % n]
        after = bits[boundary % n]
        ramp = (u > 0) & (u < 1) & (boundary > 0)
        blend = before + (after - before) * (0.5 - 0.5 * np.cos(np.pi * np.clip(u, 0.0, 1.0)))
        return np.asarray(self.amplitude_deg * np.where(ramp, blend, level), dtype=np.float64)

    def offset(self, t_s: float) -> float:
        return float(self.offsets(np.array([t_s]))[0])


# ----------------------------------------------------------------------------- pictures


def luma(image: NDArray[Any]) -> F64:
    """Rec. 709 luma (0-255) of an (H, W, 3|4) BGR(X) picture; a 2-D picture is returned as is."""
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        return pixels.astype(np.float64)
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"a picture is (H, W), (H, W, 3) or (H, W, 4), not {pixels.shape}")
    b, g, r = (pixels[..., i].astype(np.float64) for i in range(3))
    return np.asarray(0.0722 * b + 0.7152 * g + 0.2126 * r, dtype=np.float64)


def window_centroid(image: NDArray[Any], coordinate: F64 | None = None, *,
                    min_contrast: float = MIN_CONTRAST) -> float:
    """Where the bright window of ``image`` is: the mean of ``coordinate`` over the pixels brighter
    than the mid level between the picture's dark and bright levels (2nd and 98th percentiles),
    each weighted by how far above it it is. ``coordinate`` is an (H, W) map (NaN where a pixel
    carries no LED: ignored); None: the column index. NaN when the picture has too little contrast
    or no bright pixel has a coordinate."""
    light = luma(image)
    if coordinate is None:
        coords = np.broadcast_to(np.arange(light.shape[1], dtype=np.float64), light.shape)
    else:
        coords = np.asarray(coordinate, dtype=np.float64)
        if coords.shape != light.shape:
            raise ValueError(f"coordinate map {coords.shape} does not match the picture {light.shape}")
    valid = np.isfinite(coords)
    values = light[valid]
    if values.size == 0:
        return math.nan
    dark, bright = np.percentile(values, [2.0, 98.0])
    if bright - dark < min_contrast:
        return math.nan
    weight = np.clip(values - (dark + bright) / 2.0, 0.0, None)
    total = float(weight.sum())
    if total <= 0:
        return math.nan
    return float((weight * coords[valid]).sum() / total)


class WindowSignal:
    """``window_centroid`` as a picture -> number function for a stream of pictures of one size:
    pictures (and the coordinate map) are subsampled by a whole step in each direction so that
    at most ``max_pixels`` are looked at (a 1920 x 1080 canvas in about a millisecond). A picture
    up to two pixels smaller than the map (an odd row or column a transport dropped) uses its
    top-left part."""

    def __init__(self, coordinate: F64 | None = None, *, max_pixels: int = 65_536,
                 min_contrast: float = MIN_CONTRAST) -> None:
        self.coordinate = None if coordinate is None else np.asarray(coordinate, dtype=np.float64)
        self.max_pixels = max_pixels
        self.min_contrast = min_contrast
        self._cached: tuple[tuple[int, int], int, F64 | None] | None = None

    def step(self, height: int, width: int) -> int:
        return max(1, math.ceil(math.sqrt(height * width / self.max_pixels)))

    def __call__(self, image: NDArray[Any]) -> float:
        shape = (int(image.shape[0]), int(image.shape[1]))
        if self._cached is None or self._cached[0] != shape:
            step = self.step(*shape)
            coords = None
            if self.coordinate is not None:
                rows, cols = self.coordinate.shape
                if not (rows - 2 <= shape[0] <= rows and cols - 2 <= shape[1] <= cols):
                    raise ValueError(f"coordinate map {self.coordinate.shape} does not match the picture {shape}")
                # a transport may drop an odd last row or column (NDI sends even heights)
                coords = self.coordinate[:shape[0]:step, :shape[1]:step]
            else:
                coords = np.broadcast_to(np.arange(0, shape[1], step, dtype=np.float64),
                                         (len(range(0, shape[0], step)), len(range(0, shape[1], step))))
            self._cached = (shape, step, coords)
        _, step, coords = self._cached
        return window_centroid(image[::step, ::step], coords, min_contrast=self.min_contrast)


# ----------------------------------------------------------------------------- lag


def resample(t: F64, values: F64, grid: F64) -> F64:
    """``values`` sampled at times ``t`` (any order; NaN values dropped), linearly interpolated at
    ``grid``; NaN outside the sampled span."""
    t = np.asarray(t, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(t) & np.isfinite(values)
    t, values = t[keep], values[keep]
    out = np.full(np.shape(grid), np.nan)
    if t.size < 2:
        return out
    order = np.argsort(t, kind="stable")
    t, values = t[order], values[order]
    inside = (grid >= t[0]) & (grid <= t[-1])
    out[inside] = np.interp(np.asarray(grid)[inside], t, values)
    return out


def cross_correlation(signal: F64, reference: F64, max_lag: int) -> tuple[NDArray[np.int64], F64]:
    """Normalised (Pearson) correlation of ``signal[j]`` with ``reference[j - m]`` for every lag
    ``m`` in ``-max_lag..max_lag`` (same grid, same length; NaN pairs left out): the lags and the
    coefficients (NaN where fewer than 8 pairs overlap or one side is constant)."""
    signal = np.asarray(signal, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if signal.shape != reference.shape or signal.ndim != 1:
        raise ValueError(f"signal {signal.shape} and reference {reference.shape} must be 1-D and of one length")
    n = len(signal)
    max_lag = max(0, min(int(max_lag), n - 2))
    lags = np.arange(-max_lag, max_lag + 1, dtype=np.int64)
    coeffs = np.full(len(lags), np.nan)
    for k, m in enumerate(lags):
        a, b = _overlap(signal, reference, int(m))
        if len(a) < 8:
            continue
        x, y = a - a.mean(), b - b.mean()
        norm = math.sqrt(float(x @ x) * float(y @ y))
        if norm > 0:
            coeffs[k] = float(x @ y) / norm
    return lags, coeffs


def parabolic_peak(left: float, centre: float, right: float) -> tuple[float, float]:
    """Vertex of the parabola through (-1, left), (0, centre), (1, right): (offset in -0.5..0.5,
    value). Offset 0 when the three points do not bend down around the centre."""
    curvature = left - 2.0 * centre + right
    if not (math.isfinite(curvature) and curvature < 0):
        return 0.0, centre
    offset = 0.5 * (left - right) / curvature
    offset = max(-0.5, min(0.5, offset))
    return offset, centre - 0.25 * (left - right) * offset


@dataclass(frozen=True, kw_only=True)
class LagEstimate:
    """The lag of a signal behind its reference, and how much to trust it.

    ``lag_samples`` (fractional; positive: the signal follows the reference) and ``lag_ms``;
    ``peak``: the correlation there (0-1); ``sidelobe``: the highest correlation outside the main
    lobe; ``confidence = peak - sidelobe`` (0-1); ``width_samples``: the main lobe's full width at
    half its height (sharpness); ``polarity``: +1 when the signal rises with the reference, -1
    when it falls; ``at_edge``: the peak is at the end of the searched range (the true lag may lie
    beyond it); ``samples``: grid samples compared; ``gain``: signal change per unit of reference
    at that lag (least squares), a sanity check of the picture's response to the motion."""

    lag_samples: float
    lag_ms: float
    rate_hz: float
    peak: float
    sidelobe: float
    confidence: float
    width_samples: float
    polarity: int
    at_edge: bool
    samples: int
    gain: float

    @property
    def reliable(self) -> bool:
        """A clear, single peak inside the searched range."""
        return self.peak >= 0.5 and self.confidence >= 0.25 and not self.at_edge and self.samples >= 30

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["reliable"] = self.reliable
        return {k: (round(v, 4) if isinstance(v, float) and math.isfinite(v) else v) for k, v in out.items()}


def _main_lobe(coeffs: F64, i: int) -> tuple[int, int]:
    """Indices bounding the main lobe around ``i``: out to the nearest local minima."""
    lo = i
    while lo > 0 and np.isfinite(coeffs[lo - 1]) and coeffs[lo - 1] < coeffs[lo]:
        lo -= 1
    hi = i
    while hi < len(coeffs) - 1 and np.isfinite(coeffs[hi + 1]) and coeffs[hi + 1] < coeffs[hi]:
        hi += 1
    return lo, hi


def _half_width(coeffs: F64, i: int, peak: float) -> float:
    """Full width (samples) of the lobe around ``i`` at half of ``peak`` (linear crossings)."""
    half = peak / 2.0
    edges = []
    for step in (-1, 1):
        j = i
        while 0 <= j + step < len(coeffs) and np.isfinite(coeffs[j + step]) and coeffs[j + step] > half:
            j += step
        if not 0 <= j + step < len(coeffs) or not np.isfinite(coeffs[j + step]):
            edges.append(float(j))
            continue
        a, b = coeffs[j], coeffs[j + step]
        edges.append(float(j + step * (a - half) / (a - b)) if a != b else float(j))
    return float(abs(edges[1] - edges[0]))


def estimate_lag(signal: F64, reference: F64, rate_hz: float, max_lag_s: float, *,
                 differentiate: bool = False) -> LagEstimate:
    """The lag of ``signal`` behind ``reference``, both sampled on one uniform grid at ``rate_hz``
    (NaN: missing), searched within +-``max_lag_s``. ``differentiate`` correlates their sample
    differences (pre-whitening) rather than the values."""
    signal = np.asarray(signal, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if differentiate:
        a, b = np.diff(signal), np.diff(reference)
    else:
        a, b = signal, reference
    max_lag = max(1, math.ceil(max_lag_s * rate_hz))
    lags, coeffs = cross_correlation(a, b, max_lag)
    if not np.isfinite(coeffs).any():
        raise ValueError("the signals do not overlap enough (or one is constant) to correlate")
    magnitude = np.where(np.isfinite(coeffs), np.abs(coeffs), -1.0)
    i = int(np.argmax(magnitude))
    polarity = 1 if coeffs[i] >= 0 else -1
    c = np.where(np.isfinite(coeffs), polarity * coeffs, np.nan)
    at_edge = i == 0 or i == len(c) - 1 or not (np.isfinite(c[i - 1]) and np.isfinite(c[i + 1]))
    if at_edge:
        offset, peak = 0.0, float(c[i])
    else:
        offset, peak = parabolic_peak(float(c[i - 1]), float(c[i]), float(c[i + 1]))
    lo, hi = _main_lobe(c, i)
    outside = np.concatenate([c[:lo], c[hi + 1:]])
    outside = outside[np.isfinite(outside)]
    sidelobe = float(np.abs(outside).max()) if outside.size else 0.0
    lag = float(lags[i]) + offset
    a, b = _overlap(signal, reference, int(lags[i]))
    return LagEstimate(lag_samples=lag, lag_ms=1000.0 * lag / rate_hz, rate_hz=rate_hz, peak=min(1.0, peak),
                       sidelobe=sidelobe, confidence=max(0.0, min(1.0, peak - sidelobe)),
                       width_samples=_half_width(c, i, peak), polarity=polarity, at_edge=bool(at_edge), samples=len(a),
                       gain=_gain(a, b))


def _overlap(signal: F64, reference: F64, lag: int) -> tuple[F64, F64]:
    """The pairs ``(signal[j], reference[j - lag])`` where both are known."""
    n = len(signal)
    a, b = (signal[lag:], reference[:n - lag]) if lag >= 0 else (signal[:n + lag], reference[-lag:])
    ok = np.isfinite(a) & np.isfinite(b)
    return a[ok], b[ok]


def _gain(signal: F64, reference: F64) -> float:
    """Least-squares slope of ``signal`` on ``reference``."""
    if len(signal) < 2:
        return math.nan
    x, y = reference - reference.mean(), signal - signal.mean()
    denominator = float(x @ x)
    return float(x @ y) / denominator if denominator > 0 else math.nan


def uniform_grid(start_s: float, stop_s: float, rate_hz: float) -> F64:
    """Times ``start_s, start_s + 1/rate, ...`` up to ``stop_s`` (inclusive within rounding)."""
    count = math.floor((stop_s - start_s) * rate_hz + 1e-9) + 1
    return np.asarray(start_s + np.arange(max(count, 0)) / rate_hz, dtype=np.float64)


def measure_lag(picture_t_s: F64, picture_values: F64, reference_t_s: F64, reference_values: F64,
                rate_hz: float, max_lag_s: float, *, differentiate: bool = False) -> LagEstimate:
    """The lag of a picture signal (values at irregular times ``picture_t_s``) behind a reference
    (densely sampled at ``reference_t_s``): both resampled onto a grid at ``rate_hz`` over the
    pictures' span, then :func:`estimate_lag`. Times in seconds on one clock."""
    t = np.asarray(picture_t_s, dtype=np.float64)
    finite = t[np.isfinite(t) & np.isfinite(np.asarray(picture_values, dtype=np.float64))]
    if finite.size < 2:
        raise ValueError("fewer than two pictures carry a signal")
    grid = uniform_grid(float(finite.min()), float(finite.max()), rate_hz)
    return estimate_lag(resample(t, np.asarray(picture_values, dtype=np.float64), grid),
                        resample(np.asarray(reference_t_s, dtype=np.float64),
                                 np.asarray(reference_values, dtype=np.float64), grid),
                        rate_hz, max_lag_s, differentiate=differentiate)


def proposed_delay(latency_ms: float, delay_ms: float = 0.0, extrapolate_ms: float = 0.0) -> tuple[float, float]:
    """``(delay_ms, extrapolate_ms)`` for a camera that showed ``latency_ms`` of tracking-to-wall
    latency while it ran with ``delay_ms`` and ``extrapolate_ms``: the delay moves the sampling
    instant back by exactly its value, so ``delay_ms - latency_ms`` cancels the latency; a negative
    delay asks for poses past the newest sample, which the hub extrapolates only as far as
    ``extrapolate_ms`` (at most 200 ms in a project), so that grows to cover it."""
    delay = delay_ms - latency_ms
    needed = max(0.0, -delay)
    return round(delay, 1), float(min(200.0, max(extrapolate_ms, math.ceil(needed))))
