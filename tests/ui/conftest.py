"""Console widget tests: real documents, real widgets, offscreen Qt.

This folder has no __init__.py on purpose: with pytest's importlib mode it would become a
top-level package named `ui` and shadow the real one.

Every test here fails on a Qt warning (pytest-qt ``qt_log_level_fail``), except the one notice the
offscreen platform prints for every top-level window it cannot size-hint.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.editing.conftest import demo_doc, flat_doc  # noqa: F401  (shared fixtures)
from ui.live.controller import EngineFactory
from ui.main_window import ConsoleWindow
from ui.settings import console_settings
from vpstage.stage.document import StageDocument

HERE = Path(__file__).parent
OFFSCREEN_NOTICES = [r"This plugin does not support propagateSizeHints\(\)"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(*OFFSCREEN_NOTICES))


def make_window(qtbot: QtBot, document: StageDocument, settings_file: Path, rehearsal: bool = False,
                engine_factory: EngineFactory | None = None) -> ConsoleWindow:
    """A shown console window on ``document`` with its own settings file and no modal prompts
    (1400 x 900 unless the settings file restores another size)."""
    fresh = not settings_file.exists()
    window = ConsoleWindow(document, rehearsal=rehearsal, settings=console_settings(settings_file),
                           confirm=lambda _what: "discard", stage_backend="software", engine_factory=engine_factory)
    qtbot.addWidget(window)
    if fresh:
        window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    QApplication.processEvents()  # let the docks take their first sizes before the test clicks
    return window


@pytest.fixture
def window(qtbot: QtBot, demo_doc: StageDocument, tmp_path: Path) -> Iterator[ConsoleWindow]:  # noqa: F811
    win = make_window(qtbot, demo_doc, tmp_path / "settings" / "console.ini")
    yield win
    win.stack.setClean()  # nothing to ask about when qtbot closes it
