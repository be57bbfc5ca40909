"""Where LTC audio comes from: a sound device (``sounddevice`` / PortAudio), a WAV file replayed in
real time, or generated LTC (a simulated house generator). Each feeds an
:class:`~vpstage.timing.masters.LtcMaster` (decoder -> clock discipline) from a thread of its own,
with the host time of its samples (:class:`~vpstage.timing.masters.FittedTimeline` for a device,
:class:`~vpstage.timing.masters.FixedTimeline` for a replay).

Common interface: ``start()`` (raises :class:`AudioUnavailable` with what is missing, or
``OSError`` / :class:`~devices.timecode.wav.WavError` for a file), ``stop()``, ``running``,
``error`` (why it stopped, or None), ``describe`` (one line for the operator), ``report()``.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from devices.timecode.wav import WavReader
from vpstage.timing.ltc import LtcEncoder, ltc_rate
from vpstage.timing.masters import FittedTimeline, FixedTimeline, LtcMaster, SampleTimeline
from vpstage.timing.timecode import Timecode

log = logging.getLogger(__name__)

BLOCK_S = 0.01
"""Audio block length: 10 ms (480 samples at 48 kHz)."""
QUEUE_BLOCKS = 200
"""Blocks a device may get ahead of the decoder (2 s) before blocks are dropped (counted)."""

INSTALL_HINT = ("LTC from a sound device needs the 'sounddevice' package (pip install -e '.[audio]') "
                "and the PortAudio library (Debian/Ubuntu: apt-get install libportaudio2)")


class AudioUnavailable(RuntimeError):
    """The sound device input cannot work here; the message says what is missing."""


class LtcInput(Protocol):
    describe: str
    error: str | None

    @property
    def running(self) -> bool: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def report(self) -> dict[str, Any]: ...


def load_sounddevice() -> Any:
    """The ``sounddevice`` module, or AudioUnavailable saying what is missing."""
    try:
        import sounddevice
    except ImportError as exc:
        raise AudioUnavailable(f"{INSTALL_HINT} (import failed: {exc})") from exc
    except OSError as exc:  # sounddevice raises this when libportaudio cannot be loaded
        raise AudioUnavailable(f"{INSTALL_HINT} (PortAudio: {exc})") from exc
    return sounddevice


# ----------------------------------------------------------------------------- paced replay


class _Paced(abc.ABC):
    """Feeds blocks to the master on a thread, each when its last sample is due in real time:
    sample ``s`` is at ``t0 + s / fs`` on the monotonic clock (the timeline the master uses)."""

    def __init__(self, master: LtcMaster, sample_rate: float, describe: str,
                 clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.master, self.sample_rate, self.describe = master, float(sample_rate), describe
        self.clock = clock
        self.error: str | None = None
        self.finished = False
        self.timeline: FixedTimeline | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @abc.abstractmethod
    def _blocks(self) -> Iterator[npt.NDArray[np.float32]]:
        """The audio, in blocks (each source says where it comes from)."""

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        fed = self.master.decoder.samples  # a restart goes on counting samples where it stopped
        self.timeline = FixedTimeline(self.clock() - round(fed * 1e9 / self.sample_rate), self.sample_rate)
        self._thread = threading.Thread(target=self._run, args=(self._blocks(), self.timeline, fed),
                                        name="vpstage-ltc-replay", daemon=True)
        self._thread.start()

    def _run(self, blocks: Iterator[npt.NDArray[np.float32]], timeline: SampleTimeline, fed: int) -> None:
        try:
            for block in blocks:
                fed += len(block)
                due = timeline.host_ns(fed)
                wait = (due - self.clock()) / 1e9
                if wait > 0 and self._stop.wait(wait):
                    return
                if self._stop.is_set():
                    return
                self.master.feed(block, timeline)
            self.finished = True
        except Exception as exc:  # a file that goes away mid-replay: say so, do not kill the engine
            self.error = f"{self.describe}: {exc}"
            log.warning("LTC input stopped: %s", self.error)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    def report(self) -> dict[str, Any]:
        return {"input": self.describe, "error": self.error, "finished": self.finished, **self.master.report()}


class WavLtcReplay(_Paced):
    """A WAV file's LTC, replayed in real time (``loop``: from the top again at its end, the LTC
    labels jumping back as a real tape would)."""

    def __init__(self, path: str | Path, make_master: Callable[[float], LtcMaster], *, channel: int = 0,
                 loop: bool = False, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.path = Path(path)
        with WavReader(self.path) as wav:  # open now: a missing or bad file fails at once
            self.info = wav.info
        if not 0 <= channel < self.info.channels:
            raise ValueError(f"{self.path} has {self.info.channels} channel(s); there is no channel {channel}")
        self.channel, self.loop = channel, loop
        super().__init__(make_master(self.info.sample_rate), self.info.sample_rate,
                         f"LTC file {self.path.name} channel {channel}", clock)

    def _blocks(self) -> Iterator[npt.NDArray[np.float32]]:
        size = max(1, round(BLOCK_S * self.info.sample_rate))
        while True:
            with WavReader(self.path) as wav:
                yield from wav.blocks(size, self.channel)
            if not self.loop:
                return


class SimulatedLtc(_Paced):
    """A simulated house generator: LTC from ``start`` (at the stage ``rate``; frame pairs at 48
    to 60) running ``drift_ppm`` fast against this host's clock, generated as audio and decoded
    like a real input. ``dropouts``: (from_s, to_s) spans of silence."""

    def __init__(self, rate: Fraction, start: Timecode, make_master: Callable[[float], LtcMaster], *,
                 sample_rate: int = 48000, drift_ppm: float = 0.0, dropouts: tuple[tuple[float, float], ...] = (),
                 clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.fps, per_frame = ltc_rate(rate)
        first = Timecode.from_count(start.to_count() // per_frame, self.fps, start.drop_frame)
        self.first, self.dropouts = first, dropouts
        self.encoder = LtcEncoder(sample_rate, self.fps, speed=1.0 + drift_ppm * 1e-6)
        super().__init__(make_master(sample_rate), sample_rate,
                         f"simulated LTC {self.fps} fps {drift_ppm:+g} ppm", clock)

    def _blocks(self) -> Iterator[npt.NDArray[np.float32]]:
        count, chunk = self.first.to_count(), 4  # frames rendered at a time
        size = max(1, round(BLOCK_S * self.sample_rate))
        done = 0
        while True:
            audio = self.encoder.encode_timecodes(Timecode.from_count(count, self.fps, self.first.drop_frame), chunk)
            count += chunk
            t = (done + np.arange(len(audio))) / self.sample_rate
            for lo, hi in self.dropouts:
                audio[(t >= lo) & (t < hi)] = 0.0
            done += len(audio)
            for i in range(0, len(audio), size):
                yield audio[i:i + size]


# ----------------------------------------------------------------------------- sound device


class AudioLtcInput:
    """LTC from a sound device's input ``channel`` through PortAudio (``sounddevice``), 10 ms
    blocks. The callback only copies the channel and the block's host time (ADC time from
    PortAudio's timing info) into a bounded queue; a thread decodes. ``sounddevice`` may be
    given (tests use a double); otherwise it is imported at ``start``."""

    def __init__(self, make_master: Callable[[float], LtcMaster], *, device: str | int | None = None,
                 channel: int = 0, sample_rate: int = 48000, sounddevice: Any = None,
                 clock: Callable[[], int] = time.monotonic_ns) -> None:
        if channel < 0:
            raise ValueError("the channel is zero-based and not negative")
        self.device, self.channel, self.sample_rate = device, channel, int(sample_rate)
        self.master = make_master(self.sample_rate)
        self.timeline = FittedTimeline(self.sample_rate)
        self.clock = clock
        self._sd = sounddevice
        name = "the default input" if device is None else repr(device)
        self.describe = f"LTC on {name} channel {channel} at {self.sample_rate} Hz"
        self.error: str | None = None
        self.blocks = self.overflows = self.dropped = 0
        self._queue: queue.Queue[tuple[npt.NDArray[np.float32], int]] = queue.Queue(QUEUE_BLOCKS)
        self._stream: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._samples = 0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        sd = self._sd if self._sd is not None else load_sounddevice()
        while not self._queue.empty():  # blocks from before a stop: their times are stale
            self._queue.get_nowait()
        try:
            stream = sd.InputStream(device=self.device, channels=self.channel + 1, samplerate=self.sample_rate,
                                    dtype="float32", blocksize=max(1, round(BLOCK_S * self.sample_rate)),
                                    callback=self._callback)
            stream.start()
        except Exception as exc:  # PortAudioError, ValueError (no such device), ...
            raise AudioUnavailable(f"cannot open {self.describe}: {exc}") from exc
        self._stream = stream
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="vpstage-ltc-audio", daemon=True)
        self._thread.start()

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        now = self.clock()
        lag = frames / self.sample_rate  # without timing info: the block just completed
        with contextlib.suppress(AttributeError, TypeError, ValueError):
            measured = float(time_info.currentTime) - float(time_info.inputBufferAdcTime)
            if 0.0 <= measured < 1.0 and float(time_info.inputBufferAdcTime) > 0.0:
                lag = measured
        if status and getattr(status, "input_overflow", False):
            self.overflows += 1
        try:
            self._queue.put_nowait((np.array(indata[:, self.channel], dtype=np.float32), now - round(lag * 1e9)))
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    block, first_ns = self._queue.get(timeout=0.1)
                except queue.Empty:
                    continue
                self.timeline.observe(self._samples, first_ns)
                self._samples += len(block)
                self.blocks += 1
                self.master.feed(block, self.timeline)
        except Exception as exc:
            self.error = f"{self.describe}: {exc}"
            log.warning("LTC input stopped: %s", self.error)

    def stop(self) -> None:
        self._stop.set()
        if self._stream is not None:
            with contextlib.suppress(Exception):
                self._stream.stop()
                self._stream.close()
            self._stream = None
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    def report(self) -> dict[str, Any]:
        measured = self.timeline.sample_rate_measured
        return {"input": self.describe, "error": self.error, "blocks": self.blocks, "overflows": self.overflows,
                "dropped_blocks": self.dropped, "timeline_resets": self.timeline.resets,
                "sample_rate_measured": None if measured is None else round(measured, 3), **self.master.report()}

