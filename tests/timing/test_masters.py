"""Timecode masters: the tracker's timecode from simulated OpenTrackIO samples (real packets,
decoded by the receiver's decoder) disciplining the clock; LTC audio through LtcMaster; host time
of sound-card samples; the sound-device input with a stand-in for ``sounddevice``; the rig's
checks (FreeD carries no timecode)."""

from __future__ import annotations

import sys
import types
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from devices.timecode import AudioLtcInput, AudioUnavailable, SimulatedLtc, load_sounddevice
from devices.timecode.master import TimecodeRig
from devices.tracking.decoders import OpenTrackIODecoder
from tests.timing.ltc_audio import ltc_audio, studio_line
from tests.timing.master_sim import MasterSim, window
from tests.waiting import wait_for
from vpstage.protocols import opentrackio
from vpstage.stage import Stage
from vpstage.stage.model import TimecodeSettings
from vpstage.timing import (
    ClockDiscipline,
    DisciplineSettings,
    FittedTimeline,
    FixedTimeline,
    LtcMaster,
    Timecode,
    TrackerTimecodeMaster,
)
from vpstage.tracking.sample import CameraSample

DEMO = Path(__file__).resolve().parents[2] / "configs" / "stages" / "demo.yaml"


def otio_sample(tc: Timecode, arrival_ns: int, sequence: int, sub_frame: int = 0) -> CameraSample:
    """A tracker's sample labelled ``tc``, through OpenTrackIO packets and the receiver's decoder."""
    sent = CameraSample(protocol="opentrackio", source="tracker", camera_id=1, arrival_ns=0, x_m=1.0, y_m=2.0, z_m=1.5,
                        pan_deg=10.0, tilt_deg=-3.0, roll_deg=0.0, sequence=sequence,
                        timecode=Timecode(hours=tc.hours, minutes=tc.minutes, seconds=tc.seconds,
                                            frames=tc.frames, rate=tc.rate, drop_frame=tc.drop_frame,
                                            sub_frame=sub_frame), sample_rate=tc.rate * 2)
    decoder = OpenTrackIODecoder()
    samples = []
    for packet in opentrackio.write_sample_packets(sent, sequence):
        samples += decoder.decode(packet, ("127.0.0.1", 55555), arrival_ns).samples
    assert len(samples) == 1 and samples[0].timecode is not None
    return samples[0]


@pytest.mark.parametrize(("rate", "tc_rate", "drop"), [(Fraction(25), Fraction(25), False),
                                                       (Fraction(60000, 1001), Fraction(30000, 1001), True)])
def test_tracker_timecode_locks_the_clock(rate: Fraction, tc_rate: Fraction, drop: bool) -> None:
    """A tracker at twice its timecode rate (subFrame 0 and 1), 3 ms late over a jittery network
    (plus an exponential delay, mean 0.3 ms), its house clock 60 ppm fast; ``offset_ms`` 3 takes
    the constant latency out, the earliest-of-eight prefilter the jitter."""
    rng = np.random.default_rng(2)
    sequence = [0]
    masters: dict[int, TrackerTimecodeMaster] = {}
    per_label = int(rate / tc_rate)

    def deliver(discipline: ClockDiscipline, count: int, at: int, label: str) -> None:
        master = masters.setdefault(id(discipline), TrackerTimecodeMaster(sink=discipline, rate=rate, camera="A"))
        tc = Timecode.from_count(count // per_label, tc_rate, drop)
        period = 1e9 / float(tc_rate)
        for sub in (0, 1):  # two samples per timecode frame
            arrival = int(at + sub * period / 2 + 3e6 + rng.exponential(300e3))
            sequence[0] += 1
            master.offer("A", otio_sample(tc, arrival, sequence[0], sub))
        master.offer("B", otio_sample(tc, at, 0))  # another camera: ignored

    sim = MasterSim(rate=rate, ppm=-60.0, jitter_us=0.0, drop_frame=drop, per_label=per_label, deliver=deliver,
                    start_label="09:59:50;00" if drop else "09:59:50:00", settings=DisciplineSettings(offset_ms=3.0),
                    prefilter="minimum")  # as TimecodeRig sets it for a tracker
    rows, _, clock, alarms = sim.run(20.0)
    assert [r.state for r in window(rows, 2, 20)] == ["locked"] * len(window(rows, 2, 20))
    errors = np.array([r.error_ns for r in window(rows, 8, 20)])
    # the earliest arrivals carry the phase: within 0.1 ms of the tracker's frames (the network's
    # median delay beyond offset_ms, 0.2 ms, does not show)
    assert np.abs(errors).max() < 100e3
    assert rows[-1].label[:8] == "10:00:10" or rows[-1].label[:8] == "10:00:09"
    assert rows[-1].rate_ppm == pytest.approx(-60, abs=8)  # network jitter: the rate wanders more than on LTC
    assert clock.drop_frame == drop
    master = next(iter(masters.values()))
    report = master.report()
    assert report["used"] > 0 and report["repeated"] == report["used"]  # subFrame 1 left out
    assert alarms == []


def test_tracker_samples_without_or_at_another_rate_say_why() -> None:
    discipline = ClockDiscipline(Fraction(24), "tracker", "the tracker of camera A")
    master = TrackerTimecodeMaster(sink=discipline, rate=Fraction(24), camera="A")
    master.offer("A", otio_sample(Timecode.parse("01:00:00:00", 25), 1, 1))
    assert master.other_rate == 1 and discipline._hint is not None and "25" in discipline._hint
    plain = CameraSample(protocol="freed", source="tracker", camera_id=1, arrival_ns=5, x_m=0, y_m=0, z_m=0, pan_deg=0,
                         tilt_deg=0, roll_deg=0)
    master.offer("A", plain)
    assert master.without_timecode == 1 and "no timecode" in (discipline._hint or "")


def test_ltc_master_observes_each_frame_at_its_host_time() -> None:
    """LTC at 25 fps for a 50 fps stage (frame pairs), replayed from host time t0."""
    got: list[tuple[int, int, str, bool | None]] = []

    class Sink:
        def observe(self, count: int, at_ns: int, label: str = "", drop_frame: bool | None = None) -> None:
            got.append((count, at_ns, label, drop_frame))

        def set_hint(self, hint: str | None) -> None:
            pass

    first = Timecode.parse("10:00:00:00", 25)
    audio, encoder = ltc_audio(first, 30)
    master = LtcMaster(Sink(), Fraction(50), 48000)
    timeline = FixedTimeline(5 * 10**9, 48000)
    for i in range(0, len(audio), 480):
        master.feed(audio[i:i + 480], timeline)
    assert len(got) >= 28
    for count, at_ns, label, drop in got:
        k = (count - 2 * first.to_count()) // 2
        assert count % 2 == 0 and drop is False
        assert abs(at_ns - timeline.host_ns(encoder.frame_start(k))) < 20_000  # 20 us
        assert label == str(Timecode.from_count(count, Fraction(50)))
    assert master.report()["frames"] == len(got)


def test_simulated_ltc_generator_drifts_and_drops_out_as_told() -> None:
    """The rehearsal's house generator: LTC at 25 for a 50 fps stage, 100 ppm fast, silent from
    1 s to 2 s. A clock far ahead lets it run without waiting."""
    got: list[tuple[int, int]] = []

    class Sink:
        def observe(self, count: int, at_ns: int, label: str = "", drop_frame: bool | None = None) -> None:
            got.append((count, at_ns))

        def set_hint(self, hint: str | None) -> None:
            pass

    readings = iter([10**9])  # the timeline's origin; every later reading is far ahead: nothing waits
    clock = lambda: next(readings, 10**15)
    generator = SimulatedLtc(Fraction(50), Timecode.parse("01:00:00:00", 50), lambda fs: LtcMaster(Sink(), Fraction(50),
                             fs), drift_ppm=100.0, dropouts=((1.0, 2.0),), clock=clock)
    generator.start()
    try:
        assert wait_for(lambda: len(got) > 60, 10.0)
    finally:
        generator.stop()
    first = 2 * Timecode.parse("01:00:00:00", 25).to_count()
    counts = [c for c, _ in got]
    assert all(c % 2 == 0 for c in counts) and counts[0] - first <= 4
    ks = np.array([(c - first) // 2 for c, _ in got])
    at = np.array([a for _, a in got], dtype=np.float64)
    slope = np.polyfit(ks, at, 1)[0]
    assert slope == pytest.approx(40e6 / (1 + 100e-6), abs=20)  # 100 ppm short periods, to 0.5 ppm
    assert not any(1.0 <= (a - 1e9) / 1e9 < 1.95 for a in at)  # the dropout


def test_fitted_timeline_takes_out_the_cards_clock_and_the_callback_jitter() -> None:
    """A card 50 ppm fast against the host, callbacks up to 2 ms late: host times of samples to
    within 0.15 ms and the card's rate to 2 ppm once the line has 20 s."""
    rng = np.random.default_rng(4)
    timeline = FittedTimeline(48000)
    card = 48000 * (1 + 50e-6)
    t0 = 10**12
    for block in range(2000):  # 20 s of 10 ms blocks
        first = block * 480
        timeline.observe(first, int(t0 + first / card * 1e9 + rng.uniform(0, 2e6)))
    for block in (1000, 1999):
        truth = t0 + block * 480 / card * 1e9
        assert 0 <= timeline.host_ns(block * 480) - truth < 150e3
    measured = timeline.sample_rate_measured
    assert measured is not None and measured == pytest.approx(card, rel=2e-6)
    timeline.observe(2000 * 480, int(t0 + 25e9))  # samples lost: a block 5 s later than the line says
    assert timeline.resets == 1


class FakeTimeInfo:
    def __init__(self, current: float, adc: float) -> None:
        self.currentTime, self.inputBufferAdcTime = current, adc


class FakeSoundDevice:
    """Stands in for ``sounddevice``: records the stream's settings; the test calls its callback."""

    def __init__(self) -> None:
        self.streams: list[FakeSoundDevice.InputStream] = []
        outer = self

        class InputStream:
            def __init__(self, **kwargs: Any) -> None:
                self.kwargs = kwargs
                self.callback = kwargs["callback"]
                self.started = self.closed = False
                outer.streams.append(self)

            def start(self) -> None:
                self.started = True

            def stop(self) -> None:
                self.started = False

            def close(self) -> None:
                self.closed = True

        self.InputStream = InputStream


def test_audio_input_decodes_the_channel_and_dates_blocks_by_adc_time() -> None:
    sd = FakeSoundDevice()
    got: list[tuple[int, int]] = []

    class Sink:
        def observe(self, count: int, at_ns: int, label: str = "", drop_frame: bool | None = None) -> None:
            got.append((count, at_ns))

        def set_hint(self, hint: str | None) -> None:
            pass

    host = [10**12]
    source = AudioLtcInput(lambda fs: LtcMaster(Sink(), Fraction(25), fs), device="Scarlett", channel=1,
                           sample_rate=48000, sounddevice=sd, clock=lambda: host[0])
    source.start()
    try:
        stream = sd.streams[0]
        assert stream.started and stream.kwargs["channels"] == 2 and stream.kwargs["device"] == "Scarlett"
        first = Timecode.parse("01:00:00:00", 25)
        ltc, encoder = ltc_audio(first, 50)
        ltc = studio_line(ltc, 48000, snr_db=30, step_at=None, gain=(1.0, 1.0))
        block = stream.kwargs["blocksize"]
        adc0 = 5.0  # PortAudio stream time of sample 0
        for i in range(0, len(ltc) - block, block):
            data = np.zeros((block, 2), dtype=np.float32)
            data[:, 0] = 0.3  # another signal on channel 0
            data[:, 1] = ltc[i:i + block]
            adc = adc0 + i / 48000
            current = adc + block / 48000 + 0.004  # the callback comes 4 ms after the block's end
            host[0] = 10**12 + round((current - adc0) * 1e9)  # host clock of that moment
            stream.callback(data, block, FakeTimeInfo(current, adc), None)
        assert wait_for(lambda: len(got) >= 45, 10.0)
    finally:
        source.stop()
    assert sd.streams[0].closed
    for count, at_ns in got:
        k = count - first.to_count()
        assert abs(at_ns - (10**12 + encoder.frame_start(k) / 48000 * 1e9)) < 50_000
    report = source.report()
    assert report["blocks"] > 100 and report["dropped_blocks"] == 0 and report["frames"] == len(got)


def test_without_sounddevice_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails as when not installed
    with pytest.raises(AudioUnavailable, match=r"pip install -e '\.\[audio\]'.*libportaudio2"):
        load_sounddevice()


def test_a_device_that_will_not_open_is_an_alarm_not_a_crash() -> None:
    broken = types.SimpleNamespace(InputStream=lambda **kw: (_ for _ in ()).throw(ValueError("No input device")))
    stage = Stage.open(DEMO)
    project = stage.project.model_copy(update={"timecode": TimecodeSettings(master="ltc")})
    rig = TimecodeRig(project, stage.layout.base_dir, sounddevice=broken)
    error = rig.start()
    assert error is not None and "No input device" in error
    status = rig.status()
    assert status.alarm is not None and status.alarm.startswith("TIMECODE INPUT FAILED") and not status.locked


def test_the_rig_refuses_a_tracker_master_on_freed() -> None:
    stage = Stage.open(DEMO)  # camera A on a FreeD source
    project = stage.project.model_copy(update={"timecode": TimecodeSettings(master="tracker")})
    with pytest.raises(ValueError, match="freed, which carries no timecode"):
        TimecodeRig(project, stage.layout.base_dir)
    with pytest.raises(ValueError, match="no camera 'Z'"):
        TimecodeRig(project.model_copy(update={"timecode": TimecodeSettings(master="tracker", tracker_camera="Z")}),
                    stage.layout.base_dir)
    opentrackio_project = project.model_copy(deep=True)
    opentrackio_project.tracking[0].protocol = "opentrackio"
    rig = TimecodeRig(opentrackio_project, stage.layout.base_dir)
    assert rig.tracker is not None and rig.tracker.camera == "A"
    assert TimecodeRig(stage.project, stage.layout.base_dir).status().display == "TC INT"
    with pytest.raises(ValueError, match=r"timecode\.ltc\.file"):
        TimecodeRig(stage.project, stage.layout.base_dir, ltc_file="missing.wav")
