"""Live preview: every canvas as the frame loop last presented it (a thumbnail grid and one large
view), the camera view (what the film camera sees of the wall), and test-pattern controls.

The panel says which pictures it shows and how wide (``requests_changed``: nothing while it is
hidden); the live-views worker decimates ``FrameLoop.latest_image`` to those widths off the GUI
thread (about 10 times a second, skipping canvases that did not change) and the pictures arrive
through :meth:`show_previews`; the camera view through :meth:`show_camera_view`. Pattern changes
go to the engine's ``PatternTarget``, which applies them from the next frame.

While the engine starts, each view says what it waits for (its node's start-up step, then
"waiting for the first frames"; ``ui.live.startup``). When the engine stops, every picture stays,
greyed and labelled with the time of its last frame (``stopped at 14:02:33``): an old picture is
never taken for a live one, and pictures that arrive after the stop are dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ui.live.image_view import ImageView
from ui.live.live_views import CameraView, PreviewFrame
from ui.live.models import LiveModels
from ui.live.startup import startup_progress
from vpstage.patterns import PatternSpec
from vpstage.stage.document import StageDocument

LARGE = "large"
"""Request key of the large view (thumbnails use their canvas name)."""
SCENE = "Scene"
STARTUP_POLL_MS = 300
PATTERN_CHOICES: tuple[str, ...] = (SCENE, "Cabinets", "Grid", "Bars", "Sync", "Solid colour", "Blackout")
_BY_NAME = {"cabinets": "Cabinets", "grid": "Grid", "bars": "Bars", "sync": "Sync", "solid": "Solid colour",
            "black": "Blackout"}


def pattern_spec(choice: str, colour: tuple[int, int, int]) -> PatternSpec | None:
    """The PatternSpec of a menu choice (None: the scene)."""
    names = {v: k for k, v in _BY_NAME.items()}
    if choice == SCENE:
        return None
    name = names[choice]
    return PatternSpec("solid", color=colour) if name == "solid" else PatternSpec(name)  # type: ignore[arg-type]


def choice_of(spec: PatternSpec | None) -> str:
    return SCENE if spec is None else _BY_NAME.get(spec.name, spec.name)


def stopped_label(made_at: float) -> str:
    """``stopped at 14:02:33``: the wall-clock time of a stale picture's last frame."""
    return f"stopped at {time.strftime('%H:%M:%S', time.localtime(made_at or time.time()))}"


class PatternCombo(QComboBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItems(PATTERN_CHOICES)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(6)

    def allow_scene(self, allowed: bool) -> None:
        item = self.model().item(0)  # type: ignore[attr-defined]
        item.setEnabled(allowed)


class CanvasTile(QWidget):
    """One canvas: its thumbnail and its pattern menu."""

    def __init__(self, canvas: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.view = ImageView(canvas, min_size=QSize(64, 36))
        self.pattern = PatternCombo()
        self.pattern.setToolTip(f"What {canvas} shows")
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self.view, 1)
        box.addWidget(self.pattern)


class PreviewPanel(QWidget):
    canvas_selected = Signal(str)
    requests_changed = Signal(object)
    """dict: view key -> (canvas, width in pixels) the panel wants pictures for (GUI thread)."""

    def __init__(self, document: StageDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc = document
        self._models: LiveModels | None = None
        self._colour = (128, 128, 128)
        self.selected: str | None = None
        self.tiles: dict[str, CanvasTile] = {}
        self.large = ImageView(min_size=QSize(160, 90))
        self.camera_view = ImageView("camera view", min_size=QSize(160, 90))
        self.camera_view.set_placeholder("no tracked camera")
        self.all_patterns = PatternCombo()
        self.all_patterns.setToolTip("Show this on every canvas")
        self.colour_button = QPushButton("Colour…")
        self.colour_button.clicked.connect(self._pick_colour)
        self.scene_referred = QCheckBox("Scene-referred")
        self.scene_referred.setToolTip("Show colour-managed canvases as the scene renders them, before their colour "
                                       "transform and regions (the wall still gets its code values)")
        self.scene_referred.toggled.connect(lambda _on: self._apply_scene_referred())
        self.status = QLabel()
        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(4)
        self._build_layout()
        self.all_patterns.activated.connect(lambda _i: self._apply_choice(None, self.all_patterns.currentText()))
        self._announce = QTimer(self)  # a resize drag announces its last size only
        self._announce.setSingleShot(True)
        self._announce.setInterval(120)
        self._announce.timeout.connect(self._send_requests)
        self.large.resized.connect(self._announce.start)
        self._startup = QTimer(self)  # what each view waits for while the engine starts
        self._startup.setInterval(STARTUP_POLL_MS)
        self._startup.timeout.connect(self._show_startup)
        self._bound_at = 0.0
        document.project_changed.connect(self._on_project_changed)
        self._rebuild_tiles()
        self.bind(None)

    def _build_layout(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("All canvases:"))
        bar.addWidget(self.all_patterns)
        bar.addWidget(self.colour_button)
        bar.addWidget(self.scene_referred)
        bar.addStretch(1)
        bar.addWidget(self.status)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.large, 3)
        column.addWidget(self._grid_host, 2)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.camera_view)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(bar)
        box.addWidget(split, 1)

    def _apply_scene_referred(self) -> None:
        """The running loop's previews follow the Scene-referred box (the camera view's pictures
        come from the same thumbnails, so it follows too)."""
        previews = getattr(getattr(self._models, "loop", None), "previews", None)
        if previews is not None:
            previews.set_scene_referred(self.scene_referred.isChecked())

    def detach(self) -> None:
        self._announce.stop()
        self._startup.stop()
        self._doc.project_changed.disconnect(self._on_project_changed)

    # ------------------------------------------------------------------ binding

    def bind(self, models: LiveModels | None) -> None:
        """Show the running engine's canvases (None: the engine is stopped; the pictures stay,
        marked stale)."""
        was_running = self._models is not None
        self._models = models
        running = models is not None and models.loop is not None
        patterns = models.patterns if models is not None else None
        for tile in self.tiles.values():
            tile.pattern.setEnabled(patterns is not None)
            tile.pattern.allow_scene(bool(patterns and patterns.supports_scene))
            if patterns is not None:
                tile.pattern.setCurrentText(choice_of(patterns.pattern_for(tile.canvas)))
        choices = {tile.pattern.currentText() for tile in self.tiles.values()}
        self.all_patterns.setCurrentText(choices.pop() if len(choices) == 1 else "")
        self.all_patterns.setEnabled(patterns is not None)
        self.all_patterns.allow_scene(bool(patterns and patterns.supports_scene))
        self.colour_button.setEnabled(patterns is not None)
        self._apply_scene_referred()
        if running:
            self._show_live_views()
        elif was_running:
            self._show_stale_views()
        else:
            self._show_views_stopped()
        self._send_requests()

    def views(self) -> list[ImageView]:
        """Every picture the panel shows: the thumbnails, the large view and the camera view."""
        return [*(tile.view for tile in self.tiles.values()), self.large, self.camera_view]

    def _show_live_views(self) -> None:
        for view in self.views():
            view.set_image(None)
            view.source = None
            view.set_placeholder("engine starting…")
        self.camera_view.set_placeholder("no tracked camera yet")
        self.status.setText("engine starting…")
        self._bound_at = time.monotonic()
        self._startup.start()
        self._show_startup()

    def _show_stale_views(self) -> None:
        """The engine stopped: every picture stays, greyed and labelled with its last frame's time."""
        self._startup.stop()
        for view in self.views():
            view.set_stale(stopped_label(view.made_at))
            view.set_placeholder("engine stopped")
        shown = [v.made_at for v in self.views() if v.image is not None and v.made_at]
        self.status.setText(f"engine stopped · last picture {time.strftime('%H:%M:%S', time.localtime(max(shown)))}"
                            if shown else "engine stopped")

    def _show_views_stopped(self) -> None:
        self._startup.stop()
        for view in self.views():
            if view.stale_label is None:
                view.set_image(None)
            view.set_placeholder("engine stopped")
        if not any(v.stale_label for v in self.views()):
            self.status.setText("engine stopped")

    def _show_startup(self) -> None:
        """While the engine starts: what each view waits for (its node's step, the first frames)."""
        loop = self._models.loop if self._models is not None else None
        if loop is None or not hasattr(loop, "cluster"):
            self._startup.stop()
            return
        progress = startup_progress(loop, time.monotonic() - self._bound_at)
        nodes = {c.name: c.node for c in self._doc.project.canvases}
        for name, tile in self.tiles.items():
            tile.view.set_placeholder(progress.node_text(nodes.get(name, "")))
        self.large.set_placeholder(progress.line())
        self.status.setText("" if progress.done else progress.line())
        if progress.done:
            self._startup.stop()

    def _canvas_names(self) -> list[str]:
        return [c.name for c in self._doc.project.canvases]

    def _on_project_changed(self, _change: object) -> None:
        if list(self.tiles) != self._canvas_names():
            self._rebuild_tiles()
            self.bind(self._models)

    def _rebuild_tiles(self) -> None:
        for tile in self.tiles.values():
            tile.setParent(None)
            tile.deleteLater()
        self.tiles = {}
        names = self._canvas_names()
        columns = max(1, min(4, len(names)))
        for i, name in enumerate(names):
            tile = CanvasTile(name)
            tile.view.clicked.connect(self._selector(name))
            tile.view.resized.connect(self._announce.start)
            tile.pattern.activated.connect(self._pattern_setter(name, tile.pattern))
            self._grid.addWidget(tile, i // columns, i % columns)
            self.tiles[name] = tile
        self.select(names[0] if names else None)

    def _selector(self, name: str) -> Callable[[], None]:
        return lambda: self.select(name)

    def _pattern_setter(self, name: str, combo: QComboBox) -> Callable[[int], None]:
        return lambda _index: self._apply_choice(name, combo.currentText())

    def select(self, canvas: str | None) -> None:
        """Show ``canvas`` in the large view."""
        self.selected = canvas
        for name, tile in self.tiles.items():
            tile.view.highlighted = name == canvas
            tile.view.update()
        self.large.caption = canvas or ""
        self.large.set_image(None)
        self.large.source = None
        self._send_requests()
        if canvas is not None:
            self.canvas_selected.emit(canvas)

    # ------------------------------------------------------------------ patterns

    def _pick_colour(self) -> None:
        colour = QColorDialog.getColor(QColor(*self._colour), self, "Solid colour")
        if colour.isValid():
            self.set_solid_colour((colour.red(), colour.green(), colour.blue()))

    def set_solid_colour(self, rgb: tuple[int, int, int]) -> None:
        """The colour of the solid pattern (applied at once to canvases showing it)."""
        self._colour = rgb
        self.colour_button.setStyleSheet(f"background: rgb{rgb};")
        for name, tile in self.tiles.items():
            if tile.pattern.currentText() == "Solid colour":
                self._apply_choice(name, "Solid colour")

    def apply_pattern(self, canvas: str | None, spec: PatternSpec | None) -> None:
        """Show ``spec`` on ``canvas`` (None: every canvas; ``spec`` None: the scene) as if it was
        picked in the canvas's menu (the remote control API goes through here)."""
        if spec is not None and spec.name == "solid":
            self._colour = spec.color
            self.colour_button.setStyleSheet(f"background: rgb{spec.color};")
        self._apply_choice(canvas, choice_of(spec))

    def _apply_choice(self, canvas: str | None, choice: str) -> None:
        patterns = self._models.patterns if self._models is not None else None
        if patterns is None:
            return
        spec = pattern_spec(choice, self._colour)
        try:
            patterns.set_pattern(spec, canvas)
        except (KeyError, ValueError) as exc:
            self.status.setText(str(exc))
            return
        for name, tile in self.tiles.items():
            if canvas is None or name == canvas:
                tile.pattern.setCurrentText(choice)

    # ------------------------------------------------------------------ pictures

    def requests(self) -> dict[str, tuple[str, int]]:
        """What the panel shows now: view key -> (canvas, width); empty while hidden or stopped."""
        if self._models is None or self._models.loop is None or not self.isVisible():
            return {}
        wanted = {name: (name, max(1, tile.view.width())) for name, tile in self.tiles.items()}
        if self.selected is not None:
            wanted[LARGE] = (self.selected, max(1, self.large.width()))
        return wanted

    def _send_requests(self) -> None:
        self.requests_changed.emit(self.requests())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._send_requests()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._send_requests()

    def show_previews(self, frames: list[PreviewFrame]) -> None:
        """Decimated pictures from the live-views worker (GUI thread); none after a stop."""
        if self._models is None:
            return
        for frame in frames:
            view = self.large if frame.key == LARGE else self.tiles[frame.key].view if frame.key in self.tiles \
                else None
            if view is not None:
                view.set_image(frame.image, frame.pixels, frame.made_at)
                view.source = frame.source

    def show_camera_view(self, view: CameraView) -> None:
        """A camera view from the live-views worker (GUI thread); none after a stop."""
        if self._models is None:
            return
        self.camera_view.caption = f"camera {view.camera_name} · {view.render_ms:.1f} ms"
        self.camera_view.set_image(view.image, made_at=view.made_at)

    def clear_camera_view(self, reason: str) -> None:
        """The camera view has no live picture any more: the last one stays, greyed and labelled
        with its time, or ``reason`` shows where there was none."""
        self.camera_view.set_placeholder(reason)
        if self.camera_view.image is not None:
            self.camera_view.set_stale(stopped_label(self.camera_view.made_at))

