"""Fixtures for the Qt-free editing model: documents on copies of the example stages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import STAGES
from vpstage.stage.document import StageDocument


@pytest.fixture
def demo_doc(tmp_path: Path) -> StageDocument:
    """The demo stage copied into a temporary folder (so saving never touches configs/)."""
    target = tmp_path / "demo.yaml"
    shutil.copy(STAGES / "demo.yaml", target)
    return StageDocument.open(target)


@pytest.fixture
def flat_doc(tmp_path: Path) -> StageDocument:
    target = tmp_path / "flat_wall.yaml"
    shutil.copy(STAGES / "flat_wall.yaml", target)
    return StageDocument.open(target)
