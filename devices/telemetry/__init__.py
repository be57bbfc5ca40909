"""Telemetry of the render machines: GPU state through NVML."""

from devices.telemetry.nvml import GpuMonitor, GpuSample, NvmlTelemetry, throttle_reason_names

__all__ = ["GpuMonitor", "GpuSample", "NvmlTelemetry", "throttle_reason_names"]
