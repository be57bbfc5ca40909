"""The console's command groups work on the narrow objects they are given (a document's editor, its
views), with no main window: what they say comes out as signals."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QUndoGroup, QUndoStack
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from tests.conftest import STAGES
from ui.commands import DocumentEditor
from ui.edit_actions import EditActions
from ui.file_actions import FileActions
from ui.fix_actions import ProblemFixes
from ui.layout_editor.map_view import PixelMapView
from ui.layout_editor.plan_view import WallPlanView
from vpstage.stage.document import StageDocument
from vpstage.stage.edits import rotate_sections
from vpstage.stage.model import CeilingSection


def _editor(qtbot: QtBot, document: StageDocument) -> tuple[QWidget, QUndoGroup, DocumentEditor]:
    host = QWidget()
    qtbot.addWidget(host)
    stack, group = QUndoStack(host), QUndoGroup(host)
    group.addStack(stack)
    group.setActiveStack(stack)
    return host, group, DocumentEditor(document, stack, host)


def _ceiling_yaw(document: StageDocument) -> float:
    ceiling = next(s for s in document.project.sections if s.name == "ceiling")
    assert isinstance(ceiling, CeilingSection)
    return ceiling.yaw_deg


def test_edit_actions_edit_a_document_without_a_window(qtbot: QtBot, demo_doc: StageDocument) -> None:
    host, group, editor = _editor(qtbot, demo_doc)
    plan, pixel_map = WallPlanView(demo_doc, editor), PixelMapView(demo_doc, editor)
    qtbot.addWidget(plan)
    qtbot.addWidget(pixel_map)
    edit = EditActions(host, group, ProblemFixes(host))
    edit.bind(editor, plan, pixel_map)
    with qtbot.waitSignal(edit.message, timeout=1000) as said:
        edit.rotate_cw.trigger()  # nothing selected: refused, said
    assert said.args == ["select sections to rotate"] and editor.stack.count() == 0
    demo_doc.select(demo_doc.section_cabinets(["ceiling"]))
    edit.rotate_cw.trigger()
    assert _ceiling_yaw(demo_doc) == 15.0 and editor.stack.count() == 1
    edit.undo.trigger()
    assert _ceiling_yaw(demo_doc) == 0.0
    with qtbot.waitSignal(edit.dock_wanted, timeout=1000) as wanted:
        edit.canvases.trigger()
    assert wanted.args == ["canvases"]
    edit.snap.trigger()  # off: both editors place freely
    assert not plan.snap_enabled and not pixel_map.snap_enabled


def test_file_actions_save_and_open_through_an_editor_without_a_window(qtbot: QtBot, demo_doc: StageDocument,
                                                                          tmp_path: Path) -> None:
    host, _group, editor = _editor(qtbot, demo_doc)
    opened: list[StageDocument] = []
    files = FileActions(host, open_document=opened.append, may_discard=lambda: True)
    files.bind(editor)
    assert editor.run(lambda: rotate_sections(demo_doc.project, demo_doc.layout, ["ceiling"], 15.0))
    assert not editor.stack.isClean()
    with qtbot.waitSignal(files.message, timeout=1000) as said:
        assert files.save_as(tmp_path / "renamed.yaml")
    assert said.args == [f"saved {tmp_path / 'renamed.yaml'}"] and editor.stack.isClean()
    assert demo_doc.path == tmp_path / "renamed.yaml"
    assert _ceiling_yaw(StageDocument.open(tmp_path / "renamed.yaml")) == 15.0
    assert files.open_project(STAGES / "flat_wall.yaml")
    assert [d.project.name for d in opened] == [StageDocument.open(STAGES / "flat_wall.yaml").project.name]
