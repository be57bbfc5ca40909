"""ProblemFixes: what the console does about problems: auto-layout with advice, adding canvases and
the Problems panel's fix buttons.

It acts on the bound ``DocumentEditor`` (one undoable step per fix) and ``CanvasPanel``; a fix that
needs a panel shown asks for it through ``dock_wanted``. Auto-layout that does not fit says so in a
window-modal, non-blocking box that offers the way out (``vpstage.stage.canvas_edits.layout_advice``):
"Add 1 canvas and auto-layout" (one undoable step) or the Canvases panel to do it by hand.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from ui.action_group import ActionGroup
from ui.commands import DocumentEditor
from ui.layout_editor.canvas_panel import CanvasPanel
from vpstage.stage.canvas_edits import LayoutAdvice, add_canvases_and_layout, layout_advice
from vpstage.stage.map_edits import auto_layout_change
from vpstage.stage.problem_groups import Fix

ADD_AND_LAYOUT = "add_and_layout"
OPEN_CANVASES = "open_canvases"


def plural_canvases(count: int) -> str:
    return f"{count} canvas" if count == 1 else f"{count} canvases"


class ProblemFixes(ActionGroup):
    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self._editor: DocumentEditor | None = None
        self._canvases: CanvasPanel | None = None

    def bind(self, editor: DocumentEditor, canvases: CanvasPanel) -> None:
        """Fix ``editor``'s document; canvas fixes go through ``canvases`` (the Canvases panel)."""
        self._editor, self._canvases = editor, canvases

    def _bound(self) -> tuple[DocumentEditor, CanvasPanel]:
        assert self._editor is not None and self._canvases is not None, "ProblemFixes.bind() first"
        return self._editor, self._canvases

    def run_auto_layout(self) -> QMessageBox | None:
        """Auto-layout the pixel map; when the cabinets do not fit, the advice box (returned)."""
        editor, _ = self._bound()
        doc = editor.document
        advice = layout_advice(doc.layout)
        if advice.fits:
            if editor.run(lambda: auto_layout_change(doc.project, doc.layout)):
                self.message.emit(f"auto-layout: {len(doc.project.pixel_map)} pixel-map entries")
            return None
        self.message.emit(f"auto-layout refused: {advice.describe()}")
        return self.advise(advice)

    def advise(self, advice: LayoutAdvice) -> QMessageBox:
        """The box that says why auto-layout refused and offers what would make it fit."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Auto-layout", f"Auto-layout cannot place every cabinet: "
                          f"{advice.reason}.", QMessageBox.StandardButton.Cancel, self.host)
        box.setObjectName("autoLayoutBox")
        add = None
        if advice.canvases_needed:
            w, h = advice.like
            count = plural_canvases(advice.canvases_needed)
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
                self.add_canvases_for_layout(advice.canvases_needed)
            elif clicked is panel:
                self.dock_wanted.emit("canvases")

        box.finished.connect(lambda _result: answered())
        box.open()
        return box

    def add_canvases_for_layout(self, count: int) -> bool:
        editor, _ = self._bound()
        doc = editor.document
        if not editor.run(lambda: add_canvases_and_layout(doc.project, doc.layout, count)):
            return False
        self.message.emit(f"added {plural_canvases(count)}; auto-layout: {len(doc.project.pixel_map)} entries")
        return True

    def add_canvas(self) -> str | None:
        """One more canvas like the last one, shown selected in the Canvases panel."""
        _, canvases = self._bound()
        self.dock_wanted.emit("canvases")
        name = canvases.add_canvas()
        if name is not None:
            self.message.emit(f"added canvas {name}: set its size, node and processor in the Canvases panel")
        return name

    def apply_fix(self, fix: Fix) -> None:
        """Run a fix the Problems panel offers."""
        _, canvases = self._bound()
        if fix.kind == "auto_layout":
            self.run_auto_layout()
        elif fix.kind == "add_canvas":
            self.add_canvas()
        elif fix.kind == "canvas_settings":
            self.dock_wanted.emit("canvases")
            canvases.tabs.setCurrentIndex(0)
            canvases.select_canvas(fix.subject)
        elif fix.kind == "processor_settings":
            self.dock_wanted.emit("canvases")
            canvases.tabs.setCurrentIndex(1)
            canvases.select_processor(fix.subject)
