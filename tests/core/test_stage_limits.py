"""Hostile stage files: ``main.py validate`` exits 2 with ``file:line: field: message`` and no
traceback, within bounded memory, for nesting, huge numbers, a zero-denominator rate, alias and
merge-key bombs, walls of millions of cabinets and hundreds of thousands of invalid items. The child
runs under a generous timeout (a hang fails the test; its speed is not asserted) and its peak memory
is read by a small launcher."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from vpstage.config import ConfigError, YamlLimits, format_path, parse_yaml, validate_model
from vpstage.stage import Project, Stage
from vpstage.stage.limits import StageLimits

MAX_RSS_MB = 300
TIMEOUT_S = 120  # a bound for a hang, far above the second or two these take


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    max_rss_mb: float


# Runs the command given and reports its exit status, output and peak RSS (as JSON). The RSS is read in
# this small launcher, not in pytest: a child forked from a big process would report the parent's RSS.
_LAUNCHER = """
import json, resource, subprocess, sys
try:
    done = subprocess.run(sys.argv[2:], capture_output=True, timeout=float(sys.argv[1]))
    code, out, err = done.returncode, done.stdout, done.stderr
except subprocess.TimeoutExpired as exc:
    code, out, err = -9, exc.stdout or b"", (exc.stderr or b"") + b"\\ntimed out"
rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
json.dump({"code": code, "out": out.decode(errors="replace"), "err": err.decode(errors="replace"),
           "rss_kb": rss_kb}, sys.stdout)
"""


def validate(path: Path) -> Run:
    """``main.py validate PATH`` in a child process; its exit status, output and peak RSS."""
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, str(TIMEOUT_S), sys.executable, str(ROOT / "main.py"),
                           "validate", str(path)], capture_output=True, text=True, cwd=ROOT, timeout=TIMEOUT_S + 60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    return Run(report["code"], report["out"], report["err"], report["rss_kb"] / 1024)


def _nested(tmp: Path) -> Path:
    (tmp / "nest.yaml").write_text("name: deep\nsections: " + "[" * 20_000 + "\n")
    return tmp / "nest.yaml"


def _huge_int(tmp: Path) -> Path:
    (tmp / "bigint.yaml").write_text("name: big\nsections: []\nframe_rate: " + "9" * 5000 + "\n")
    return tmp / "bigint.yaml"


def _zero_rate(tmp: Path) -> Path:
    (tmp / "rate.yaml").write_text("name: rate\nsections: []\nframe_rate: 1/0\n")
    return tmp / "rate.yaml"


def _merge_bomb(tmp: Path) -> Path:
    lines = ["m0: &m0 {k0: 1, k1: 2}"]
    lines += [f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], z{i}: 1}}" for i in range(1, 40)]
    (tmp / "merge.yaml").write_text("\n".join(lines + ["name: merge", "sections: []"]) + "\n")
    return tmp / "merge.yaml"


def _alias_bomb(tmp: Path) -> Path:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    names = "abcdefghi"
    lines += [f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in itertools.pairwise(names)]
    (tmp / "laughs.yaml").write_text("\n".join(lines + ["name: laughs", "sections: []"]) + "\n")
    return tmp / "laughs.yaml"


def _wall(columns: int, rows: int) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / "wall.yaml").write_text(f"name: wall\nsections:\n  - {{kind: flat, name: w, panel: roe-bp2v2, "
                                       f"origin: [0, 0, 0], columns: {columns}, rows: {rows}}}\n")
        return tmp / "wall.yaml"
    return make


def _led_pixels(tmp: Path) -> Path:
    (tmp / "panels.yaml").write_text("schema_version: 1\npanels:\n  huge: {vendor: x, model: y, width_mm: 500, "
                                     "height_mm: 500, pixels_w: 50000, pixels_h: 50000, pitch_mm: 0.01, "
                                     "source: test}\n")
    (tmp / "px.yaml").write_text("name: px\ncatalog: panels.yaml\nsections:\n  - {kind: flat, name: w, "
                                 "panel: huge, origin: [0, 0, 0], columns: 10, rows: 10}\n")
    return tmp / "px.yaml"


def _invalid_items(tmp: Path) -> Path:
    (tmp / "items.yaml").write_text("name: items\nsections: []\npixel_map: [" + ", ".join(["1"] * 400_000) + "]\n")
    return tmp / "items.yaml"


def _invalid_catalog(tmp: Path) -> Path:
    entries = "".join(f"  p{i}: {{}}\n" for i in range(200_000))
    (tmp / "panels.yaml").write_text("schema_version: 1\npanels:\n" + entries)
    (tmp / "cat.yaml").write_text("name: cat\ncatalog: panels.yaml\nsections: []\n")
    return tmp / "cat.yaml"


CASES = {
    "nesting": (_nested, 2, r"[^\n]*: nested deeper than 32 levels \(YAML limit max_depth\)"),
    "huge_int": (_huge_int, 3, r"frame_rate: integer out of range \(integers must fit in 64 bits\)"),
    "zero_rate": (_zero_rate, 3, r"frame_rate: .*frame rate '1/0' divides by zero"),
    "merge_bomb": (_merge_bomb, None, r"m\d+\.<<\[1\]: more than 500,000 values .*\(YAML limit max_values"),
    "alias_bomb": (_alias_bomb, 6, r"f\[\d\]: more than 500,000 values .*\(YAML limit max_values"),
    "wall_1000x1000": (_wall(1000, 1000), 3, r"sections\[0\]: 1,000,000 cabinets here .*over the limit of "
                       r"50,000 \(stage limit max_cabinets\)"),
    "wall_100000x10000": (_wall(100_000, 10_000), 3, r"sections\[0\]: 1,000,000,000 cabinets here .*"
                          r"\(stage limit max_cabinets\)"),
    "invalid_items": (_invalid_items, 3, r"pixel_map\[0\]: Input should be a valid dictionary"),
    "invalid_catalog": (_invalid_catalog, 2, r"catalog: the panel catalog has problems"),
    "led_pixels": (_led_pixels, 4, r"sections\[0\]: 100 cabinets of 50000x50000 px .*250,000,000,000 LED pixels, "
                   r"over the limit of 500,000,000 \(stage limit max_led_pixels\)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_stage_file_is_a_located_problem_in_bounded_memory(case: str, tmp_path: Path) -> None:
    make, line, message = CASES[case]
    path = make(tmp_path)
    run = validate(path)
    assert run.returncode == 2, f"exit {run.returncode}\n{run.stderr[-2000:]}"
    assert "Traceback" not in run.stderr
    where = re.escape(str(path)) + ":" + (str(line) if line is not None else r"\d+") + ": "
    assert re.search(where + message, run.stderr), run.stderr[-2000:]
    assert run.max_rss_mb < MAX_RSS_MB, f"{run.max_rss_mb:.0f} MB"


# ----------------------------------------------------------------------------- limits are settings


def _problems(text: str, limits: YamlLimits) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, "f.yaml", limits)
    return [p.format() for p in info.value.problems]


def test_each_yaml_limit_is_a_setting_with_a_located_problem() -> None:
    small = YamlLimits(max_file_bytes=200, max_depth=3, max_scalar_chars=10, max_values=20)
    assert _problems("a: " + "x" * 300, small) == ["f.yaml: (document): larger than 200 bytes "
                                                   "(YAML limit max_file_bytes)"]
    assert _problems("a:\n  b:\n    c: [1]\n", small)[0].startswith("f.yaml:3: a.b.c: nested deeper than 3 levels")
    assert _problems("a: 1\nb: xxxxxxxxxxx\n", small)[0].startswith("f.yaml:2: b: a value longer than 10 characters")
    assert "YAML limit max_values" in _problems("l: &l [1, 2, 3, 4, 5]\nm: [*l, *l, *l]\n", small)[0]
    assert parse_yaml("l: &l [1, 2, 3, 4, 5]\nm: [*l]\n", "f.yaml", small)[0]["m"] == [[1, 2, 3, 4, 5]]


def test_merge_keys_aliases_and_tags_read_as_yaml_says() -> None:
    data, index = parse_yaml("base: &b {x: 1, y: {z: 2}}\nuse:\n  <<: *b\n  x: 5\nq: 0x7fffffffffffffff\n", "f.yaml")
    assert data == {"base": {"x": 1, "y": {"z": 2}}, "use": {"x": 5, "y": {"z": 2}}, "q": 2**63 - 1}
    assert (index.line(("use", "x")), index.line(("use", "y", "z"))) == (4, 3)  # a merged key: its << line
    assert _problems("a: 0x8000000000000000\n", YamlLimits()) == [
        "f.yaml:1: a: integer out of range (integers must fit in 64 bits)"]
    assert _problems("a: !!python/name:os.system x\n", YamlLimits())[0].startswith("f.yaml:1: a: unsupported YAML tag")
    assert "used inside its own anchor" in _problems("a: &x [*x]\n", YamlLimits())[0]
    assert "one YAML document" in _problems("a: 1\n---\nb: 2\n", YamlLimits())[0]


def test_stage_limits_are_settings(tmp_path: Path) -> None:
    path = _wall(4, 3)(tmp_path)
    assert len(Stage.open(path).layout.cabinets) == 12
    with pytest.raises(ConfigError) as info:
        Stage.open(path, limits=StageLimits(max_cabinets=10))
    assert [p.format() for p in info.value.problems] == [
        f"{path}:3: sections[0]: 12 cabinets here bring the stage to 12, over the limit of 10 (stage limit "
        "max_cabinets)"]


def test_a_large_document_is_checked_fail_fast_and_a_small_one_in_full() -> None:
    entry = "- {cabinet: w/c00r00, canvas: c, x: %s, y: 0}\n"
    bad = [entry % "a", entry % "b"]
    for padding, expected in ((0, ["pixel_map[0].x", "pixel_map[1].x"]), (3000, ["pixel_map[0].x", "(document)"])):
        text = "name: n\nsections: []\npixel_map:\n" + "".join(bad) + entry % 0 * padding
        data, index = parse_yaml(text, "f.yaml")
        with pytest.raises(ConfigError) as info:
            validate_model(Project, data, index)
        assert [format_path(p.path) for p in info.value.problems] == expected
    assert "each list and mapping was checked up to its first problem" in info.value.problems[-1].message
    valid = "name: n\nsections: []\npixel_map:\n" + entry % 0 * 3000
    assert len(validate_model(Project, *parse_yaml(valid, "f.yaml")).pixel_map) == 3000
