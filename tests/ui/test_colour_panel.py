"""The Colour dock: outputs per canvas (read-only), colour regions added, graded, enabled and
removed as undoable commands, and a running planner following every edit (undo included) at its
next frame, on the engine's own (scaled-down) canvases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from pytestqt.qtbot import QtBot

from devices.tracking.hub import TrackingHub
from ui.colour.colour_panel import ColourPanel
from ui.commands import DocumentEditor
from ui.live.control_thread import ControlThread
from ui.live.edit_forwarder import EditForwarder
from ui.main_window import ConsoleWindow
from vpstage.frame_master import Planner
from vpstage.stage import Stage
from vpstage.stage.document import StageDocument
from vpstage.stage.scaling import scaled_stage


@dataclass(kw_only=True)
class ColourRig:
    doc: StageDocument
    stack: QUndoStack
    panel: ColourPanel
    planner: Planner
    forwarder: EditForwarder
    control: ControlThread


@pytest.fixture
def rig(qtbot: QtBot, demo_doc: StageDocument, tmp_path: Path) -> Iterator[ColourRig]:
    stack = QUndoStack()
    panel = ColourPanel(demo_doc, DocumentEditor(demo_doc, stack))
    qtbot.addWidget(panel)
    engine_stage = scaled_stage(Stage.from_project(demo_doc.project, demo_doc.base_dir), 4, tmp_path / "div4")
    planner = Planner(engine_stage, TrackingHub(engine_stage.project))
    control = ControlThread()
    forwarder = EditForwarder(demo_doc, control)
    forwarder.bind(None, planner, engine_stage)
    yield ColourRig(doc=demo_doc, stack=stack, panel=panel, planner=planner, forwarder=forwarder, control=control)
    forwarder.detach()
    panel.detach()
    control.shutdown()


def _outputs(panel: ColourPanel) -> dict[str, list[str]]:
    table = panel.outputs
    return {table.item(r, 0).text(): [table.item(r, c).text() for c in range(1, table.columnCount())]
            for r in range(table.rowCount())}


def test_outputs_list_each_canvas_as_the_project_states_it(rig: ColourRig) -> None:
    rows = _outputs(rig.panel)
    assert rows["wall-left"] == ["sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)", "sdr", "8"]
    assert rows["wall-centre"][0] == "Rec.2100-PQ - Display" and rows["wall-centre"][2:] == ["pq 1000 nits", "10"]
    assert rows["ceiling"] == ["not managed", "", "", "8"]


def test_edit_a_region_then_undo_restores_project_and_planner(rig: ColourRig) -> None:
    panel, doc, planner, stack = rig.panel, rig.doc, rig.planner, rig.stack
    assert doc.project.colour is not None and doc.project.colour.regions == [] and planner.colour_regions == ()
    panel.canvas.setCurrentText("wall-centre")
    panel.add.click()
    [region] = doc.project.colour.regions
    assert (region.canvas, region.rect, panel.selected_name) == ("wall-centre", (480, 270, 1440, 810), "region 1")
    [grade] = planner.colour_regions  # the engine's next frame has it, on its 480 x 270 canvas
    assert grade.rect == (120, 68, 360, 202) and grade.gain == (1.0, 1.0, 1.0)
    panel.form.triples["gain"][0].setValue(1.25)  # one committed value: one command
    assert doc.project.colour.regions[0].gain == (1.25, 1.0, 1.0) and stack.count() == 2
    assert planner.colour_regions[0].gain == (1.25, 1.0, 1.0)
    panel.form.saturation.setValue(0.5)
    panel.form.feather.setValue(24.0)
    assert (doc.project.colour.regions[0].saturation, doc.project.colour.regions[0].feather_px) == (0.5, 24.0)
    assert planner.colour_regions[0].feather_px == 6.0
    stack.undo()
    stack.undo()
    stack.undo()
    assert doc.project.colour.regions[0].gain == (1.0, 1.0, 1.0) and planner.colour_regions[0].gain == (1.0, 1.0, 1.0)
    assert panel.form.triples["gain"][0].value() == 1.0  # the form shows the project again
    stack.undo()
    assert doc.project.colour.regions == [] and planner.colour_regions == ()
    stack.redo()
    assert [r.name for r in doc.project.colour.regions] == ["region 1"] and len(planner.colour_regions) == 1


def test_enable_and_remove_are_undoable(rig: ColourRig) -> None:
    panel, doc, planner, stack = rig.panel, rig.doc, rig.planner, rig.stack
    panel.canvas.setCurrentText("wall-left")
    panel.add.click()
    item = panel.regions.item(0)
    item.setCheckState(Qt.CheckState.Unchecked)
    assert doc.project.colour is not None and not doc.project.colour.regions[0].enabled
    assert planner.colour_regions == ()  # disabled regions are not sent
    assert stack.undoText() == "disable colour region 'region 1'"
    panel.remove.click()
    assert doc.project.colour.regions == [] and not panel.form.isEnabled()
    stack.undo()
    stack.undo()
    assert doc.project.colour.regions[0].enabled and panel.regions.item(0).checkState() == Qt.CheckState.Checked
    assert len(planner.colour_regions) == 1


def test_a_refused_value_springs_back(rig: ColourRig) -> None:
    panel, doc = rig.panel, rig.doc
    panel.canvas.setCurrentText("wall-left")
    panel.add.click()
    panel.form.corners[2].setValue(5000)  # x1 beyond the 1920-pixel canvas
    assert doc.project.colour is not None and doc.project.colour.regions[0].rect[2] == 1440
    assert panel.form.corners[2].value() == 1440 and rig.stack.count() == 1
    panel.form.corners[0].setValue(1500)  # x0 beyond x1: an empty rectangle
    assert doc.project.colour.regions[0].rect[0] == 480 and panel.form.corners[0].value() == 480
    panel.form.corners[2].setValue(1000)  # a smaller rectangle is fine
    assert doc.project.colour.regions[0].rect == (480, 270, 1000, 810)


def test_the_console_has_a_colour_dock(window: ConsoleWindow) -> None:
    assert window.docks["colour"].widget() is not None and window.docks["colour"].windowTitle() == "Colour"
    assert window.colour_panel.canvas.count() == len(window.document.project.canvases)  # type: ignore[union-attr]


def test_a_scene_edit_and_its_undo_reach_the_running_planner(rig: ColourRig) -> None:
    """Scene placements and enabled flags follow the document, undo included (the console's and
    the web API's scene edits are document edits)."""
    from vpstage.stage.change import replace_fields

    doc, planner, stack = rig.doc, rig.planner, rig.stack
    editor = DocumentEditor(doc, stack)
    before = doc.project.scene[0].placement
    assets = [a.model_copy(deep=True) for a in doc.project.scene]
    assets[0].enabled = False
    assets[0].placement = before.model_copy(update={"translation": (1.0, 2.0, 0.0)})
    assert editor.run(lambda: replace_fields(doc.project, "move and hide the demo scene", scene=assets))
    assert not planner.scene.placements[0].enabled
    assert planner.scene.placement_models[0].translation == (1.0, 2.0, 0.0)
    stack.undo()
    assert planner.scene.placements[0].enabled and planner.scene.placement_models[0] == before
