"""StageView: the 3D view of the stage (cabinets coloured by render node, selection, problems).

Mouse: left-drag orbits, right- or middle-drag (or Ctrl+left-drag) pans, the wheel zooms; a
click picks the cabinet under the cursor (Shift or Ctrl+click toggles it) and selects it in every
view. Keys: F frames the stage, arrows orbit, +/- zoom.

Hooks for the live engine take plain data, so wiring them is one call per frame or event:
:meth:`set_tracked_camera` (CameraState), :meth:`set_footprints` (inner-frustum outline on the
wall, one (K, 3) polyline per piece), :meth:`set_dod_crops` (OrientedBox per node),
:meth:`set_scene_bounds` (measured asset bounds). Call them on the GUI thread.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import (
    QGuiApplication,
    QKeyEvent,
    QMouseEvent,
    QOffscreenSurface,
    QOpenGLContext,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ui import palette
from ui.stage_view import geometry
from ui.stage_view.orbit import OrbitCamera
from ui.stage_view.painter_canvas import PainterStageCanvas
from vpstage.geometry import OrientedBox
from vpstage.stage.document import StageDocument
from vpstage.stage.picking import pick_quad
from vpstage.tracking.camera import CameraState

CLICK_SLOP_PX = 4
LIVE_LAYERS = frozenset({"camera", "footprint", "crops"})
"""Overlays the live engine updates many times a second (the software backend redraws only these)."""
ORBIT_DEG_PER_PX = 0.4
NO_GL_PLATFORMS = ("offscreen", "minimal", "vnc", "linuxfb")


SOFTWARE_GL = ("llvmpipe", "softpipe", "swrast", "software rasterizer")


def probe_gl() -> tuple[str | None, str]:
    """(renderer name, or None when no GL context can be made here; why not)."""
    if QGuiApplication.instance() is None:
        return None, "no Qt application yet"
    platform = QGuiApplication.platformName()
    if platform in NO_GL_PLATFORMS:
        return None, f"the Qt '{platform}' platform has no OpenGL"
    try:
        import pyqtgraph.opengl  # noqa: F401
        from OpenGL import GL
    except ImportError as exc:  # PyOpenGL missing or broken
        return None, f"pyqtgraph.opengl cannot be imported: {exc}"
    context, surface = QOpenGLContext(), QOffscreenSurface()
    surface.create()
    if not context.create() or not context.makeCurrent(surface):
        return None, "no OpenGL context could be created"
    renderer = GL.glGetString(GL.GL_RENDERER)
    context.doneCurrent()
    name = renderer.decode(errors="replace") if isinstance(renderer, bytes) else str(renderer)
    return name, f"OpenGL: {name}"


def gl_available() -> tuple[bool, str]:
    """Whether the 3D view should use OpenGL here, and why (not).

    OpenGL needs a platform with GL contexts. A software GL rasterizer (Mesa llvmpipe on a machine
    without a GPU) is passed over too: a window holding a GL widget is then composed on the CPU at
    every repaint, which costs tens of milliseconds per selection change (docs/benchmarks.md),
    while the QPainter backend draws the same layers in a few. ``VPSTAGE_STAGE_VIEW=software``
    (or ``gl``) forces a backend.
    """
    forced = os.environ.get("VPSTAGE_STAGE_VIEW", "").lower()
    if forced in ("software", "gl"):
        return forced == "gl", f"VPSTAGE_STAGE_VIEW={forced}"
    renderer, why = probe_gl()
    if renderer is None:
        return False, why
    if any(soft in renderer.lower() for soft in SOFTWARE_GL):
        return False, f"OpenGL renders in software here ({renderer}); the QPainter backend is faster"
    return True, why


def new_sections(change: object) -> list[str]:
    """Names of the sections a Change adds (an add, a duplicate, the undo of a removal)."""
    before = getattr(change, "before", {}).get("sections")
    after = getattr(change, "after", {}).get("sections")
    if before is None or after is None:
        return []
    old = {s.name for s in before}
    return [s.name for s in after if s.name not in old]


class StageView(QWidget):
    """3D view of a StageDocument; keeps only view state (camera) and overlay inputs."""

    def __init__(self, document: StageDocument, parent: QWidget | None = None, backend: str = "auto") -> None:
        super().__init__(parent)
        self._doc = document
        use_gl, self.backend_reason = gl_available() if backend == "auto" else (backend == "gl", f"asked for {backend}")
        if use_gl:
            from ui.stage_view.gl_canvas import GLStageCanvas

            self.canvas: QWidget = GLStageCanvas(self)
        else:
            self.canvas = PainterStageCanvas(self, live_layers=LIVE_LAYERS)
        self.setObjectName("stageView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.canvas)
        self._layers: dict[str, geometry.Layer] = {}
        self._press: QPointF | None = None
        self._last: QPointF | None = None
        self._moved = False
        self._measured_bounds: list[OrientedBox] | None = None
        self._camera = OrbitCamera()
        self._auto_frame = True  # follow resizes with frame_stage() until the operator moves the camera
        document.project_changed.connect(self._on_project_changed)
        document.selection_changed.connect(self._on_marks_changed)
        document.validation_changed.connect(self._on_marks_changed)
        self._rebuild_stage()
        self.frame_stage()

    @property
    def backend_name(self) -> str:
        return str(getattr(self.canvas, "backend_name", type(self.canvas).__name__))

    def detach(self) -> None:
        """Stop observing the document (before the widget is dropped)."""
        self._doc.project_changed.disconnect(self._on_project_changed)
        self._doc.selection_changed.disconnect(self._on_marks_changed)
        self._doc.validation_changed.disconnect(self._on_marks_changed)

    # ------------------------------------------------------------------ layers

    @property
    def layers(self) -> dict[str, geometry.Layer]:
        """What is drawn now, by layer name (read-only use)."""
        return dict(self._layers)

    def _push(self) -> None:
        self.canvas.set_layers(dict(self._layers))  # type: ignore[attr-defined]

    def _on_project_changed(self, change: object) -> None:
        self._rebuild_stage()
        added = new_sections(change)
        if added and not self.shows_sections(added):
            self.frame_stage()  # a section built out of sight (a drop far out on the plan): bring it in

    def shows_sections(self, names: Sequence[str]) -> bool:
        """Whether every corner of the named sections' cabinets lies in front of the camera and
        inside the view."""
        layout = self._doc.layout
        wanted = [i for i, s in enumerate(layout.project.sections) if s.name in set(names)]
        mask = np.isin(np.asarray(layout.cabinets.section, dtype=np.int64), wanted)
        if not mask.any():
            return True
        width, height = max(self.canvas.width(), 16), max(self.canvas.height(), 9)
        pixels, depth = self._camera.project(layout.cabinets.corners[mask].reshape(-1, 3), width, height)
        inside = (pixels[:, 0] >= 0) & (pixels[:, 0] <= width) & (pixels[:, 1] >= 0) & (pixels[:, 1] <= height)
        return bool(np.all(inside & (depth > self._camera.near_clip())))

    def _on_marks_changed(self, _value: object) -> None:
        self._layers.update(self._mark_layers())
        self._push()

    def _mark_layers(self) -> dict[str, geometry.Layer]:
        problems = frozenset(self._doc.problem_cabinets())
        return geometry.mark_layers(self._doc.layout, self._doc.selection, problems)

    def _rebuild_stage(self) -> None:
        layout = self._doc.layout
        lo, hi = geometry.stage_extent(layout)
        self._layers["grid"] = geometry.floor_grid(max(float(np.abs([lo[:2], hi[:2]]).max()) + 1.0, 2.0))
        self._layers.update(geometry.cabinet_layers(layout))
        self._layers.update(self._mark_layers())
        self._layers["viewpoint"] = geometry.marker(layout.project.outer_viewpoint, 0.3, palette.TEXT)
        boxes = self._measured_bounds if self._measured_bounds is not None else geometry.scene_bounds(layout)
        self._layers["bounds"] = geometry.box_lines(boxes, [palette.BOUNDS] * len(boxes))
        self._push()

    # ------------------------------------------------------------------ hooks for live data

    def set_tracked_camera(self, camera: CameraState | None, far_m: float = 6.0) -> None:
        """Draw the tracked camera's frustum out to ``far_m`` metres (None hides it)."""
        self._set_overlay("camera", None if camera is None else geometry.frustum_lines(camera, far_m))

    def set_footprints(self, paths: Sequence[NDArray[np.float64]], closed: bool = True) -> None:
        """Draw the inner-frustum footprint: (K, 3) polylines on the wall (stage metres), closed
        loops unless ``closed`` is False (pieces that leave the wall)."""
        layer = geometry.polylines(paths, palette.FOOTPRINT, closed, width=3.0) if paths else None
        self._set_overlay("footprint", layer)

    def set_dod_crops(self, boxes: Sequence[OrientedBox], nodes: Sequence[str]) -> None:
        """Draw each node's DoD crop (stage frame), thin, in the node's colour (dimmed)."""
        index = {n.name: i for i, n in enumerate(self._doc.project.nodes)}
        colours = [palette.with_alpha(palette.node_colour(index.get(name, -1)), 0.6) for name in nodes]
        self._set_overlay("crops", geometry.box_lines(list(boxes), colours, width=1.0) if boxes else None)

    def set_scene_bounds(self, boxes: Sequence[OrientedBox] | None) -> None:
        """Measured scene bounds in the stage frame; None goes back to the bounds the project declares."""
        self._measured_bounds = None if boxes is None else list(boxes)
        self._rebuild_stage()

    def _set_overlay(self, name: str, layer: geometry.LineLayer | None) -> None:
        if layer is None:
            self._layers.pop(name, None)
        else:
            self._layers[name] = layer
        self._push()

    # ------------------------------------------------------------------ camera

    @property
    def camera(self) -> OrbitCamera:
        return self._camera

    def set_camera(self, camera: OrbitCamera) -> None:
        self._camera = camera
        self.canvas.set_camera(camera)  # type: ignore[attr-defined]

    def frame_stage(self) -> None:
        """Look at the whole stage from the current direction."""
        lo, hi = geometry.stage_extent(self._doc.layout)
        self.set_camera(self._camera.framing(lo, hi, max(self.canvas.width(), 16), max(self.canvas.height(), 9)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._auto_frame:
            self.frame_stage()

    # ------------------------------------------------------------------ picking

    def cabinet_at(self, x: float, y: float) -> str | None:
        """Id of the cabinet under widget pixel (x, y), or None."""
        origin, direction = self._camera.ray(x, y, max(self.canvas.width(), 1), max(self.canvas.height(), 1))
        hit = pick_quad(self._doc.layout.cabinets.corners, origin, direction)
        return None if hit is None else self._doc.layout.cabinets.ids[hit.index]

    def click(self, x: float, y: float, toggle: bool = False) -> None:
        """Select the cabinet at (x, y) everywhere (toggle adds/removes it); empty space clears."""
        cabinet = self.cabinet_at(x, y)
        if cabinet is None:
            if not toggle:
                self._doc.select([])
        else:
            self._doc.select([cabinet], mode="toggle" if toggle else "replace")

    # ------------------------------------------------------------------ input

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = self._last = event.position()
        self._moved = False
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._last is None or self._press is None:
            return
        pos = event.position()
        delta = pos - self._last
        self._last = pos
        if (pos - self._press).manhattanLength() > CLICK_SLOP_PX:
            self._moved = True
            self._auto_frame = False
        buttons, ctrl = event.buttons(), bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if buttons & (Qt.MouseButton.MiddleButton | Qt.MouseButton.RightButton) or (
                buttons & Qt.MouseButton.LeftButton and ctrl):
            self.set_camera(self._camera.panned(delta.x(), delta.y(), self.canvas.width()))
        elif buttons & Qt.MouseButton.LeftButton:
            self.set_camera(self._camera.orbited(-delta.x() * ORBIT_DEG_PER_PX, delta.y() * ORBIT_DEG_PER_PX))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and not self._moved and self._press is not None:
            mods = event.modifiers()
            toggle = bool(mods & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier))
            self.click(event.position().x(), event.position().y(), toggle)
        self._press = self._last = None

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        self._auto_frame = False
        self.set_camera(self._camera.zoomed(0.999 ** delta))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        steps = {Qt.Key.Key_Left: (5.0, 0.0), Qt.Key.Key_Right: (-5.0, 0.0),
                 Qt.Key.Key_Up: (0.0, 5.0), Qt.Key.Key_Down: (0.0, -5.0)}
        if key == Qt.Key.Key_F:
            self.frame_stage()
        elif key in steps:
            self.set_camera(self._camera.orbited(*steps[key]))  # type: ignore[index]
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.set_camera(self._camera.zoomed(0.85))
        elif key == Qt.Key.Key_Minus:
            self.set_camera(self._camera.zoomed(1 / 0.85))
        else:
            super().keyPressEvent(event)
