"""StageDocument: signals, shared selection, located problems, atomic save and save-as."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, STAGES
from vpstage.config import ConfigError
from vpstage.stage import Stage
from vpstage.stage.document import StageDocument
from vpstage.stage.edits import move_sections, remove_sections
from vpstage.stage.map_edits import MapPlacement, move_map_rects

FIXTURES = ROOT / "tests" / "core" / "fixtures" / "invalid"


def test_apply_emits_and_selection_follows(demo_doc: StageDocument) -> None:
    changes: list[object] = []
    selections: list[frozenset[str]] = []
    demo_doc.project_changed.connect(changes.append)
    demo_doc.selection_changed.connect(selections.append)
    demo_doc.select(["wall-left/c00r00", "ceiling/c00r00", "no/such"])
    demo_doc.select(["wall-left/c00r00", "ceiling/c00r00"])  # no change, no signal
    assert selections == [frozenset({"wall-left/c00r00", "ceiling/c00r00"})]
    demo_doc.select(["ceiling/c00r00"], mode="toggle")
    assert demo_doc.selection == {"wall-left/c00r00"}
    assert demo_doc.selected_sections() == ["wall-left"]
    change = remove_sections(demo_doc.project, demo_doc.catalog, ["wall-left"])
    demo_doc.apply(change)
    assert changes == [change]
    assert demo_doc.selection == frozenset() and selections[-1] == frozenset()


def test_problems_of_an_unmodified_file_name_its_lines() -> None:
    doc = StageDocument.open(FIXTURES / "overlap.yaml")
    expected_line = int(FIXTURES.joinpath("overlap.yaml").read_text().splitlines()[0].split(": ")[1])
    problems = doc.validate()
    assert any(p.line == expected_line and p.file == "overlap.yaml" for p in problems)  # as a technician reads it
    assert doc.problem_cabinets()  # the overlap is pinned on cabinets


def test_save_refuses_an_invalid_project_and_writes_nothing(demo_doc: StageDocument) -> None:
    assert demo_doc.path is not None
    original = demo_doc.path.read_text()
    demo_doc.apply(move_map_rects(demo_doc.project, demo_doc.layout,
                                  {"wall-left/c00r05": MapPlacement("wall-left", 64, 0)}))
    with pytest.raises(ConfigError, match="overlaps"):
        demo_doc.save()
    assert demo_doc.path.read_text() == original
    assert not list(demo_doc.path.parent.glob("*.bak")) and not list(demo_doc.path.parent.glob(".*.tmp"))


def test_save_is_atomic_and_reloads_equal(demo_doc: StageDocument) -> None:
    assert demo_doc.path is not None
    original = demo_doc.path.read_text()
    demo_doc.apply(move_sections(demo_doc.project, ["ceiling"], (0.0, 0.5, 0.2)))
    seen: list[object] = []
    demo_doc.file_changed.connect(seen.append)
    result = demo_doc.save()
    assert result.path == demo_doc.path and result.rebased is None and seen == [demo_doc.path]
    assert demo_doc.path.with_name("demo.yaml.bak").read_text() == original
    assert Stage.open(demo_doc.path).project == demo_doc.project


def test_untitled_document_needs_a_path(tmp_path: Path) -> None:
    doc = StageDocument.open(STAGES / "demo.yaml", untitled=True)
    with pytest.raises(ValueError, match="no file yet"):
        doc.save()
    doc.save(tmp_path / "mine.yaml")
    assert doc.path == tmp_path / "mine.yaml" and (tmp_path / "mine.yaml").is_file()


def test_save_as_elsewhere_rewrites_relative_paths(tmp_path: Path) -> None:
    src = tmp_path / "a"
    src.mkdir()
    shutil.copy(ROOT / "configs" / "panels.yaml", src / "panels.yaml")
    text = (STAGES / "flat_wall.yaml").read_text().replace("frame_rate:", "catalog: panels.yaml\nframe_rate:", 1)
    (src / "stage.yaml").write_text(text)
    doc = StageDocument.open(src / "stage.yaml")
    result = doc.save(tmp_path / "b" / "c" / "stage.yaml")
    assert result.rebased is not None and doc.project.catalog == "../../a/panels.yaml"
    assert doc.base_dir == (tmp_path / "b" / "c").resolve()
    assert Stage.open(tmp_path / "b" / "c" / "stage.yaml").project.catalog == "../../a/panels.yaml"
    assert [p.format() for p in doc.validate()] == []
