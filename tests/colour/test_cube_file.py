"""``.cube`` files: round trips, the Resolve/Adobe keywords, and errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vpstage.colour.cube_file import CubeError, CubeLut, format_cube, parse_cube, read_cube, write_cube


def _ramp_3d(size: int) -> np.ndarray:
    g = np.linspace(0.0, 1.0, size)
    r, gg, b = np.meshgrid(g, g, g, indexing="ij")
    return np.stack([r**2, 0.5 * gg + 0.25 * b, b], axis=-1)


def test_3d_round_trip_keeps_table_domain_and_title(tmp_path: Path) -> None:
    lut = CubeLut(kind="3d", table=_ramp_3d(5), domain_min=(-0.1, 0.0, 0.0), domain_max=(1.0, 2.0, 1.5), title="wall A")
    write_cube(tmp_path / "a.cube", lut)
    back = read_cube(tmp_path / "a.cube")
    assert back.kind == "3d" and back.size == 5 and back.title == "wall A"
    assert back.domain_min == (-0.1, 0.0, 0.0) and back.domain_max == (1.0, 2.0, 1.5)
    np.testing.assert_allclose(back.table, lut.table, atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.cube"]  # atomic: no temporary or backup left


def test_red_varies_fastest_in_the_file() -> None:
    text = format_cube(CubeLut(kind="3d", table=_ramp_3d(3)))
    rows = [line for line in text.splitlines() if line[0].isdigit()]
    assert rows[1].split() == ["0.250000", "0.000000", "0.000000"]  # r = 0.5 -> r² = 0.25, g = b = 0
    assert rows[3].split() == ["0.000000", "0.250000", "0.000000"]  # g = 0.5 -> 0.5 * g


def test_1d_with_resolve_input_range_and_comments() -> None:
    text = "# shaper\nLUT_1D_SIZE 3\nLUT_1D_INPUT_RANGE 0 4\n\n0 0 0\n# mid\n0.5 0.25 0.125\n1 1 1\n"
    lut = parse_cube(text)
    assert lut.kind == "1d" and lut.domain_max == (4.0, 4.0, 4.0)
    np.testing.assert_array_equal(lut.table[1], [0.5, 0.25, 0.125])


def test_a_full_size_lut_reads_through_the_fast_path_exactly(tmp_path: Path) -> None:
    lut = CubeLut(kind="3d", table=_ramp_3d(33))
    write_cube(tmp_path / "big.cube", lut, precision=9)
    np.testing.assert_allclose(read_cube(tmp_path / "big.cube").table, lut.table, atol=1e-9)


BASE = 'TITLE "t"\nLUT_3D_SIZE 2\n' + "0 0 0\n1 0 0\n0 1 0\n1 1 0\n0 0 1\n1 0 1\n0 1 1\n1 1 1\n"


@pytest.mark.parametrize(("text", "line", "reason"), [
    (BASE.replace("1 1 0\n", "1 1\n", 1), 6, "a data line holds 3 numbers (r g b), got 2"),
    (BASE.replace("0 1 1\n", "0 x 1\n"), 9, "not a number"),
    (BASE.replace("1 0 1\n", "1 nan 1\n"), 8, "values must be finite"),
    (BASE + "1 1 1\n", 11, "more data lines than the 8 the size declares"),
    (BASE.replace("1 1 1\n", ""), 9, "7 data lines; the size declares 8"),
    (BASE.replace("LUT_3D_SIZE 2", "LUT_3D_SIZE 1"), 2, "LUT_3D_SIZE 1 is outside 2..256"),
    (BASE.replace("LUT_3D_SIZE 2", "LUT_3D_SIZE two"), 2, "LUT_3D_SIZE takes one whole number"),
    (BASE.replace('TITLE "t"', "LUT_3D_SIZE 2"), 2, "LUT_3D_SIZE given twice (first on line 1)"),
    (BASE.replace('TITLE "t"', "LUT_SIZE 2"), 1, "unknown keyword 'LUT_SIZE'"),
    (BASE.replace('TITLE "t"', "DOMAIN_MAX 1 0 1"), 1, "the domain minimum [0.0, 0.0, 0.0] must be below its maximum"),
    (BASE.replace('TITLE "t"', "DOMAIN_MIN 0 0"), 1, "DOMAIN_MIN takes 3 number(s), got 2"),
    (BASE.replace("0 0 1\n", "DOMAIN_MIN 0 0 0\n"), 7, "keyword DOMAIN_MIN after the data started"),
    (BASE.replace('TITLE "t"', "LUT_1D_SIZE 2"), 2, "both LUT_1D_SIZE and LUT_3D_SIZE"),
])
def test_malformed_files_name_file_line_and_what_is_wrong(text: str, line: int, reason: str) -> None:
    with pytest.raises(CubeError) as info:
        parse_cube(text, "wall.cube")
    assert info.value.line == line, str(info.value)
    assert reason in info.value.reason
    assert str(info.value).startswith(f"wall.cube:{line}: ")


def test_no_size_before_data_is_a_whole_file_error() -> None:
    with pytest.raises(CubeError, match=r"^wall.cube: no LUT_1D_SIZE or LUT_3D_SIZE line before the data"):
        parse_cube("0 0 0\n1 1 1\n", "wall.cube")


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(CubeError, match="file not found"):
        read_cube(tmp_path / "absent.cube")
    (tmp_path / "binary.cube").write_bytes(b"LUT_1D_SIZE 2\n\xff\xfe\n")
    with pytest.raises(CubeError, match="not UTF-8 text"):
        read_cube(tmp_path / "binary.cube")
