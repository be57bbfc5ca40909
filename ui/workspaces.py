"""Workspaces: the console's two dock arrangements, Live and Edit, one key apart (F2).

- **Live** (shooting): Health over Tracking (tabbed with Colour) in a full-height column on the right, nearly half
  the window wide (Health's columns and plots in view, the tracking readout and streams whole); on
  the left the live preview (as wide as its tiles and camera view need) beside the stage view, and
  the takes under both, wide enough for every column of the take list. Panels are locked: no
  drag, no float (View → Lock panels frees them).
- **Edit** (building the stage): the cabinet catalog on the left, the wall plan over the section
  form (tabbed with Canvases) on the right, the pixel map (tabbed with Problems) under the stage
  view. Panels move only by their drag handle.

Each workspace remembers its own arrangement (``QMainWindow.saveState``) and lock in the console
settings (``workspace/live``, ``workspace/edit``, ``workspace/current``); switching saves the one
being left and restores the other. Reset panel layout puts the current workspace back to its
default, sized for the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QByteArray, QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QMainWindow, QScrollArea

from ui.dock_title import DockTitleBar

WorkspaceName = Literal["live", "edit"]
WORKSPACES: tuple[WorkspaceName, ...] = ("live", "edit")
TITLES = {"live": "Live", "edit": "Edit"}
STATE_VERSION = 3
Area = Qt.DockWidgetArea
H, V = Qt.Orientation.Horizontal, Qt.Orientation.Vertical

LIVE_COLUMN_FRACTION = 0.46
LIVE_COLUMN_MIN_PX = 860
"""Health's table (a dozen columns) and plots need this much width at least."""
LIVE_COLUMN_MAX_PX = 1400
LIVE_HEALTH_FRACTION = 0.68
"""Of the right column's height; Tracking has the rest."""
LIVE_TAKES_FRACTION = 0.44
"""Of the height, for the takes along the bottom left."""
LIVE_PREVIEW_FRACTION = 0.5
"""Of the width left of the column, at least what the preview's tiles and camera view need."""


@dataclass(frozen=True)
class Arrangement:
    shown: tuple[str, ...]
    locked: bool


ARRANGEMENTS: dict[WorkspaceName, Arrangement] = {
    "live": Arrangement(("health", "tracking", "colour", "preview", "takes"), locked=True),
    "edit": Arrangement(("catalog", "plan", "section", "canvases", "map", "problems"), locked=False),
}


def parse_workspace(value: object, default: WorkspaceName) -> WorkspaceName:
    text = str(value).lower() if value is not None else ""
    return next((name for name in WORKSPACES if name == text), default)


class Workspaces(QObject):
    changed = Signal(str)
    """(name): the window now shows this workspace."""

    def __init__(self, window: QMainWindow, docks: dict[str, QDockWidget], settings: QSettings,
                 default: WorkspaceName) -> None:
        """``docks``: the window's docks by key (filled in as the window builds them)."""
        super().__init__(window)
        self.window, self.docks, self.settings = window, docks, settings
        self.current: WorkspaceName = default
        self._states: dict[WorkspaceName, QByteArray] = {}
        self._locked: dict[WorkspaceName, bool] = {name: ARRANGEMENTS[name].locked for name in WORKSPACES}

    # ------------------------------------------------------------------ default arrangements

    def _dock(self, key: str) -> QDockWidget:
        return self.docks[key]

    def _put(self, area: Area, keys: Sequence[str]) -> None:
        for key in keys:
            dock = self._dock(key)
            dock.setFloating(False)
            self.window.addDockWidget(area, dock)

    def corners(self, name: WorkspaceName) -> None:
        """The right column runs to the bottom; on the left, Edit's catalog does too, Live's takes
        run under the preview and the stage view."""
        w = self.window
        w.setCorner(Qt.Corner.BottomLeftCorner, Area.LeftDockWidgetArea if name == "edit" else
                    Area.BottomDockWidgetArea)
        w.setCorner(Qt.Corner.BottomRightCorner, Area.RightDockWidgetArea)

    def place(self, name: WorkspaceName) -> None:
        """Put every dock where workspace ``name`` has it (positions and visibility, no sizes)."""
        w = self.window
        self.corners(name)
        shown = ARRANGEMENTS[name].shown
        self._put(Area.TopDockWidgetArea, [k for k in self.docks if k not in shown])  # hidden, out of the way
        if name == "live":
            self._put(Area.RightDockWidgetArea, ["health"])
            w.splitDockWidget(self._dock("health"), self._dock("tracking"), V)
            w.tabifyDockWidget(self._dock("tracking"), self._dock("colour"))
            self._put(Area.LeftDockWidgetArea, ["preview"])
            self._put(Area.BottomDockWidgetArea, ["takes"])
        else:
            self._put(Area.LeftDockWidgetArea, ["catalog"])
            self._put(Area.RightDockWidgetArea, ["plan"])
            w.splitDockWidget(self._dock("plan"), self._dock("section"), V)
            w.tabifyDockWidget(self._dock("section"), self._dock("canvases"))
            self._put(Area.BottomDockWidgetArea, ["map"])
            w.tabifyDockWidget(self._dock("map"), self._dock("problems"))
        for key, dock in self.docks.items():
            dock.setVisible(key in shown)
        for key in ("section", "map", "tracking"):
            if key in shown:
                self._dock(key).raise_()

    def size(self, name: WorkspaceName) -> None:
        """Default proportions of workspace ``name`` for the window's current size."""
        w, d = self.window, self._dock
        width, height = w.width(), w.height()

        def split(keys: Sequence[str], total: float, fractions: Sequence[float], orientation: Qt.Orientation) -> None:
            w.resizeDocks([d(k) for k in keys], [max(1, int(total * f)) for f in fractions], orientation)

        if name == "live":
            column = min(max(width * LIVE_COLUMN_FRACTION, LIVE_COLUMN_MIN_PX), LIVE_COLUMN_MAX_PX, width * 0.7)
            split(["health"], column, [1.0], H)
            split(["health", "tracking"], height, [LIVE_HEALTH_FRACTION, 1 - LIVE_HEALTH_FRACTION], V)
            left = width - column
            preview = min(max(left * LIVE_PREVIEW_FRACTION, self._content_width("preview")), left * 0.8)
            split(["preview"], preview, [1.0], H)
            split(["takes"], height, [LIVE_TAKES_FRACTION], V)
        else:
            split(["catalog", "plan"], width, [0.16, 0.3], H)
            split(["plan", "section"], height, [0.5, 0.4], V)
            split(["map"], height, [0.4], V)

    def _content_width(self, key: str) -> int:
        """The smallest width dock ``key`` shows its panel in without scrolling sideways."""
        dock = self._dock(key)
        area = dock.widget()
        panel = area.widget() if isinstance(area, QScrollArea) else area
        frame = dock.width() - area.width() if area is not None else 0
        slack = 16  # resizeDocks() shares the separators out of the sizes it is given
        return (panel.minimumSizeHint().width() if panel is not None else 0) + max(frame, 0) + slack

    def arrange(self, name: WorkspaceName) -> None:
        """Workspace ``name`` as it comes: default places, sizes and lock."""
        self._locked[name] = ARRANGEMENTS[name].locked
        self.place(name)
        self.size(name)
        self.apply_lock()

    # ------------------------------------------------------------------ switching

    def switch(self, name: WorkspaceName) -> None:
        """Show workspace ``name`` (the one being left keeps its arrangement for next time)."""
        if name == self.current:
            return
        self._states[self.current] = self.window.saveState(STATE_VERSION)
        self.current = name
        state = self._states.get(name)
        self.corners(name)
        if state is None or not self.window.restoreState(state, STATE_VERSION):
            self.arrange(name)
        self.apply_lock()
        self.changed.emit(name)

    def toggle(self) -> None:
        self.switch("edit" if self.current == "live" else "live")

    def reset(self) -> None:
        """The current workspace back to its default arrangement (docks floated or closed return)."""
        self.arrange(self.current)
        self.changed.emit(self.current)

    # ------------------------------------------------------------------ locking

    @property
    def locked(self) -> bool:
        return self._locked[self.current]

    def set_locked(self, locked: bool) -> None:
        self._locked[self.current] = locked
        self.apply_lock()

    def apply_lock(self) -> None:
        locked = self._locked[self.current]
        for dock in self.docks.values():
            title = dock.titleBarWidget()
            if isinstance(title, DockTitleBar):
                title.set_locked(locked and not dock.isFloating())

    # ------------------------------------------------------------------ settings

    def save(self) -> None:
        self._states[self.current] = self.window.saveState(STATE_VERSION)
        self.settings.setValue("workspace/current", self.current)
        for name in WORKSPACES:
            if name in self._states:
                self.settings.setValue(f"workspace/{name}", self._states[name])
            self.settings.setValue(f"workspace/{name}_locked", self._locked[name])

    def restore(self) -> bool:
        """Arrangements and locks from the settings; the current workspace restored. False when
        nothing valid was saved for it (the caller arranges it once the window has its size)."""
        self.current = parse_workspace(self.settings.value("workspace/current"), self.current)
        for name in WORKSPACES:
            state = self.settings.value(f"workspace/{name}")
            if isinstance(state, QByteArray):
                self._states[name] = state
            locked = self.settings.value(f"workspace/{name}_locked")
            if locked is not None:
                self._locked[name] = str(locked).lower() in ("true", "1")
        state = self._states.get(self.current)
        self.corners(self.current)
        restored = state is not None and self.window.restoreState(state, STATE_VERSION)
        self.apply_lock()
        return restored
