"""Hide the stray dock tab bars Qt 6.11 leaves behind (and show again the ones in use).

When dock widgets are tabified and split (and again on ``restoreState``), QMainWindow's layout can
leave a tab bar it no longer uses visible at an old position, where it shows over the top of
another dock (seen offscreen and under X11 with PySide6 6.11). A tab bar in use sits against the
bottom edge of the dock whose tab is current; any other window-level tab bar is stale and hidden.
A tidy that ran while the docks were still moving (a workspace switch re-places them all) may
have hidden a bar that is in use once they settle: such a bar is shown again.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

EDGE_SLOP_PX = 4


def _in_use(bar: QTabBar, docks: list[QDockWidget]) -> bool:
    titles = {bar.tabText(i) for i in range(bar.count())}
    rect = bar.geometry()
    for dock in docks:
        if dock.windowTitle() not in titles or not dock.isVisible() or dock.isFloating():
            continue
        area = dock.geometry()
        overlaps = rect.left() < area.right() and area.left() < rect.right()
        if overlaps and abs(rect.top() - area.bottom() - 1) <= EDGE_SLOP_PX:
            return True
    return False


def hide_stray_tab_bars(window: QMainWindow) -> int:
    """Hide the window's dock tab bars that no dock sits on, show hidden ones a dock sits on again;
    returns how many were hidden."""
    docks = window.findChildren(QDockWidget)
    hidden = 0
    for bar in window.findChildren(QTabBar):
        if bar.parent() is not window:
            continue
        in_use = bar.count() > 1 and _in_use(bar, docks)
        if bar.isVisible() and not in_use:
            bar.hide()
            hidden += 1
        elif not bar.isVisible() and in_use and window.isVisible():
            bar.show()
    return hidden
