"""The project's timecode master, put together: a :class:`~vpstage.timing.ClockDiscipline` for the
frame clock and what feeds it (an LTC input, or the tracker's samples).

``TimecodeRig(project, base_dir, master=..., ltc_file=..., ltc_simulate_ppm=...)`` checks the
settings against the project (``ValueError`` with an operator's message: a tracker master on a
FreeD or OSC source, a camera that does not exist, a missing WAV file, a rate LTC cannot carry),
``attach(clock, tracking_hub)`` hands the discipline to the clock and subscribes to the tracker,
``start()`` opens the LTC input (a failure becomes the discipline's ``TIMECODE INPUT FAILED``
alarm and is returned, the clock runs free), ``stop()``, ``status()``, ``report()``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from devices.timecode.inputs import AudioLtcInput, AudioUnavailable, LtcInput, SimulatedLtc, WavLtcReplay
from devices.timecode.wav import WavError
from vpstage.stage.model import Project, TimecodeSettings
from vpstage.timing.discipline import ClockDiscipline, DisciplineSettings, LockStatus, internal_status
from vpstage.timing.ltc import ltc_rate
from vpstage.timing.masters import LtcMaster, TrackerTimecodeMaster
from vpstage.timing.timecode import Timecode, default_drop_frame

log = logging.getLogger(__name__)

Master = Literal["internal", "ltc", "tracker"]
TIMECODE_PROTOCOLS = ("opentrackio",)
"""Tracking protocols whose samples carry timecode (FreeD has no field for it; the OSC presets
send none)."""


class TimecodeRig:
    """See the module notes. ``master`` / ``ltc_file`` / ``ltc_simulate_ppm`` override the project
    (a run's options): ``ltc_file`` or ``ltc_simulate_ppm`` alone imply ``master="ltc"``."""

    def __init__(self, project: Project, base_dir: Path, *, master: Master | None = None,
                 ltc_file: str | Path | None = None, ltc_simulate_ppm: float | None = None,
                 tracking_project: Project | None = None, sounddevice: Any = None,
                 clock: Callable[[], int] = time.monotonic_ns) -> None:
        settings: TimecodeSettings = project.timecode
        if master is None:
            master = "ltc" if (ltc_file is not None or ltc_simulate_ppm is not None) else settings.master
        self.master: Master = master
        self.rate = Fraction(project.frame_rate)
        self.discipline: ClockDiscipline | None = None
        self.input: LtcInput | None = None
        self.tracker: TrackerTimecodeMaster | None = None
        self.error: str | None = None
        self._clock_fn = clock
        self._clock: Any = None
        if master == "internal":
            return
        loop = DisciplineSettings(loop_bandwidth_hz=settings.loop_bandwidth_hz,
                                  lock_tolerance_us=settings.lock_tolerance_us, holdover_ms=settings.holdover_ms,
                                  offset_ms=settings.offset_ms)
        if master == "tracker":
            camera = self._tracker_camera(project, tracking_project or project, settings)
            self.discipline = ClockDiscipline(self.rate, "tracker", f"the tracker of camera {camera}", loop,
                                              prefilter="minimum")
            self.tracker = TrackerTimecodeMaster(sink=self.discipline, rate=self.rate, camera=camera)
            return
        try:
            ltc_rate(self.rate)
        except ValueError as exc:
            raise ValueError(f"timecode.master ltc: {exc}") from exc
        self.discipline = ClockDiscipline(self.rate, "ltc", "LTC", loop)
        self.input = self._ltc_input(settings, base_dir, ltc_file, ltc_simulate_ppm, sounddevice)
        self.discipline.source = self.input.describe

    # ------------------------------------------------------------------ building

    @staticmethod
    def _tracker_camera(project: Project, tracking: Project, settings: TimecodeSettings) -> str:
        if not project.cameras:
            raise ValueError("timecode.master tracker: the project has no camera")
        name = settings.tracker_camera or project.cameras[0].name
        camera = next((c for c in tracking.cameras if c.name == name), None)
        if camera is None:
            raise ValueError(f"timecode.tracker_camera: no camera {name!r}")
        source = next((s for s in tracking.tracking if s.name == camera.tracker), None)
        if source is None:
            raise ValueError(f"timecode.master tracker: camera {name!r} has no tracking source")
        if source.protocol not in TIMECODE_PROTOCOLS:
            raise ValueError(f"timecode.master tracker: camera {name!r} is tracked over {source.protocol}, which "
                             "carries no timecode; use an OpenTrackIO source, or LTC (timecode.master: ltc)")
        return name

    def _ltc_input(self, settings: TimecodeSettings, base_dir: Path, ltc_file: str | Path | None,
                   simulate_ppm: float | None, sounddevice: Any) -> LtcInput:
        make = self._make_master
        if simulate_ppm is not None:
            start = Timecode.parse("01:00:00:00", self.rate, default_drop_frame(self.rate))
            return SimulatedLtc(self.rate, start, make, drift_ppm=simulate_ppm, clock=self._clock_fn)
        ltc = settings.ltc
        path = ltc_file if ltc_file is not None else ltc.file
        if path is not None:
            resolved = Path(path).expanduser()
            if not resolved.is_absolute():
                resolved = base_dir / resolved
            try:
                return WavLtcReplay(resolved, make, channel=ltc.channel, clock=self._clock_fn)
            except (OSError, WavError) as exc:
                raise ValueError(f"timecode.ltc.file: {exc}") from exc
        return AudioLtcInput(make, device=ltc.device, channel=ltc.channel, sample_rate=ltc.sample_rate,
                             sounddevice=sounddevice, clock=self._clock_fn)

    def _make_master(self, sample_rate: float) -> LtcMaster:
        return LtcMaster(self.discipline, self.rate, sample_rate)

    # ------------------------------------------------------------------ running

    def attach(self, clock: Any, tracking_hub: Any = None) -> None:
        """Give ``clock`` (a FrameClock) the discipline; subscribe to ``tracking_hub``'s samples for
        a tracker master."""
        self._clock = clock
        if self.discipline is not None:
            clock.attach(self.discipline)
        if self.tracker is not None and tracking_hub is not None:
            tracking_hub.sample_received.connect(self.tracker.offer)

    def start(self) -> str | None:
        """Open the LTC input (nothing to do for other masters); its error, or None."""
        if self.input is None or self.input.running:
            return None
        try:
            self.input.start()
        except (AudioUnavailable, OSError, WavError, ValueError) as exc:
            self.error = str(exc)
            log.warning("timecode master: %s; the frame clock runs free", self.error)
            if self.discipline is not None:
                self.discipline.set_fault(self.error)
            return self.error
        self.error = None
        if self.discipline is not None:
            self.discipline.set_fault(None)
        return None

    def stop(self) -> None:
        if self.input is not None:
            self.input.stop()

    def status(self) -> LockStatus:
        if self.discipline is None:
            return internal_status()
        now = self._clock.now_ns() if self._clock is not None else self._clock_fn()
        return self.discipline.status(now)

    def report(self) -> dict[str, Any]:
        out = self.status().to_dict()
        if self.input is not None:
            out["input"] = self.input.report()
        if self.tracker is not None:
            out["tracker"] = self.tracker.report()
        return out
