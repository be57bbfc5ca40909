"""A take whose project keeps its own panel catalog, reviewed from a database stored elsewhere: the
catalog is found where the project expects it, or the review is refused; it is never rendered
without the default scene bounds (the live DoD crop)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

pytest.importorskip("av", reason="PyAV is needed to encode review videos")

from render.review import ReviewError, ReviewOptions, render_take_review
from render.review_scene import load_review_scene
from tests.conftest import ROOT
from tests.review.takes import DEMO_STAGE, record_review_take
from vpstage.stage import Stage, save_project
from vpstage.stage.catalog import DEFAULT_CATALOG
from vpstage.takes import TakeLibrary

SIZE = (32, 18)


def _take_away_from(project_dir: Path, catalog: str, away: Path) -> Path:
    """Record take B001_T01 on the demo stage saved in ``project_dir`` with ``catalog`` (relative to
    it), then move its database to ``away``."""
    project = Stage.open(DEMO_STAGE).project
    project.catalog = catalog
    save_project(project, project_dir / "show.yaml")
    record_review_take(project_dir / "takes" / "takes.sqlite", "B001", 3, rate=Fraction(30),
                       stage_file=project_dir / "show.yaml")
    away.mkdir()
    return Path(shutil.move(project_dir / "takes" / "takes.sqlite", away / "takes.sqlite"))


@pytest.fixture
def own_catalog(tmp_path: Path) -> tuple[Path, Path]:
    """(project folder holding panels.yaml, database moved away from it)."""
    show = tmp_path / "show"
    show.mkdir()
    shutil.copy(DEFAULT_CATALOG, show / "panels.yaml")
    return show, _take_away_from(show, "panels.yaml", tmp_path / "away")


def test_catalog_away_is_refused_clearly_and_no_video_is_written(own_catalog: tuple[Path, Path]) -> None:
    _show, db = own_catalog
    out = db.parent / "b.mp4"
    with TakeLibrary(db) as library, pytest.raises(ReviewError) as info:
        render_take_review(library, "B001_T01", out, ReviewOptions(size=SIZE), project_dir=db.parent)
    message = str(info.value)
    assert f"panel catalog {db.parent / 'panels.yaml'}" in message and "cannot be found" in message
    assert "demo cannot be cropped to the default scene bounds" in message and "--project-dir" in message
    assert not out.exists()

    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "takes", "render", "B001_T01", "-o", str(out),
                           "--size", "32x18", "--db", str(db)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 1 and "cannot be found" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_the_projects_folder_finds_its_catalog_and_the_crop(own_catalog: tuple[Path, Path]) -> None:
    show, db = own_catalog
    with TakeLibrary(db) as library:
        stage_yaml = library.stage_yaml("B001_T01")
        result = render_take_review(library, "B001_T01", db.parent / "b.mp4", ReviewOptions(size=SIZE),
                                    project_dir=show)
    assert result.frames == 3 and result.warnings == []
    scene = load_review_scene(stage_yaml, {"demo"}, "B001_T01", show, "cpu")
    assert scene.bounds is not None and scene.bounds.stage.layout.catalog.panels


def test_a_project_made_from_a_shipped_stage_finds_the_shipped_catalog(tmp_path: Path) -> None:
    stages = tmp_path / "show" / "stages"
    stages.mkdir(parents=True)
    shutil.copy(DEFAULT_CATALOG, tmp_path / "show" / "panels.yaml")
    db = _take_away_from(stages, "../panels.yaml", tmp_path / "away")  # as configs/stages/*.yaml has it
    with TakeLibrary(db) as library:
        scene = load_review_scene(library.stage_yaml("B001_T01"), {"demo"}, "B001_T01", db.parent, "cpu")
    assert scene.bounds is not None
    assert any("used the shipped" in w and str(DEFAULT_CATALOG.parent / "stages") in w for w in scene.warnings)
