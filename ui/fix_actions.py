"""What the console does about problems: auto-layout with advice, adding canvases, the Problems
panel's fix buttons, and the engine refusing a project with errors.

Auto-layout that does not fit says so in a window-modal, non-blocking box that offers the way
out (``vpstage.stage.canvas_edits.layout_advice``): "Add 1 canvas and auto-layout" (one undoable
step) or the Canvases panel to do it by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from ui.layout_editor.problems_panel import location
from vpstage.stage.canvas_edits import LayoutAdvice, add_canvases_and_layout, layout_advice
from vpstage.stage.map_edits import auto_layout_change
from vpstage.stage.problem_groups import Fix

if TYPE_CHECKING:
    from ui.window_api import ConsoleWindowApi

ADD_AND_LAYOUT = "add_and_layout"
OPEN_CANVASES = "open_canvases"


def _plural_canvases(count: int) -> str:
    return f"{count} canvas" if count == 1 else f"{count} canvases"


def run_auto_layout(window: ConsoleWindowApi) -> QMessageBox | None:
    """Auto-layout the pixel map; when the cabinets do not fit, the advice box (returned)."""
    doc = window.document
    assert doc is not None
    advice = layout_advice(doc.layout)
    if advice.fits:
        if window.editor.run(lambda: auto_layout_change(doc.project, doc.layout)):
            window.status.say(f"auto-layout: {len(doc.project.pixel_map)} pixel-map entries")
        return None
    window.status.say(f"auto-layout refused: {advice.describe()}")
    return advise(window, advice)


def advise(window: ConsoleWindowApi, advice: LayoutAdvice) -> QMessageBox:
    """The box that says why auto-layout refused and offers what would make it fit."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Auto-layout", f"Auto-layout cannot place every cabinet: "
                      f"{advice.reason}.", QMessageBox.StandardButton.Cancel, window)
    box.setObjectName("autoLayoutBox")
    add = None
    if advice.canvases_needed:
        w, h = advice.like
        count = _plural_canvases(advice.canvases_needed)
        more = count.replace(" ", " more ", 1)
        box.setInformativeText(f"They fit with {more} of {w}×{h}. Add {count} (on the least busy render "
                               "nodes) and auto-layout? One step: Undo takes both back.")
        add = box.addButton(f"Add {count} and auto-layout", QMessageBox.ButtonRole.AcceptRole)
        add.setProperty("choice", ADD_AND_LAYOUT)
    else:
        box.setInformativeText("More canvases alone do not help: check the canvas sizes and the processors' "
                               "ports in the Canvases panel.")
    panel = box.addButton("Canvases…", QMessageBox.ButtonRole.ActionRole)
    panel.setProperty("choice", OPEN_CANVASES)

    def answered() -> None:
        clicked = box.clickedButton()
        if add is not None and clicked is add:
            add_canvases_for_layout(window, advice.canvases_needed)
        elif clicked is panel:
            window.show_dock("canvases")

    box.finished.connect(lambda _result: answered())
    box.open()
    return box


def add_canvases_for_layout(window: ConsoleWindowApi, count: int) -> bool:
    doc = window.document
    assert doc is not None
    if not window.editor.run(lambda: add_canvases_and_layout(doc.project, doc.layout, count)):
        return False
    window.status.say(f"added {_plural_canvases(count)}; auto-layout: {len(doc.project.pixel_map)} entries")
    return True


def add_canvas(window: ConsoleWindowApi) -> str | None:
    """One more canvas like the last one, shown selected in the Canvases panel."""
    window.show_dock("canvases")
    name = window.canvas_panel.add_canvas()
    if name is not None:
        window.status.say(f"added canvas {name}: set its size, node and processor in the Canvases panel")
    return name


def apply_fix(window: ConsoleWindowApi, fix: Fix) -> None:
    """Run a fix the Problems panel offers."""
    if fix.kind == "auto_layout":
        run_auto_layout(window)
    elif fix.kind == "add_canvas":
        add_canvas(window)
    elif fix.kind == "canvas_settings":
        window.show_dock("canvases")
        window.canvas_panel.tabs.setCurrentIndex(0)
        window.canvas_panel.select_canvas(fix.subject)
    elif fix.kind == "processor_settings":
        window.show_dock("canvases")
        window.canvas_panel.tabs.setCurrentIndex(1)
        window.canvas_panel.select_processor(fix.subject)


def start_engine(window: ConsoleWindowApi) -> bool:
    """Start the live engine, unless the project has errors: then say where the first one is."""
    doc = window.document
    assert doc is not None
    errors = [p for p in doc.validate() if p.severity == "error"]
    if errors:
        first, where = errors[0], location(errors[0], doc.display_name)
        window.status.say(f"the engine cannot start: {len(errors)} error(s), first {where}: {first.message} "
                          "(see Problems)")
        window.show_dock("problems")
        return False
    return window.live.start_engine()
