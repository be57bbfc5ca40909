"""The delay probe's signal maths on synthetic signals: the probe motion, the picture signal, the
cross-correlation with its sub-sample peak, and the proposal (vpstage.tracking.delay_measure)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vpstage.tracking.delay_measure import (
    ProbeMotion,
    WindowSignal,
    cross_correlation,
    estimate_lag,
    measure_lag,
    mls_bits,
    parabolic_peak,
    proposed_delay,
    resample,
    uniform_grid,
    window_centroid,
)

RATE = 30.0


@pytest.mark.parametrize("order", [5, 7, 9, 10])
def test_mls_is_maximal_and_two_valued(order: int) -> None:
    bits = mls_bits(order, seed=3).astype(int)
    n = (1 << order) - 1
    assert len(bits) == n and set(bits.tolist()) == {-1, 1}
    assert bits.sum() == 1  # 2**(order-1) ones, one fewer zeros
    circular = [int(bits @ np.roll(bits, k)) for k in range(1, n)]
    assert set(circular) == {-1}  # the ideal two-valued autocorrelation of an m-sequence
    with pytest.raises(ValueError, match="taps"):
        mls_bits(4)
    with pytest.raises(ValueError, match="non-zero"):
        mls_bits(5, seed=32)


def test_probe_motion_holds_its_levels_and_ramps_smoothly() -> None:
    motion = ProbeMotion(amplitude_deg=8.0, chip_s=0.25, ramp_s=0.2, order=7, seed=1)
    bits = motion.bits()
    mid = (np.arange(40) + 0.5) * motion.chip_s  # chip middles: clear of every ramp
    np.testing.assert_allclose(motion.offsets(mid), 8.0 * bits[:40], atol=1e-12)
    t = np.arange(0, 10, 1e-3)
    values = motion.offsets(t)
    assert np.abs(values).max() <= 8.0 + 1e-12
    steepest = math.pi * 16.0 / (2 * motion.ramp_s) * 1e-3  # a full swing's raised cosine
    assert np.abs(np.diff(values)).max() <= steepest * 1.001  # continuous: no jump anywhere
    changes = np.flatnonzero(bits[1:40] != bits[:39]) + 1
    for k in changes:  # a change is half done exactly at its chip boundary
        assert motion.offset(k * motion.chip_s) == pytest.approx(0.0, abs=1e-9)
    assert motion.offset(-1.0) == motion.offset(0.0) == 8.0 * bits[0]
    assert motion.period_s == pytest.approx(127 * 0.25)
    with pytest.raises(ValueError, match="ramp"):
        ProbeMotion(chip_s=0.2, ramp_s=0.3)


def test_parabolic_peak_is_exact_on_a_parabola() -> None:
    for vertex in (-0.4, -0.1, 0.0, 0.27, 0.5):
        f = [1.0 - 0.3 * (x - vertex) ** 2 for x in (-1, 0, 1)]
        offset, value = parabolic_peak(*f)
        assert offset == pytest.approx(vertex) and value == pytest.approx(1.0)
    assert parabolic_peak(1.0, 0.5, 1.0) == (0.0, 0.5)  # not a maximum: no refinement


def _pictures(lag_frames: float, *, seconds: float = 5.0, noise: float = 0.0, jitter_s: float = 0.0,
              polarity: int = 1, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Picture times and values showing the motion ``lag_frames`` late through a monotonic, non-linear
    map (a flat wall seen from 3 m), and the motion itself sampled at 1 kHz."""
    motion = ProbeMotion()
    rng = np.random.default_rng(seed)
    count = int(seconds * RATE)
    t = 2.0 + np.arange(count) / RATE + rng.normal(0.0, jitter_s, count) if jitter_s else 2.0 + np.arange(count) / RATE
    values = polarity * 3.0 * np.tan(np.radians(motion.offsets(t - lag_frames / RATE))) + 1.5
    values = values + rng.normal(0.0, noise, count)
    reference_t = np.arange(0.0, t.max() + 1.0, 1e-3)
    return t, values, reference_t, motion.offsets(reference_t)


@pytest.mark.parametrize("lag_frames", [0.0, 1.0, 3.0, -2.0, 7.0])
def test_integer_lags_are_found(lag_frames: float) -> None:
    est = measure_lag(*_pictures(lag_frames), RATE, 0.5)
    assert est.lag_samples == pytest.approx(lag_frames, abs=0.1)
    assert est.lag_ms == pytest.approx(1000 * est.lag_samples / RATE)
    assert est.reliable and est.peak > 0.98 and est.polarity == 1 and not est.at_edge


@pytest.mark.parametrize("lag_frames", [0.5, 1.06, 2.37, 4.8, -0.7])
def test_fractional_lags_are_found_to_a_fraction_of_a_frame(lag_frames: float) -> None:
    est = measure_lag(*_pictures(lag_frames), RATE, 0.5)
    assert est.lag_samples == pytest.approx(lag_frames, abs=0.15)
    whole = round(lag_frames)
    assert abs(est.lag_samples - lag_frames) < abs(whole - lag_frames) or abs(whole - lag_frames) < 0.15


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_noise_and_jittered_timestamps(seed: int) -> None:
    """Noise of 5 % of the swing on every picture, arrival times jittered by 2 ms."""
    est = measure_lag(*_pictures(2.6, noise=0.1, jitter_s=0.002, seed=seed), RATE, 0.5)
    assert est.lag_samples == pytest.approx(2.6, abs=0.25)
    assert est.reliable and est.confidence > 0.5


def test_an_inverted_picture_is_found_with_its_polarity() -> None:
    est = measure_lag(*_pictures(1.5, polarity=-1), RATE, 0.5)
    assert est.polarity == -1 and est.lag_samples == pytest.approx(1.5, abs=0.15) and est.gain < 0


def test_pre_whitened_correlation_also_finds_the_lag() -> None:
    est = measure_lag(*_pictures(2.37, noise=0.02), RATE, 0.5, differentiate=True)
    assert est.lag_samples == pytest.approx(2.37, abs=0.15)


def test_a_picture_that_does_not_follow_the_motion_is_not_reliable() -> None:
    t, _, reference_t, reference = _pictures(0.0)
    noise = np.random.default_rng(5).normal(size=len(t))
    est = measure_lag(t, noise, reference_t, reference, RATE, 0.5)
    assert not est.reliable and est.peak < 0.5
    drift = noise.cumsum()  # a random walk correlates with anything slow, but at no lag in particular
    est = measure_lag(t, drift, reference_t, reference, RATE, 0.5)
    assert not est.reliable and est.confidence < 0.25


def test_a_lag_beyond_the_search_range_is_flagged() -> None:
    est = measure_lag(*_pictures(12.0), RATE, 0.2)  # searched within +-6 frames
    assert est.at_edge and not est.reliable


def test_cross_correlation_signs_and_gaps() -> None:
    x = np.sin(np.linspace(0, 12, 200)) + np.linspace(0, 1, 200)
    lags, c = cross_correlation(x, x, 3)
    assert lags.tolist() == [-3, -2, -1, 0, 1, 2, 3] and c[3] == pytest.approx(1.0)
    delayed = np.concatenate([np.full(2, np.nan), x[:-2]])  # signal[j] = reference[j - 2]
    lags, c = cross_correlation(delayed, x, 3)
    assert lags[int(np.nanargmax(c))] == 2 and np.nanmax(c) == pytest.approx(1.0)
    assert np.isnan(cross_correlation(np.ones(20), x[:20], 2)[1]).all()  # a constant signal
    with pytest.raises(ValueError, match="one length"):
        cross_correlation(x, x[:-1], 2)
    with pytest.raises(ValueError, match="overlap"):
        estimate_lag(np.full(50, np.nan), x[:50], RATE, 0.1)


def test_resample_and_grid() -> None:
    grid = uniform_grid(1.0, 2.0, 10.0)
    assert len(grid) == 11 and grid[-1] == pytest.approx(2.0)
    t = np.array([1.05, 1.0, 1.5, 1.7, np.nan])
    v = np.array([0.5, 0.0, np.nan, 7.0, 3.0])
    out = resample(t, v, np.array([0.9, 1.0, 1.025, 1.4, 1.7, 1.8]))
    np.testing.assert_allclose(out[1:5], [0.0, 0.25, 4.0, 7.0])
    assert np.isnan(out[0]) and np.isnan(out[5])


def test_window_centroid_finds_the_bright_window() -> None:
    image = np.zeros((40, 100, 4), np.uint8)
    image[5:30, 50:71, :3] = 255  # columns 50..70: centroid 60
    assert window_centroid(image) == pytest.approx(60.0)
    azimuth = np.broadcast_to(np.linspace(-30, 30, 100), (40, 100)).copy()
    assert window_centroid(image, azimuth) == pytest.approx(float(azimuth[0, 50:71].mean()))
    azimuth[:, 65:] = np.nan  # pixels without an LED do not count
    assert window_centroid(image, azimuth) == pytest.approx(float(azimuth[0, 50:65].mean()))
    soft = image.copy()
    soft[5:30, 48:50, :3] = 128  # a symmetric soft edge keeps the centroid
    soft[5:30, 71:73, :3] = 128
    assert window_centroid(soft) == pytest.approx(60.0)
    assert math.isnan(window_centroid(np.full((40, 100, 4), 90, np.uint8)))  # no contrast, no window
    with pytest.raises(ValueError, match="does not match"):
        window_centroid(image, np.zeros((10, 10)))


def test_window_signal_subsamples_and_tolerates_a_dropped_row() -> None:
    image = np.zeros((1081, 1920, 4), np.uint8)
    image[100:900, 1200:1400, :3] = 250
    coordinate = np.broadcast_to(np.arange(1920, dtype=np.float64), (1081, 1920))
    signal = WindowSignal(coordinate)
    assert signal.step(1081, 1920) == 6
    assert signal(image) == pytest.approx(1299.5, abs=3.0)
    assert signal(image[:1080]) == pytest.approx(1299.5, abs=3.0)  # NDI sends an even height
    with pytest.raises(ValueError, match="does not match"):
        signal(image[:1000])


def test_proposal_cancels_the_latency_with_the_engine_convention() -> None:
    """delay_ms moves the sampling instant back (more latency), so cancelling L takes delay - L,
    and the hub needs to extrapolate that far past the newest sample."""
    assert proposed_delay(37.24) == (-37.2, 38.0)
    assert proposed_delay(37.0, delay_ms=-30.0, extrapolate_ms=35.0) == (-67.0, 67.0)
    assert proposed_delay(-10.0, delay_ms=5.0) == (15.0, 0.0)  # a picture ahead: delay more
    assert proposed_delay(500.0) == (-500.0, 200.0)  # the project's limit
