"""``.cube`` LUT files (Resolve / Adobe "Cube LUT Specification 1.0"): read and write.

A file holds keywords, then data lines of three numbers::

    TITLE "wall A calibration"         # optional
    LUT_3D_SIZE 33                     # or LUT_1D_SIZE N
    DOMAIN_MIN 0 0 0                   # optional, default 0 0 0
    DOMAIN_MAX 1 1 1                   # optional, default 1 1 1
    0.0 0.0 0.0                        # N (1D) or N³ (3D) lines, red varying fastest
    ...

Lines starting with ``#`` are comments. Resolve's ``LUT_1D_INPUT_RANGE`` / ``LUT_3D_INPUT_RANGE
MIN MAX`` are read as the same domain on all three channels. A file with both a 1D and a 3D table
(Resolve's shaper + cube) is refused. Every error names the file and line (``CubeError``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from vpstage.config import atomic_write_text

MAX_1D_SIZE = 65536
MAX_3D_SIZE = 256
MAX_CUBE_BYTES = 512 * 1024 * 1024
"""Larger files are refused before reading (a 256³ table as text is about 400 MB)."""

Vec3 = tuple[float, float, float]


class CubeError(ValueError):
    """A ``.cube`` file that cannot be read: ``file``, 1-based ``line`` (None: the whole file)."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file, self.line, self.reason = file, line, message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, kw_only=True)
class CubeLut:
    """One LUT. ``table`` is float64: (N, 3) for 1D, (N, N, N, 3) indexed ``[r, g, b]`` for 3D
    (the file lists red fastest; ``table[r, g, b]`` is the output at input grid point r, g, b)."""

    kind: Literal["1d", "3d"]
    table: NDArray[np.float64]
    domain_min: Vec3 = (0.0, 0.0, 0.0)
    domain_max: Vec3 = (1.0, 1.0, 1.0)
    title: str | None = None

    @property
    def size(self) -> int:
        return int(self.table.shape[0])

    def rows(self) -> NDArray[np.float64]:
        """The data lines in file order (red fastest): (N, 3) or (N³, 3)."""
        if self.kind == "1d":
            return self.table
        return self.table.transpose(2, 1, 0, 3).reshape(-1, 3)


@dataclass(kw_only=True)
class _Header:
    file: str
    title: str | None = None
    size_1d: int | None = None
    size_3d: int | None = None
    domain_min: Vec3 = (0.0, 0.0, 0.0)
    domain_max: Vec3 = (1.0, 1.0, 1.0)
    domain_line: int | None = None
    seen: dict[str, int] = field(default_factory=dict)


def _numbers(header: _Header, line: int, words: list[str], count: int, keyword: str) -> list[float]:
    if len(words) != count:
        raise CubeError(header.file, line, f"{keyword} takes {count} number(s), got {len(words)}")
    try:
        values = [float(w) for w in words]
    except ValueError:
        raise CubeError(header.file, line, f"{keyword}: {' '.join(words)!r} is not {count} number(s)") from None
    if not all(np.isfinite(values)):
        raise CubeError(header.file, line, f"{keyword}: values must be finite")
    return values


def _size(header: _Header, line: int, words: list[str], keyword: str, most: int) -> int:
    if len(words) != 1 or not words[0].isdigit():
        raise CubeError(header.file, line, f"{keyword} takes one whole number, got {' '.join(words)!r}")
    size = int(words[0])
    if not 2 <= size <= most:
        raise CubeError(header.file, line, f"{keyword} {size} is outside 2..{most}")
    return size


def _keyword(header: _Header, line: int, keyword: str, words: list[str], raw: str) -> None:
    if keyword in header.seen:
        raise CubeError(header.file, line, f"{keyword} given twice (first on line {header.seen[keyword]})")
    header.seen[keyword] = line
    if keyword == "TITLE":
        header.title = raw.split(None, 1)[1].strip().strip('"') if words else ""
    elif keyword == "LUT_1D_SIZE":
        header.size_1d = _size(header, line, words, keyword, MAX_1D_SIZE)
    elif keyword == "LUT_3D_SIZE":
        header.size_3d = _size(header, line, words, keyword, MAX_3D_SIZE)
    elif keyword == "DOMAIN_MIN":
        header.domain_min = _vec3(_numbers(header, line, words, 3, keyword))
    elif keyword == "DOMAIN_MAX":
        header.domain_max = _vec3(_numbers(header, line, words, 3, keyword))
    else:  # LUT_1D_INPUT_RANGE / LUT_3D_INPUT_RANGE (Resolve)
        low, high = _numbers(header, line, words, 2, keyword)
        header.domain_min, header.domain_max = (low, low, low), (high, high, high)
    if keyword.startswith("DOMAIN") or keyword.endswith("INPUT_RANGE"):
        header.domain_line = line


KEYWORDS = ("TITLE", "LUT_1D_SIZE", "LUT_3D_SIZE", "DOMAIN_MIN", "DOMAIN_MAX",
            "LUT_1D_INPUT_RANGE", "LUT_3D_INPUT_RANGE")


def _vec3(values: list[float]) -> Vec3:
    return (values[0], values[1], values[2])


def _content_lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line, text) of lines that are neither blank nor comments."""
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def _read_header(file: str, lines: list[tuple[int, str]]) -> tuple[_Header, int]:
    """Keywords up to the first data line; returns the header and the index of that line."""
    header = _Header(file=file)
    for position, (number, raw) in enumerate(lines):
        head, *words = raw.split()
        if head in KEYWORDS:
            _keyword(header, number, head, words, raw)
        elif head[0].isalpha() and head[0] not in "eE":
            raise CubeError(file, number, f"unknown keyword {head!r} (known: {', '.join(KEYWORDS)})")
        else:
            return header, position
    return header, len(lines)


def _check_header(header: _Header) -> tuple[Literal["1d", "3d"], int]:
    if header.size_1d is not None and header.size_3d is not None:
        raise CubeError(header.file, header.seen["LUT_3D_SIZE"], "a file with both LUT_1D_SIZE and LUT_3D_SIZE "
                        "(shaper + cube) is not supported: give one table per file")
    if header.size_1d is None and header.size_3d is None:
        raise CubeError(header.file, None, "no LUT_1D_SIZE or LUT_3D_SIZE line before the data")
    low, high = header.domain_min, header.domain_max
    if any(hi <= lo for lo, hi in zip(low, high, strict=True)):
        raise CubeError(header.file, header.domain_line, f"the domain minimum {list(low)} must be below its "
                        f"maximum {list(high)} on every channel")
    if header.size_3d is not None:
        return "3d", header.size_3d
    assert header.size_1d is not None
    return "1d", header.size_1d


def _data_row(file: str, number: int, raw: str) -> list[float]:
    words = raw.split()
    if words[0] in KEYWORDS:
        raise CubeError(file, number, f"keyword {words[0]} after the data started (keywords come first)")
    if len(words) != 3:
        raise CubeError(file, number, f"a data line holds 3 numbers (r g b), got {len(words)}: {raw[:60]!r}")
    try:
        row = [float(w) for w in words]
    except ValueError:
        raise CubeError(file, number, f"not a number in {raw[:60]!r}") from None
    if not all(np.isfinite(row)):
        raise CubeError(file, number, f"values must be finite: {raw[:60]!r}")
    return row


def _fast_rows(data: list[tuple[int, str]], expected: int) -> NDArray[np.float64] | None:
    """numpy's C parser on well-formed data; None sends the caller to the line-by-line check."""
    if len(data) != expected:
        return None
    try:
        rows = np.loadtxt(io.StringIO("\n".join(raw for _, raw in data)), dtype=np.float64, ndmin=2)
    except ValueError:
        return None
    return rows if rows.shape == (expected, 3) and bool(np.isfinite(rows).all()) else None


def _read_data(file: str, data: list[tuple[int, str]], expected: int, last_line: int) -> NDArray[np.float64]:
    """The data lines as an (expected, 3) array; the first bad line (or a wrong count) is an error."""
    fast = _fast_rows(data, expected)
    if fast is not None:
        return fast
    rows = np.empty((min(len(data), expected), 3), dtype=np.float64)
    for i, (number, raw) in enumerate(data):
        if i == expected:
            raise CubeError(file, number, f"more data lines than the {expected} the size declares")
        rows[i] = _data_row(file, number, raw)
    if len(data) < expected:
        raise CubeError(file, last_line, f"{len(data)} data lines; the size declares {expected}")
    return rows


def parse_cube(text: str, file: str = "<text>") -> CubeLut:
    """Parse ``.cube`` text; raises CubeError (file, line, what is wrong)."""
    lines = list(_content_lines(text))
    header, start = _read_header(file, lines)
    kind, size = _check_header(header)
    expected = size if kind == "1d" else size**3
    last_line = max(1, len(text.splitlines()))
    rows = _read_data(file, lines[start:], expected, last_line)
    table = rows if kind == "1d" else rows.reshape(size, size, size, 3).transpose(2, 1, 0, 3)
    return CubeLut(kind=kind, table=np.ascontiguousarray(table), domain_min=header.domain_min,
                   domain_max=header.domain_max, title=header.title)


def read_cube(path: str | os.PathLike[str]) -> CubeLut:
    """Read a ``.cube`` file; a missing, unreadable, oversized or malformed file raises CubeError."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_CUBE_BYTES:
            raise CubeError(str(p), None, f"larger than {MAX_CUBE_BYTES // 2**20} MiB")
        raw = p.read_bytes()
    except FileNotFoundError:
        raise CubeError(str(p), None, "file not found") from None
    except OSError as exc:
        raise CubeError(str(p), None, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CubeError(str(p), None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_cube(text, str(p))


def format_cube(lut: CubeLut, precision: int = 6) -> str:
    """``.cube`` text of ``lut`` (red fastest; ``precision`` decimals)."""
    keyword = "LUT_1D_SIZE" if lut.kind == "1d" else "LUT_3D_SIZE"
    head = [f'TITLE "{lut.title}"'] if lut.title else []
    head += [f"{keyword} {lut.size}",
             "DOMAIN_MIN " + " ".join(f"{v:.{precision}g}" for v in lut.domain_min),
             "DOMAIN_MAX " + " ".join(f"{v:.{precision}g}" for v in lut.domain_max)]
    body = "\n".join(f"{r:.{precision}f} {g:.{precision}f} {b:.{precision}f}" for r, g, b in lut.rows().tolist())
    return "\n".join(head) + "\n" + body + "\n"


def write_cube(path: str | os.PathLike[str], lut: CubeLut, precision: int = 6) -> None:
    """Save ``lut`` atomically (no ``.bak`` kept)."""
    atomic_write_text(path, format_cube(lut, precision), backup=False)
