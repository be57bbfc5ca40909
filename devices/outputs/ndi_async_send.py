"""``NDIlib_send_send_video_async_v2`` called without holding Python's interpreter lock.

The ``NDIlib`` binding calls the SDK with the GIL held. The async send returns at once only when
the sender has finished with the previous frame; otherwise it waits for it (NDI compresses a
frame in its own threads: a 4K UYVY frame takes milliseconds). While it waits, every other thread
of the render node (the one rendering the next frame) waits for the GIL too. So the sends go
through ``ctypes``, which releases the GIL for the duration of a foreign call, into the very
library the binding loaded (same process, same sender instances).

The frame descriptor is the SDK's ``NDIlib_video_frame_v2_t`` (x86-64 layout: offsets below).
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from types import ModuleType


class VideoFrameV2(ctypes.Structure):
    """``NDIlib_video_frame_v2_t``."""

    _fields_ = [
        ("xres", ctypes.c_int),                  # 0
        ("yres", ctypes.c_int),                  # 4
        ("FourCC", ctypes.c_uint32),             # 8
        ("frame_rate_N", ctypes.c_int),          # 12
        ("frame_rate_D", ctypes.c_int),          # 16
        ("picture_aspect_ratio", ctypes.c_float),  # 20
        ("frame_format_type", ctypes.c_int),     # 24
        ("timecode", ctypes.c_int64),            # 32
        ("p_data", ctypes.c_void_p),             # 40
        ("line_stride_in_bytes", ctypes.c_int),  # 48
        ("p_metadata", ctypes.c_char_p),         # 56
        ("timestamp", ctypes.c_int64),           # 64
    ]


PROGRESSIVE = 1
"""``NDIlib_frame_format_type_progressive``."""
TIMESTAMP_UNDEFINED = 0x7FFFFFFFFFFFFFFF
"""``NDIlib_recv_timestamp_undefined``: NDI fills the send time in."""


def loaded_library(module: ModuleType) -> Path | None:
    """The ``libndi`` file the ``NDIlib`` binding runs with (as mapped into this process)."""
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        maps = []
    for line in maps:
        path = line.split()[-1] if len(line.split()) >= 6 else ""
        if "/libndi.so" in path:
            return Path(path)
    folder = Path(module.__file__ or "").parent
    found = sorted(folder.glob("libndi.so*"))
    return found[0] if found else None


class AsyncVideoSend:
    """Sends video frames on a sender the ``NDIlib`` binding created, without the GIL."""

    def __init__(self, module: ModuleType, instance: object) -> None:
        library = loaded_library(module)
        if library is None:
            raise OSError("the NDI library the NDIlib module runs with was not found")
        lib = ctypes.CDLL(str(library))
        self._send = lib.NDIlib_send_send_video_async_v2
        self._send.argtypes = [ctypes.c_void_p, ctypes.POINTER(VideoFrameV2)]
        self._send.restype = None
        self._instance = capsule_pointer(instance)
        self.frame = VideoFrameV2()
        self.frame.frame_format_type = PROGRESSIVE
        self.frame.picture_aspect_ratio = 0.0  # 0: square pixels (xres / yres)
        self.frame.timestamp = TIMESTAMP_UNDEFINED

    def send(self, *, data: int, xres: int, yres: int, stride: int, fourcc: int, rate: tuple[int, int],
             timecode_100ns: int) -> None:
        """Queue the frame at address ``data`` (kept untouched by the caller until the next send)."""
        frame = self.frame
        frame.xres, frame.yres, frame.FourCC = xres, yres, fourcc
        frame.frame_rate_N, frame.frame_rate_D = rate
        frame.timecode, frame.p_data, frame.line_stride_in_bytes = timecode_100ns, data, stride
        self._send(self._instance, ctypes.byref(frame))

    def flush(self) -> None:
        """Wait until NDI no longer reads the last frame (a send of no frame)."""
        self._send(self._instance, None)


def capsule_pointer(capsule: object) -> int:
    """The C pointer a Python capsule (the binding's sender instance) holds."""
    api = ctypes.pythonapi
    api.PyCapsule_GetName.restype = ctypes.c_char_p
    api.PyCapsule_GetName.argtypes = [ctypes.py_object]
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    pointer = api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule))
    if not pointer:
        raise ValueError("the NDI sender instance holds no pointer")
    return int(pointer)
