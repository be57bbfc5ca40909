"""WAV files for LTC: read (PCM 8/16/24/32-bit, IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE) in
blocks, and write (16-bit PCM or 32-bit float). Only the RIFF chunks needed (``fmt``, ``data``)
are read; the others are skipped."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

PCM, IEEE_FLOAT, EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
MAX_CHANNELS = 64


class WavError(ValueError):
    """Not a WAV file this reader handles (the message says why)."""


@dataclass(frozen=True, kw_only=True)
class WavInfo:
    sample_rate: int
    channels: int
    bits: int
    floating: bool
    frames: int
    """Samples per channel."""
    data_offset: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def read_info(f: BinaryIO, name: str = "file") -> WavInfo:
    head = f.read(12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        raise WavError(f"{name} is not a WAV file (no RIFF/WAVE header)")
    fmt: tuple[int, int, int, int] | None = None
    while True:
        chunk = f.read(8)
        if len(chunk) < 8:
            raise WavError(f"{name} has no data chunk")
        kind, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if kind == b"fmt ":
            body = f.read(size + (size & 1))
            if size < 16:
                raise WavError(f"{name}: fmt chunk too short")
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == EXTENSIBLE and size >= 26:
                tag = struct.unpack("<H", body[24:26])[0]  # first two bytes of the sub-format GUID
            fmt = (tag, channels, rate, bits)
        elif kind == b"data":
            if fmt is None:
                raise WavError(f"{name}: data before fmt")
            tag, channels, rate, bits = fmt
            floating = tag == IEEE_FLOAT
            if tag not in (PCM, IEEE_FLOAT) or (floating and bits not in (32, 64)) \
                    or (not floating and bits not in (8, 16, 24, 32)):
                raise WavError(f"{name}: format {tag:#06x} with {bits} bits is not PCM 8/16/24/32 or float 32/64")
            if not 1 <= channels <= MAX_CHANNELS or not 1000 <= rate <= 768_000:
                raise WavError(f"{name}: {channels} channels at {rate} Hz")
            width = bits // 8 * channels
            here = f.tell()
            f.seek(0, 2)
            available = f.tell() - here
            f.seek(here)
            if size in (0, 0xFFFFFFFF) or size > available:  # streamed or RF64: up to the end
                size = available
            return WavInfo(sample_rate=rate, channels=channels, bits=bits, floating=floating, frames=size // width,
                           data_offset=here)
        else:
            f.seek(size + (size & 1), 1)


def _decode(raw: bytes, info: WavInfo) -> npt.NDArray[np.float32]:
    if info.floating:
        data = np.frombuffer(raw, dtype="<f4" if info.bits == 32 else "<f8").astype(np.float32)
    elif info.bits == 8:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif info.bits == 16:
        data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif info.bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        data = (np.where(v >= 1 << 23, v - (1 << 24), v)).astype(np.float32) / float(1 << 23)
    else:
        data = (np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2.0**31).astype(np.float32)
    return data.reshape(-1, info.channels)


class WavReader:
    """``with WavReader(path) as wav: for block in wav.blocks(4800, channel=0): ...``"""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._f = open(self.path, "rb")  # noqa: SIM115 (closed by close / __exit__)
        try:
            self.info = read_info(self._f, str(self.path))
        except Exception:
            self._f.close()
            raise

    def blocks(self, frames: int, channel: int = 0) -> Iterator[npt.NDArray[np.float32]]:
        """Successive blocks of ``frames`` samples of ``channel`` (the last may be shorter)."""
        info = self.info
        if not 0 <= channel < info.channels:
            raise WavError(f"{self.path} has {info.channels} channel(s); there is no channel {channel}")
        width = info.bits // 8 * info.channels
        self._f.seek(info.data_offset)
        left = info.frames
        while left > 0:
            n = min(frames, left)
            raw = self._f.read(n * width)
            n = len(raw) // width
            if n == 0:
                return
            left -= n
            yield _decode(raw[: n * width], info)[:, channel]

    def read(self, channel: int = 0) -> npt.NDArray[np.float32]:
        parts = list(self.blocks(1 << 20, channel))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> WavReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_wav(path: str | Path, samples: npt.ArrayLike, sample_rate: int, *, floating: bool = False) -> None:
    """Write ``samples`` ((n,) or (n, channels), full scale +/-1) as 16-bit PCM (clipped) or
    32-bit float."""
    data = np.asarray(samples, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    channels = data.shape[1]
    if floating:
        raw, tag, bits = data.astype("<f4").tobytes(), IEEE_FLOAT, 32
    else:
        raw, tag, bits = (np.clip(np.round(data * 32767.0), -32768, 32767).astype("<i2").tobytes(), PCM, 16)
    align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, sample_rate, sample_rate * align, align, bits)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(raw)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", len(raw)) + raw)
