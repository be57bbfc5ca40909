"""Truncated and malformed files raise AssetError naming the file and the problem."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from render.assets import AssetError, load_asset
from render.splat.io import load_splat, splat_file_bytes
from tests.splat.conftest import model_from, random_arrays
from tests.splat.spz_pack import pack_spz_legacy, pack_spz_v4


def _expect_error(path: Path, data: bytes, *words: str) -> None:
    path.write_bytes(data)
    with pytest.raises(AssetError) as info:
        load_splat(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message, message


@pytest.fixture
def ply_bytes() -> bytes:
    return splat_file_bytes(model_from(random_arrays(20, 1)), ".ply")


def test_truncated_ply(tmp_path, ply_bytes) -> None:
    _expect_error(tmp_path / "cut.ply", ply_bytes[:-100], "truncated", "vertex")


def test_ply_header_problems(tmp_path, ply_bytes) -> None:
    header_end = ply_bytes.index(b"end_header")
    _expect_error(tmp_path / "a.ply", ply_bytes[:header_end], "end_header")
    _expect_error(tmp_path / "b.ply", b"plx\n" + ply_bytes[4:], "not a PLY")
    _expect_error(tmp_path / "c.ply", ply_bytes.replace(b"binary_little_endian", b"binary_middle_endian"), "format")
    listed = b"ply\nformat binary_little_endian 1.0\nelement face 1\nproperty list uchar int idx\nend_header\n"
    _expect_error(tmp_path / "d.ply", listed, "list property")


def test_repeated_names_and_negative_counts_in_a_ply_header(tmp_path, ply_bytes) -> None:
    twice = ply_bytes.replace(b"property float y\n", b"property float y\nproperty float y\n", 1)
    _expect_error(tmp_path / "d.ply", twice, "line", "'y' appears twice")
    head = b"ply\nformat binary_little_endian 1.0\n"
    _expect_error(tmp_path / "e.ply", head + b"element v 1\nproperty float x\nelement v 1\nproperty float y\n"
                  b"end_header\n" + bytes(8), "element 'v' appears twice")
    _expect_error(tmp_path / "f.ply", head + b"element vertex -5\nproperty float x\nend_header\n",
                  "malformed element line")


def test_point_cloud_ply_is_not_a_splat(tmp_path) -> None:
    cloud = b"ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\n" \
            b"end_header\n0 0 0\n"
    _expect_error(tmp_path / "cloud.ply", cloud, "not a 3DGS splat", "opacity")


def test_bad_f_rest_count(tmp_path, ply_bytes) -> None:
    broken = ply_bytes.replace(b"property float f_rest_8\n", b"property float f_rest_x\n")
    _expect_error(tmp_path / "rest.ply", broken, "f_rest")


def test_compressed_ply_truncated_and_inconsistent(tmp_path, splat_dir) -> None:
    data = (splat_dir / "biker.compressed.ply").read_bytes()
    _expect_error(tmp_path / "half.compressed.ply", data[: len(data) // 2], "truncated")
    wrong = data.replace(b"element chunk 597", b"element chunk 590")
    _expect_error(tmp_path / "chunks.compressed.ply", wrong, "chunks")


def test_splat_size_not_a_multiple_of_32(tmp_path) -> None:
    data = splat_file_bytes(model_from(random_arrays(10, 0)), ".splat")
    _expect_error(tmp_path / "cut.splat", data[:-5], "multiple of 32", "9 complete")
    _expect_error(tmp_path / "empty.splat", b"", "empty")


def test_truncated_spz(tmp_path) -> None:
    arrays = random_arrays(100, 1)
    legacy = pack_spz_legacy(arrays, 3)
    _expect_error(tmp_path / "gz.spz", legacy[: len(legacy) // 2], "gzip")
    v4 = pack_spz_v4(arrays)
    _expect_error(tmp_path / "v4.spz", v4[:-10], "truncated", "stream")
    _expect_error(tmp_path / "head.spz", v4[:20], "header")


def test_malformed_spz(tmp_path) -> None:
    v4 = bytearray(pack_spz_v4(random_arrays(100, 1)))
    _expect_error(tmp_path / "magic.spz", b"XXXX" + bytes(v4[4:]), "not an .spz")
    streams = v4.copy()
    streams[15] = 3
    _expect_error(tmp_path / "streams.spz", bytes(streams), "streams")
    huge = v4.copy()
    huge[8:12] = struct.pack("<I", 4_000_000_000)
    _expect_error(tmp_path / "count.spz", bytes(huge), "corrupt")
    corrupt = v4.copy()
    corrupt[200:260] = bytes(60)
    _expect_error(tmp_path / "zstd.spz", bytes(corrupt), "ZSTD")


def test_missing_file_and_unknown_suffix(tmp_path) -> None:
    with pytest.raises(AssetError, match="cannot read"):
        load_splat(tmp_path / "nothing.ply")
    with pytest.raises(AssetError, match="unknown asset type"):
        load_asset(tmp_path / "scene.obj")
