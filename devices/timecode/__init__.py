"""Timecode inputs: LTC from a sound device (``sounddevice``/PortAudio, optional: the ``audio``
extra), from a WAV file replayed in real time, or simulated; WAV reading and writing. The
decoding and the clock discipline are in ``vpstage.timing`` (no device code there)."""

from devices.timecode.inputs import (
    INSTALL_HINT,
    AudioLtcInput,
    AudioUnavailable,
    LtcInput,
    SimulatedLtc,
    WavLtcReplay,
    load_sounddevice,
)
from devices.timecode.wav import WavError, WavInfo, WavReader, write_wav

__all__ = [
    "INSTALL_HINT",
    "AudioLtcInput",
    "AudioUnavailable",
    "LtcInput",
    "SimulatedLtc",
    "WavError",
    "WavInfo",
    "WavLtcReplay",
    "WavReader",
    "load_sounddevice",
    "write_wav",
]
