"""Minimal ISO-BMFF (MP4) reading: the order of the top-level boxes (to check faststart)."""

from __future__ import annotations

import struct
from pathlib import Path


def top_level_boxes(path: str | Path) -> list[str]:
    """Types of the top-level boxes in file order, e.g. ['ftyp', 'moov', 'mdat'] for a faststart MP4.

    Raises ValueError when a box header runs past the end of the file.
    """
    boxes: list[str] = []
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        end = handle.tell()
        offset = 0
        while offset < end:
            handle.seek(offset)
            header = handle.read(16)
            if len(header) < 8:
                raise ValueError(f"{path}: truncated MP4 box header at byte {offset}")
            size, kind = struct.unpack(">I4s", header[:8])
            if size == 1:
                if len(header) < 16:
                    raise ValueError(f"{path}: truncated 64-bit MP4 box size at byte {offset}")
                size = struct.unpack(">Q", header[8:16])[0]
            elif size == 0:  # box runs to the end of the file
                size = end - offset
            if size < 8 or offset + size > end:
                raise ValueError(f"{path}: MP4 box {kind!r} at byte {offset} has bad size {size}")
            boxes.append(kind.decode("latin-1"))
            offset += size
    return boxes
