"""GPU telemetry through NVML (nvidia-ml-py, module ``pynvml``).

:class:`NvmlTelemetry` reads, per GPU: utilization, memory, temperature, power and its limit,
clocks and the active clock-throttle reasons. Without an NVIDIA driver (no GPU, or a CPU-only
rehearsal machine) it is in a clear *no-GPU* state: ``available`` is False, ``reason`` says why,
and ``sample`` returns an empty list. :class:`GpuMonitor` samples on a thread of its own and
publishes each reading as an event (on that thread) and in bounded ring buffers.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from psygnal import Signal

# Throttle-reason bits (NVML's nvmlClocksThrottleReason*) in the order they are reported.
_THROTTLE_NAMES = (
    ("GpuIdle", "idle"),
    ("ApplicationsClocksSetting", "application clocks"),
    ("SwPowerCap", "power cap"),
    ("HwSlowdown", "hardware slowdown"),
    ("SyncBoost", "sync boost"),
    ("SwThermalSlowdown", "software thermal"),
    ("HwThermalSlowdown", "hardware thermal"),
    ("HwPowerBrakeSlowdown", "power brake"),
    ("DisplayClockSetting", "display clock"),
)


def throttle_reason_names(mask: int, nvml: Any) -> tuple[str, ...]:
    """Names of the throttle reasons set in ``mask`` (NVML bitmask)."""
    names = []
    for suffix, label in _THROTTLE_NAMES:
        bit = getattr(nvml, f"nvmlClocksThrottleReason{suffix}", 0)
        if bit and mask & bit:
            names.append(label)
    return tuple(names)


@dataclass(frozen=True, kw_only=True)
class GpuSample:
    index: int
    name: str
    uuid: str
    time_ns: int
    """Monotonic time of the reading."""
    utilization_pct: float
    memory_utilization_pct: float
    memory_used_mib: float
    memory_total_mib: float
    temperature_c: float
    power_w: float
    power_limit_w: float
    graphics_clock_mhz: int
    sm_clock_mhz: int
    memory_clock_mhz: int
    throttle_reasons: tuple[str, ...]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class NvmlTelemetry:
    """NVML readings for every GPU of this machine (thread-safe after ``open``)."""

    def __init__(self) -> None:
        self.available = False
        self.reason = "not opened"
        self._nvml: ModuleType | None = None
        self._handles: list[Any] = []
        self._lock = threading.Lock()

    def open(self) -> bool:
        """Start NVML; False (with ``reason``) when there is no usable NVIDIA driver or GPU."""
        try:
            import pynvml
        except ImportError as exc:
            self.reason = f"nvidia-ml-py is not installed ({exc})"
            return False
        try:
            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except pynvml.NVMLError as exc:
            self.reason = f"no GPU telemetry: NVML is unavailable ({exc})"
            return False
        self._nvml = pynvml
        if not self._handles:
            self.reason = "no GPU telemetry: NVML found no GPU"
            return False
        self.available, self.reason = True, f"{len(self._handles)} GPU(s)"
        return True

    def sample(self) -> list[GpuSample]:
        """One reading per GPU; empty in the no-GPU state."""
        if not self.available or self._nvml is None:
            return []
        with self._lock:
            return [self._read(i, handle) for i, handle in enumerate(self._handles)]

    def _read(self, index: int, handle: Any) -> GpuSample:
        nvml = self._nvml
        assert nvml is not None
        util = nvml.nvmlDeviceGetUtilizationRates(handle)
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        mask = nvml.nvmlDeviceGetCurrentClocksThrottleReasons(handle)
        clock = nvml.nvmlDeviceGetClockInfo
        return GpuSample(index=index, name=_text(nvml.nvmlDeviceGetName(handle)),
                         uuid=_text(nvml.nvmlDeviceGetUUID(handle)), time_ns=time.monotonic_ns(),
                         utilization_pct=float(util.gpu), memory_utilization_pct=float(util.memory),
                         memory_used_mib=memory.used / 2**20, memory_total_mib=memory.total / 2**20,
                         temperature_c=float(nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)),
                         power_w=nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0,
                         power_limit_w=nvml.nvmlDeviceGetEnforcedPowerLimit(handle) / 1000.0,
                         graphics_clock_mhz=int(clock(handle, nvml.NVML_CLOCK_GRAPHICS)),
                         sm_clock_mhz=int(clock(handle, nvml.NVML_CLOCK_SM)),
                         memory_clock_mhz=int(clock(handle, nvml.NVML_CLOCK_MEM)),
                         throttle_reasons=throttle_reason_names(int(mask), nvml))

    def close(self) -> None:
        if self._nvml is not None:
            self._nvml.nvmlShutdown()
            self._nvml = None
        self.available = False


class GpuMonitor:
    """Samples NVML every ``period_s`` on its own thread ('vpstage-nvml').

    ``sampled`` fires on that thread with the list of GpuSamples; ``history(index)`` returns the
    last ``capacity`` samples of one GPU. In the no-GPU state the thread is not started and
    ``telemetry.reason`` explains why.
    """

    sampled = Signal(object)

    def __init__(self, period_s: float = 0.5, capacity: int = 600,
                 telemetry_factory: Callable[[], NvmlTelemetry] = NvmlTelemetry) -> None:
        self.telemetry = telemetry_factory()
        self.period_s = period_s
        self._history: dict[int, deque[GpuSample]] = {}
        self._capacity = capacity
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> bool:
        """True when sampling runs; False in the no-GPU state."""
        if not self.telemetry.open():
            return False
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="vpstage-nvml", daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            samples = self.telemetry.sample()
            with self._lock:
                for s in samples:
                    self._history.setdefault(s.index, deque(maxlen=self._capacity)).append(s)
            self.sampled.emit(samples)

    def history(self, index: int) -> list[GpuSample]:
        with self._lock:
            return list(self._history.get(index, ()))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        self.telemetry.close()
