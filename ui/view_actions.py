"""ViewActions: framing the views, the two workspaces and the panel layout (View menu).

Workspaces: F2 switches between Live and Edit (View → Workspace, or the buttons in the menu bar's
corner); View → Lock panels keeps the current workspace's docks where they are; Reset panel layout
puts the current workspace's docks back as they come. The menu's checks follow ``Workspaces``
whoever switched it.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QWidget

from ui.action_group import ActionGroup
from ui.layout_editor.map_view import PixelMapView
from ui.layout_editor.plan_view import WallPlanView
from ui.stage_view.view import StageView
from ui.workspaces import TITLES, WORKSPACES, WorkspaceName, Workspaces


class ViewActions(ActionGroup):
    def __init__(self, host: QWidget, workspaces: Workspaces) -> None:
        super().__init__(host)
        self.workspaces = workspaces
        self._views: tuple[StageView, WallPlanView, PixelMapView] | None = None
        self.frame = self.action("&Frame everything", "Home", self.frame_all)
        self.reset_layout = self.action("&Reset panel layout", "Ctrl+Shift+0", workspaces.reset)
        self.switch_workspace = self.action("&Switch workspace (Live / Edit)", "F2", workspaces.toggle)
        self.workspace_group = QActionGroup(self)
        self.workspace: dict[WorkspaceName, QAction] = {name: self._workspace_action(name) for name in WORKSPACES}
        self.lock_panels = QAction("&Lock panels", host)
        self.lock_panels.setCheckable(True)
        self.lock_panels.setToolTip("Keep this workspace's panels where they are (no drag, no float)")
        self.lock_panels.toggled.connect(workspaces.set_locked)
        workspaces.changed.connect(self.show_workspace)

    def _workspace_action(self, name: WorkspaceName) -> QAction:
        action = QAction(f"{TITLES[name]} workspace", self.host)
        action.setCheckable(True)
        action.setIconText(TITLES[name].upper())
        action.setToolTip(f"{TITLES[name]} workspace (F2 switches)")
        action.triggered.connect(lambda _checked=False: self.workspaces.switch(name))
        self.workspace_group.addAction(action)
        return action

    def bind(self, stage_view: StageView, plan: WallPlanView, pixel_map: PixelMapView) -> None:
        """Frame these views (those of the project shown)."""
        self._views = (stage_view, plan, pixel_map)

    def show_workspace(self, name: str) -> None:
        """Menu checks follow the workspace on show (after a switch, a restore or a reset)."""
        action = self.workspace.get(name)  # type: ignore[call-overload]
        if action is not None:
            action.setChecked(True)
        self.lock_panels.blockSignals(True)
        self.lock_panels.setChecked(self.workspaces.locked)
        self.lock_panels.blockSignals(False)

    def frame_all(self) -> None:
        """The whole stage in the 3D view, the wall plan and the pixel map."""
        assert self._views is not None, "ViewActions.bind() first"
        stage_view, plan, pixel_map = self._views
        stage_view.frame_stage()
        plan.fit()
        pixel_map.fit()
