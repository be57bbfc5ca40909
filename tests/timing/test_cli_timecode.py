"""``main.py timecode FILE.wav --jsonl`` on LTC written by the test, and WAV sample formats."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from cli import main
from devices.timecode.wav import WavError, WavReader, write_wav
from tests.timing.ltc_audio import R2997, labels, ltc_audio, studio_line
from vpstage.timing import Timecode

ROOT = Path(__file__).resolve().parents[2]


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_prints_one_line_per_frame(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = Timecode.parse("00:00:58;20", R2997)  # crosses the drop at 00:01:00;00
    clean, encoder = ltc_audio(first, 50)
    audio = studio_line(clean, 48000, polarity=-1, gain=(0.3, 1.0), snr_db=26)
    stereo = np.stack([np.zeros_like(audio), audio], axis=1)  # LTC on the second channel
    path = tmp_path / "take.wav"
    write_wav(path, stereo, 48000)
    assert main(["timecode", str(path), "--channel", "1", "--jsonl"]) == 0
    out, err = capsys.readouterr()
    got = lines(out)
    assert len(got) >= 45 and all(set(g) == {"timecode", "drop_frame", "sample"} for g in got)
    expected = labels(first, 50)
    for g in got:
        assert g["drop_frame"] is True
        k = expected.index(str(g["timecode"]))
        assert abs(int(g["sample"]) - encoder.frame_start(k + 1)) <= 2  # where the frame ended
    assert "00:01:00:02" in [g["timecode"] for g in got] and "00:01:00:00" not in [g["timecode"] for g in got]
    assert '"frames": ' in err


def test_rate_reads_frame_pairs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean, _ = ltc_audio(Timecode.parse("10:00:00:00", 25), 20, 44100)
    path = tmp_path / "ltc50.wav"
    write_wav(path, clean, 44100, floating=True)
    assert main(["timecode", str(path), "--rate", "50", "--jsonl"]) == 0
    got = [g["timecode"] for g in lines(capsys.readouterr().out)]
    assert got[:3] == ["10:00:00:00", "10:00:00:02", "10:00:00:04"]  # LTC 10:00:00:00, :01, :02 as 50p pairs


def test_failures_exit_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timecode", str(tmp_path / "missing.wav"), "--jsonl"]) == 2
    noise = tmp_path / "noise.wav"
    write_wav(noise, np.random.default_rng(1).normal(0, 0.2, 48000), 48000)
    assert main(["timecode", str(noise), "--jsonl"]) == 1
    assert "no LTC found" in capsys.readouterr().err
    assert main(["timecode", str(noise), "--rate", "23.976", "--jsonl"]) == 2
    assert main(["timecode", str(noise), "--channel", "3", "--jsonl"]) == 2
    (tmp_path / "text.wav").write_text("not audio")
    assert main(["timecode", str(tmp_path / "text.wav"), "--jsonl"]) == 2


def test_the_command_runs_from_main_py(tmp_path: Path) -> None:
    clean, _ = ltc_audio(Timecode.parse("01:02:03:04", 24), 12)
    path = tmp_path / "ltc.wav"
    write_wav(path, clean, 48000)
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "timecode", str(path), "--rate", "24", "--jsonl"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert [g["timecode"] for g in lines(done.stdout)][:2] == ["01:02:03:04", "01:02:03:05"]


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_pcm_widths_read_back(width: int, tmp_path: Path) -> None:
    """Written by the standard library's ``wave`` (an independent writer), read by ours."""
    x = np.sin(np.arange(2000) / 7.0) * 0.7
    scale = float(1 << (8 * width - 1))
    ints = np.clip(np.round(x * scale), -scale, scale - 1).astype(np.int64)
    if width == 1:
        raw = (ints + 128).astype(np.uint8).tobytes()
    else:
        raw = b"".join(int(v).to_bytes(width, "little", signed=True) for v in ints)
    path = tmp_path / f"pcm{width}.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(width)
        w.setframerate(32000)
        w.writeframes(raw)
    with WavReader(path) as r:
        assert (r.info.sample_rate, r.info.channels, r.info.bits) == (32000, 1, 8 * width)
        np.testing.assert_allclose(r.read(), x, atol=2.0 / scale)


def test_not_a_wav_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(WavError):
        WavReader(path)
