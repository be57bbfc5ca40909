"""The PLY container: header parsing, element tables as numpy structured arrays, and writing.

Only what splat files use: scalar properties in ``binary_little_endian``, ``binary_big_endian``
or ``ascii`` encoding. List properties are rejected with a clear message. Every problem raises
:class:`render.assets.AssetError` naming the file; nothing is returned for a truncated body.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from render.assets import AssetError

PLY_TYPES: dict[str, str] = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}
_NAME_FOR_DTYPE = {"i1": "char", "u1": "uchar", "i2": "short", "u2": "ushort", "i4": "int", "u4": "uint",
                   "f4": "float", "f8": "double"}
_ENCODINGS = {"binary_little_endian": "<", "binary_big_endian": ">", "ascii": "ascii"}
MAX_HEADER_BYTES = 1 << 20


@dataclass(frozen=True)
class PlyElement:
    name: str
    count: int
    properties: tuple[tuple[str, str], ...]
    """(name, numpy type code without byte order) in file order."""

    def dtype(self, byte_order: str) -> np.dtype:
        return np.dtype([(name, byte_order + code) for name, code in self.properties])

    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.properties)


@dataclass(frozen=True)
class PlyHeader:
    encoding: str
    elements: tuple[PlyElement, ...]
    comments: tuple[str, ...]
    body_offset: int

    def element(self, name: str) -> PlyElement | None:
        return next((e for e in self.elements if e.name == name), None)


def parse_header(data: bytes, path: str) -> PlyHeader:
    """Parse the ASCII header at the start of ``data``; raises AssetError naming ``path``."""
    if not data.startswith(b"ply"):
        raise AssetError(f"{path}: not a PLY file (missing 'ply' magic)")
    end = data.find(b"end_header", 0, MAX_HEADER_BYTES)
    if end < 0:
        raise AssetError(f"{path}: PLY header has no 'end_header' (truncated or not a PLY file)")
    newline = data.find(b"\n", end)
    if newline < 0:
        raise AssetError(f"{path}: PLY header ends without a newline after 'end_header' (truncated)")
    try:
        lines = data[:end].decode("ascii").splitlines()
    except UnicodeDecodeError as exc:
        raise AssetError(f"{path}: PLY header is not ASCII text") from exc
    encoding, comments, elements = _parse_header_lines(lines[1:], path)
    return PlyHeader(encoding, tuple(elements), tuple(comments), newline + 1)


def _parse_header_lines(lines: list[str], path: str) -> tuple[str, list[str], list[PlyElement]]:
    encoding = ""
    comments: list[str] = []
    elements: list[PlyElement] = []
    current: tuple[str, int, list[tuple[str, str]]] | None = None
    for number, raw in enumerate(lines, start=2):
        words = raw.split()
        if not words or words[0] in ("obj_info",):
            continue
        where = f"{path}: PLY header line {number}"
        if words[0] == "comment":
            comments.append(raw.strip()[len("comment"):].strip())
        elif words[0] == "format":
            if len(words) != 3 or words[1] not in _ENCODINGS:
                raise AssetError(f"{where}: unsupported format {' '.join(words[1:])!r}")
            encoding = words[1]
        elif words[0] == "element":
            if len(words) != 3 or not words[2].isdigit():
                raise AssetError(f"{where}: malformed element line {raw.strip()!r}")
            if current is not None:
                elements.append(PlyElement(current[0], current[1], tuple(current[2])))
            if any(e.name == words[1] for e in elements):
                raise AssetError(f"{where}: element {words[1]!r} appears twice")
            current = (words[1], int(words[2]), [])
        elif words[0] == "property":
            if current is None:
                raise AssetError(f"{where}: property before any element")
            if len(words) >= 2 and words[1] == "list":
                raise AssetError(f"{where}: list property {words[-1]!r} is not supported in splat files")
            if len(words) != 3 or words[1] not in PLY_TYPES:
                raise AssetError(f"{where}: malformed property line {raw.strip()!r}")
            if any(name == words[2] for name, _ in current[2]):
                raise AssetError(f"{where}: property {words[2]!r} appears twice in element {current[0]!r}")
            current[2].append((words[2], PLY_TYPES[words[1]]))
        else:
            raise AssetError(f"{where}: unexpected header keyword {words[0]!r}")
    if current is not None:
        elements.append(PlyElement(current[0], current[1], tuple(current[2])))
    if not encoding:
        raise AssetError(f"{path}: PLY header has no 'format' line")
    return encoding, comments, elements


def read_ply(data: bytes, path: str) -> tuple[PlyHeader, dict[str, np.ndarray]]:
    """Header and one structured array per element (views into ``data``). AssetError on a short body."""
    header = parse_header(data, path)
    if header.encoding == "ascii":
        return header, _read_ascii_body(data[header.body_offset:], header, path)
    order = _ENCODINGS[header.encoding]
    tables: dict[str, np.ndarray] = {}
    offset = header.body_offset
    for element in header.elements:
        dtype = element.dtype(order)
        needed = dtype.itemsize * element.count
        if offset + needed > len(data):
            have = max(0, (len(data) - offset) // max(dtype.itemsize, 1))
            raise AssetError(f"{path}: truncated PLY body: element {element.name!r} needs {element.count} rows "
                             f"of {dtype.itemsize} bytes but the file holds only {have} complete rows")
        tables[element.name] = np.frombuffer(data, dtype=dtype, count=element.count, offset=offset)
        offset += needed
    return header, tables


def _read_ascii_body(body: bytes, header: PlyHeader, path: str) -> dict[str, np.ndarray]:
    tokens = body.split()
    tables: dict[str, np.ndarray] = {}
    cursor = 0
    for element in header.elements:
        width = len(element.properties)
        needed = width * element.count
        if cursor + needed > len(tokens):
            raise AssetError(f"{path}: truncated ASCII PLY body in element {element.name!r}")
        try:
            values = np.array(tokens[cursor:cursor + needed], dtype=np.float64).reshape(element.count, width)
        except ValueError as exc:
            raise AssetError(f"{path}: non-numeric value in ASCII PLY element {element.name!r}") from exc
        table = np.empty(element.count, dtype=element.dtype("<"))
        for i, (name, _) in enumerate(element.properties):
            table[name] = values[:, i]
        tables[element.name] = table
        cursor += needed
    return tables


def encode_ply(elements: list[tuple[str, np.ndarray]], comments: list[str] | None = None) -> bytes:
    """Binary little-endian PLY bytes for named structured arrays (scalar fields only)."""
    lines = ["ply", "format binary_little_endian 1.0"]
    lines += [f"comment {c}" for c in comments or []]
    bodies = []
    for name, table in elements:
        lines.append(f"element {name} {table.shape[0]}")
        assert table.dtype.names is not None
        for field_name in table.dtype.names:
            code = table.dtype[field_name].str[1:]
            lines.append(f"property {_NAME_FOR_DTYPE[code]} {field_name}")
        le = table.dtype.newbyteorder("<")
        bodies.append(np.ascontiguousarray(table.astype(le)).tobytes())
    lines.append("end_header")
    return ("\n".join(lines) + "\n").encode("ascii") + b"".join(bodies)
