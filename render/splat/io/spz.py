"""Niantic ``.spz`` (rendering.md §3.5): gzip versions 1-3 and ZSTD multi-stream version 4.

Both carry the same packed attributes: positions (v1 float16, else 24-bit fixed point with
``fractionalBits``), alphas (uint8, sigmoid * 255), colours (uint8, 0.5 + 0.15 * f_dc, times 255),
log scales (uint8, s / 16 - 10), rotations (v1-v2: x y z int8-ish with w >= 0; v3+: "smallest
three", a 2-bit index and three 9-bit magnitudes with sign bits, xyzw order) and SH (uint8,
(b - 128) / 128, coefficient-major with the channel innermost).

v1-v3: the whole file is one gzip stream of a 16-byte header and the arrays back to back.
v4: a plain 32-byte header (magic, version, count, SH degree, fractional bits, flags, stream count,
TOC offset), optional extension records, a TOC of (compressed, uncompressed) u64 pairs and one
ZSTD frame per non-empty array.

Asset frame: SPZ stores RUB (x right, y up, z back, the OpenGL / three.js convention). The loader
converts to RDF (x right, y down, z forward), the convention of 3DGS .ply files, by a 180-degree
rotation about x: y and z of positions negate, quaternions (w, x, y, z) -> (w, x, -y, -z), and each
SH coefficient takes the sign its basis function has under that rotation. So an .spz and the .ply it
was packed from load into the same coordinates.
"""

from __future__ import annotations

import gzip
import struct
import zlib

import numpy as np

from render.assets import AssetError
from render.splat.io.gaussian_ply import DecodedSplats
from render.splat.model import AssetFrame, sh_coeff_count

MAGIC = 0x5053474E  # "NGSP"
SPZ_COLOR_SCALE = 0.15
MAX_POINTS = 100_000_000
EXT_SH_QUANTIZATION = 0xADBE0001
EXT_SAFE_ORBIT = 0xADBE0002
# Sign of each SH basis function (coefficients 1..15) under the 180-degree rotation about x that
# maps RUB to RDF: (x, y, z) -> (x, -y, -z), so a basis monomial changes sign with its y+z degree.
RUB_TO_RDF_SH_SIGNS = np.array([-1, -1, 1, -1, 1, 1, -1, 1, -1, 1, -1, -1, 1, -1, 1], dtype=np.float32)


def decode_spz(data: bytes, path: str) -> tuple[DecodedSplats, AssetFrame]:
    if data[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise AssetError(f"{path}: corrupt or truncated gzip stream in .spz: {exc}") from exc
        arrays, version = _decode_legacy(raw, path)
    elif len(data) >= 8 and struct.unpack_from("<I", data, 0)[0] == MAGIC:
        version = struct.unpack_from("<I", data, 4)[0]
        arrays, version = _decode_v4(data, path) if version >= 4 else _decode_legacy(data, path)
    else:
        raise AssetError(f"{path}: not an .spz file (neither gzip nor NGSP magic)")
    _rub_to_rdf(arrays)
    return arrays, AssetFrame("RDF", "-y", f"SPZ v{version} RUB converted to RDF")


# ---------------------------------------------------------------- containers
def _decode_legacy(raw: bytes, path: str) -> tuple[DecodedSplats, int]:
    if len(raw) < 16:
        raise AssetError(f"{path}: .spz header truncated ({len(raw)} of 16 bytes)")
    magic, version, n, degree, frac_bits, flags, _ = struct.unpack_from("<IIIBBBB", raw, 0)
    if magic != MAGIC:
        raise AssetError(f"{path}: .spz payload lacks the NGSP magic")
    if version not in (1, 2, 3):
        raise AssetError(f"{path}: unsupported .spz version {version} in a gzip container")
    _check_counts(n, degree, path)
    offset, sh_range = 16, None
    if flags & 0x2:
        offset, sh_range = _legacy_extensions(raw, offset, path)
    sizes = _section_sizes(n, degree, version)
    total = sum(sizes.values())
    if len(raw) < offset + total:
        raise AssetError(f"{path}: truncated .spz v{version} payload: {len(raw) - offset} of {total} bytes "
                         f"for {n} splats")
    sections = {}
    for name, size in sizes.items():
        sections[name] = raw[offset:offset + size]
        offset += size
    return _unpack(sections, n, degree, frac_bits, version, sh_range), version


def _decode_v4(data: bytes, path: str) -> tuple[DecodedSplats, int]:
    if len(data) < 32:
        raise AssetError(f"{path}: .spz v4 header truncated ({len(data)} of 32 bytes)")
    _, version, n, degree, frac_bits, flags, n_streams, toc_offset = struct.unpack_from("<IIIBBBBI", data, 0)
    if version != 4:
        raise AssetError(f"{path}: unsupported .spz version {version}")
    _check_counts(n, degree, path)
    if toc_offset < 32 or toc_offset + 16 * n_streams > len(data):
        raise AssetError(f"{path}: .spz v4 TOC at byte {toc_offset} ({n_streams} streams) lies outside the file")
    sh_range = _v4_extensions(data[32:toc_offset], path) if flags & 0x2 else None
    expected = {k: v for k, v in _section_sizes(n, degree, version).items() if v > 0}
    if n_streams != len(expected):
        raise AssetError(f"{path}: .spz v4 has {n_streams} streams, expected {len(expected)} for SH degree {degree}")
    sections = _v4_streams(data, toc_offset, expected, path)
    sections.setdefault("sh", b"")
    return _unpack(sections, n, degree, frac_bits, version, sh_range), version


def _v4_streams(data: bytes, toc_offset: int, expected: dict[str, int], path: str) -> dict[str, bytes]:
    import zstandard

    cursor = toc_offset + 16 * len(expected)
    sections: dict[str, bytes] = {}
    for i, (name, size) in enumerate(expected.items()):
        compressed, uncompressed = struct.unpack_from("<QQ", data, toc_offset + 16 * i)
        if uncompressed != size:
            raise AssetError(f"{path}: .spz v4 stream {name!r} declares {uncompressed} bytes, expected {size}")
        if cursor + compressed > len(data):
            raise AssetError(f"{path}: truncated .spz v4: stream {name!r} needs {compressed} bytes at {cursor}, "
                             f"file ends at {len(data)}")
        try:
            out = zstandard.ZstdDecompressor().decompress(data[cursor:cursor + compressed], max_output_size=size)
        except zstandard.ZstdError as exc:
            raise AssetError(f"{path}: corrupt ZSTD stream {name!r} in .spz v4: {exc}") from exc
        if len(out) != size:
            raise AssetError(f"{path}: .spz v4 stream {name!r} decompressed to {len(out)} bytes, expected {size}")
        sections[name] = out
        cursor += compressed
    return sections


def _check_counts(n: int, degree: int, path: str) -> None:
    if n > MAX_POINTS:
        raise AssetError(f"{path}: .spz claims {n} splats (more than {MAX_POINTS}); the header is corrupt")
    if degree > 3:
        raise AssetError(f"{path}: .spz SH degree {degree} is not supported (0..3)")


def _section_sizes(n: int, degree: int, version: int) -> dict[str, int]:
    return {
        "positions": n * 3 * (2 if version == 1 else 3),
        "alphas": n,
        "colors": n * 3,
        "scales": n * 3,
        "rotations": n * (4 if version >= 3 else 3),
        "sh": n * (sh_coeff_count(degree) - 1) * 3,
    }


def _legacy_extensions(raw: bytes, offset: int, path: str) -> tuple[int, tuple[float, float] | None]:
    """v1-v3 extension records: known type tags followed by fixed payloads, until an unknown tag."""
    sh_range = None
    while offset + 4 <= len(raw):
        tag = struct.unpack_from("<I", raw, offset)[0]
        if tag == EXT_SH_QUANTIZATION and offset + 14 <= len(raw):
            _, _, lo, hi = struct.unpack_from("<BBff", raw, offset + 4)
            sh_range, offset = (lo, hi), offset + 14
        elif tag == EXT_SAFE_ORBIT and offset + 16 <= len(raw):
            offset += 16
        else:
            break
    return offset, sh_range


def _v4_extensions(block: bytes, path: str) -> tuple[float, float] | None:
    """v4 extension records between header and TOC: [u32 type][u32 byte length][payload]."""
    sh_range, offset = None, 0
    while offset < len(block):
        if offset + 8 > len(block):
            raise AssetError(f"{path}: truncated .spz v4 extension record")
        tag, length = struct.unpack_from("<II", block, offset)
        if offset + 8 + length > len(block):
            raise AssetError(f"{path}: .spz v4 extension 0x{tag:08x} runs past the TOC")
        if tag == EXT_SH_QUANTIZATION and length >= 10:
            _, _, lo, hi = struct.unpack_from("<BBff", block, offset + 8)
            sh_range = (lo, hi)
        offset += 8 + length
    return sh_range


# ---------------------------------------------------------------- attributes
def _unpack(sections: dict[str, bytes], n: int, degree: int, frac_bits: int, version: int,
            sh_range: tuple[float, float] | None) -> DecodedSplats:
    colors = np.frombuffer(sections["colors"], dtype=np.uint8).reshape(n, 3).astype(np.float32)
    dc = (colors / 255.0 - 0.5) / SPZ_COLOR_SCALE
    rest_count = sh_coeff_count(degree) - 1
    sh_bytes = np.frombuffer(sections["sh"], dtype=np.uint8).reshape(n, rest_count, 3).astype(np.float32)
    if sh_range is None or sh_range == (-1.0, 1.0):
        rest = (sh_bytes - 128.0) / 128.0
    else:
        rest = sh_range[0] + sh_bytes / 255.0 * (sh_range[1] - sh_range[0])
    log_scales = np.frombuffer(sections["scales"], dtype=np.uint8).reshape(n, 3).astype(np.float32) / 16.0 - 10.0
    return {
        "positions": _positions(sections["positions"], n, frac_bits, version),
        "scales": np.exp(log_scales),
        "quats": _rotations(sections["rotations"], n, version),
        "opacities": np.frombuffer(sections["alphas"], dtype=np.uint8).astype(np.float32) / 255.0,
        "sh": np.concatenate([dc[:, None, :], rest], axis=1).astype(np.float32),
    }


def _positions(raw: bytes, n: int, frac_bits: int, version: int) -> np.ndarray:
    if version == 1:
        return np.frombuffer(raw, dtype="<f2").reshape(n, 3).astype(np.float32)
    b = np.frombuffer(raw, dtype=np.uint8).reshape(n, 3, 3).astype(np.int32)
    fixed = b[..., 0] | (b[..., 1] << 8) | (b[..., 2] << 16)
    fixed = np.where(fixed & 0x800000, fixed - (1 << 24), fixed)
    return (fixed.astype(np.float64) / float(1 << frac_bits)).astype(np.float32)


def _rotations(raw: bytes, n: int, version: int) -> np.ndarray:
    """Quaternions (w, x, y, z) from first-three (v1-v2) or smallest-three (v3+) packing."""
    if version < 3:
        xyz = np.frombuffer(raw, dtype=np.uint8).reshape(n, 3).astype(np.float32) / 127.5 - 1.0
        w = np.sqrt(np.maximum(0.0, 1.0 - np.sum(xyz * xyz, axis=1)))
        return np.concatenate([w[:, None], xyz], axis=1).astype(np.float32)
    words = np.frombuffer(raw, dtype="<u4").astype(np.uint32)
    largest = (words >> np.uint32(30)).astype(np.int64)
    xyzw = np.zeros((n, 4), dtype=np.float32)
    rows = np.arange(n)
    remaining = words.copy()
    for i in (3, 2, 1, 0):  # components are packed from the last index down, skipping the largest
        skip = largest == i
        magnitude = (remaining & np.uint32(511)).astype(np.float32) / 511.0 * np.float32(np.sqrt(0.5))
        negative = ((remaining >> np.uint32(9)) & np.uint32(1)).astype(bool)
        value = np.where(negative, -magnitude, magnitude)
        xyzw[:, i] = np.where(skip, 0.0, value)
        remaining = np.where(skip, remaining, remaining >> np.uint32(10))
    xyzw[rows, largest] = np.sqrt(np.maximum(0.0, 1.0 - np.sum(xyzw * xyzw, axis=1)))
    return np.ascontiguousarray(xyzw[:, [3, 0, 1, 2]])


def _rub_to_rdf(arrays: DecodedSplats) -> None:
    arrays["positions"][:, 1:] *= -1.0
    arrays["quats"][:, 2:] *= -1.0
    k = arrays["sh"].shape[1]
    arrays["sh"][:, 1:, :] *= RUB_TO_RDF_SH_SIGNS[: k - 1, None]
