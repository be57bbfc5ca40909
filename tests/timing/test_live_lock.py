"""The live engine locked to a timecode master: LTC from a WAV file replayed in real time, and the
OpenTrackIO timecode of the rehearsal's simulated tracker (real packets on loopback). Render nodes
on threads, no scene engine, no outputs; waits are bounded waits on conditions."""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path

import pytest

from live import LiveEngine, LiveOptions
from tests.timing.ltc_audio import labels, ltc_audio
from tests.waiting import wait_for
from vpstage.frame_master import FrameStats
from vpstage.stage import Stage
from vpstage.stage.model import TimecodeSettings
from vpstage.stage.scaling import scaled_stage
from vpstage.timing import Timecode
from vpstage.tracking.sample import CameraSample

DEMO = Path(__file__).resolve().parents[2] / "configs" / "stages" / "demo.yaml"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Stage:
    return scaled_stage(Stage.open(DEMO), 8, tmp_path_factory.mktemp("demo8"))


def quiet(**kwargs: object) -> LiveOptions:
    return LiveOptions(outputs="none", scene_renderer=None, gpu_telemetry=False, cluster="threads", videohub=False,
                       **kwargs)  # type: ignore[arg-type]


def test_a_run_locks_to_ltc_replayed_from_a_wav(small: Stage, tmp_path: Path) -> None:
    rate = Fraction(small.project.frame_rate)
    assert rate == 30
    first = Timecode.parse("10:00:00:00", rate)
    seconds = 4
    audio, encoder = ltc_audio(first, seconds * 30)
    wav = tmp_path / "house.wav"
    from devices.timecode.wav import write_wav

    write_wav(wav, audio, 48000)
    engine = LiveEngine(small, quiet(ltc_file=str(wav)))
    presented: list[FrameStats] = []
    alarms: list[str] = []
    engine.loop.events.frame_presented.connect(presented.append)
    engine.events.timecode_alarm.connect(alarms.append)
    assert engine.timecode_lock.state == "free"
    try:
        engine.start()
        assert wait_for(lambda: engine.timecode_lock.locked, 15.0), engine.timecode_lock
        locked = engine.timecode_lock
        assert locked.display.startswith("TC LOCK LTC")
        assert locked.phase_error_us is not None and abs(locked.phase_error_us) < 100
        mark = len(presented)
        assert wait_for(lambda: len(presented) > mark + 15, 10.0)
        # the LTC runs out: the clock holds its rate and says so
        assert wait_for(lambda: engine.timecode_lock.state == "holdover", 15.0)
        assert wait_for(lambda: any(a.startswith("TIMECODE LOST") for a in alarms), 5.0)
        report = engine.report()
    finally:
        engine.close()
    replay = engine.timecode.input
    assert replay is not None and replay.timeline is not None  # type: ignore[attr-defined]
    origin = replay.timeline.host_ns(encoder.frame_start(0))  # type: ignore[attr-defined]
    expected = labels(first, seconds * 30)
    period = 1e9 / 30
    for stats in presented[mark:mark + 15]:
        k = (stats.time_ns - origin) / period
        assert abs(k - round(k)) < 0.01  # the wall's frame instants are the LTC's
        assert stats.timecode == expected[round(k)]  # and so are its labels
    block = report["timecode"]
    assert block["master"] == "ltc" and block["observations"] >= 30 and block["jumps"] == 0
    assert block["input"]["frames"] >= 30 and block["input"]["bad_frames"] == 0
    assert block["locked_phase_us"]["max"] < 200


def test_a_run_locks_to_the_trackers_opentrackio_timecode(small: Stage) -> None:
    """OpenTrackIO samples at the stage rate, stamped on arrival 2 ms after each frame began (as a
    receiver on a quiet network would), pushed into the tracking hub in real time."""
    project = small.project.model_copy(deep=True)
    project.tracking[0].protocol = "opentrackio"
    project.tracking[0].address = "udp://127.0.0.1:0"
    project.timecode = TimecodeSettings(master="tracker", offset_ms=2.0)
    stage = Stage.from_project(project, small.layout.base_dir)
    engine = LiveEngine(stage, quiet())
    rate = Fraction(project.frame_rate)
    first = Timecode.parse("07:59:58:00", rate)
    stop = threading.Event()
    t0 = time.monotonic_ns() + 50_000_000

    def tracker() -> None:
        for k in range(10_000):
            at = t0 + k * 10**9 // 30
            if stop.wait(max(0.0, (at + 2_000_000 - time.monotonic_ns()) / 1e9)):
                return
            tc = Timecode.from_count(first.to_count() + k, rate)
            sample = CameraSample(protocol="opentrackio", source="tracker", camera_id=1, arrival_ns=at + 2_000_000,
                                  x_m=0.0, y_m=-3.0, z_m=1.6, pan_deg=0.0, tilt_deg=0.0, roll_deg=0.0,
                                  timecode=Timecode(hours=tc.hours, minutes=tc.minutes, seconds=tc.seconds,
                                              frames=tc.frames, rate=rate))
            engine.tracking.push(project.tracking[0].name, sample)

    sender = threading.Thread(target=tracker, daemon=True)
    try:
        engine.start()
        sender.start()
        assert wait_for(lambda: engine.timecode_lock.locked, 15.0), engine.timecode_lock
        status = engine.timecode_lock
        clock = engine.loop.clock
        tick = clock.tick(clock.index_at(clock.now_ns()))
    finally:
        stop.set()
        sender.join(2.0)
        engine.close()
    assert status.master == "tracker" and status.source == "the tracker of camera A"
    assert status.phase_error_us is not None and abs(status.phase_error_us) < 100
    k = (tick.time_ns - t0) / (1e9 / 30)
    assert abs(k - round(k)) < 0.01  # frame instants on the tracker's frames (its latency taken out)
    assert tick.count == first.to_count() + round(k)  # labelled as the tracker labels them
    report = engine.timecode.report()
    assert report["tracker"]["used"] > 20 and report["tracker"]["other_rate"] == 0


def test_masters_the_project_cannot_have_are_refused_before_anything_opens(small: Stage) -> None:
    with pytest.raises(ValueError, match="freed, which carries no timecode"):
        LiveEngine(small, quiet(timecode_master="tracker"))  # the demo camera is tracked over FreeD
    with pytest.raises(ValueError, match="not both"):
        quiet(ltc_file="house.wav", ltc_simulate_ppm=10.0).check()
    with pytest.raises(ValueError, match="needs the ltc timecode master"):
        quiet(ltc_file="house.wav", timecode_master="tracker").check()
