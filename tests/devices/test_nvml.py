"""GPU telemetry: the no-GPU state on this machine, and throttle-reason decoding."""

from __future__ import annotations

import pytest

from devices.telemetry import GpuMonitor, NvmlTelemetry, throttle_reason_names

pynvml = pytest.importorskip("pynvml", reason="nvidia-ml-py is not installed")


def nvml_works() -> bool:
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return False
    pynvml.nvmlShutdown()
    return True


@pytest.mark.skipif(nvml_works(), reason="this machine has a working NVIDIA driver")
def test_no_gpu_state_is_clear() -> None:
    telemetry = NvmlTelemetry()
    assert not telemetry.open()
    assert not telemetry.available and "NVML is unavailable" in telemetry.reason
    assert telemetry.sample() == []
    monitor = GpuMonitor()
    assert not monitor.start() and "no GPU telemetry" in monitor.telemetry.reason
    monitor.stop()
    assert monitor.history(0) == []


@pytest.mark.skipif(not nvml_works(), reason="no NVIDIA driver / GPU on this machine")
def test_samples_every_gpu() -> None:
    telemetry = NvmlTelemetry()
    assert telemetry.open()
    samples = telemetry.sample()
    telemetry.close()
    assert samples and all(s.memory_total_mib > 0 and 0 <= s.utilization_pct <= 100 for s in samples)


def test_throttle_reasons_decode() -> None:
    mask = pynvml.nvmlClocksThrottleReasonSwPowerCap | pynvml.nvmlClocksThrottleReasonHwThermalSlowdown
    assert throttle_reason_names(mask, pynvml) == ("power cap", "hardware thermal")
    assert throttle_reason_names(0, pynvml) == ()
