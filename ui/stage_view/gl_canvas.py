"""OpenGL backend of the 3D stage view (pyqtgraph.opengl): one GL item per layer.

Kept thin on purpose: everything it draws comes from ``ui.stage_view.geometry`` and its camera is
the shared OrbitCamera, mirrored into GLViewWidget's options. Mouse input is handled by the
owning StageView (identical for both backends), so this class never moves the camera itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph.opengl as gl
from PySide6.QtGui import QMouseEvent, QVector3D, QWheelEvent
from PySide6.QtWidgets import QWidget

from ui import palette
from ui.stage_view.geometry import Layer, LineLayer, QuadLayer
from ui.stage_view.orbit import OrbitCamera


class GLStageCanvas(gl.GLViewWidget):  # type: ignore[misc]  # pyqtgraph is untyped
    backend_name = "OpenGL (pyqtgraph)"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackgroundColor(tuple(round(c * 255) for c in palette.BACKGROUND))
        self._items: dict[str, Any] = {}
        self._shown: dict[str, Layer] = {}
        self.setMinimumSize(200, 150)

    def set_camera(self, camera: OrbitCamera) -> None:
        self.setCameraParams(center=QVector3D(*camera.center), distance=camera.distance,
                             elevation=camera.elevation_deg, azimuth=camera.azimuth_deg, fov=camera.fov_deg)

    def set_layers(self, layers: dict[str, Layer]) -> None:
        """Draw these layers (by name); GL items of unchanged layers are left alone."""
        for name in list(self._items):
            if name not in layers:
                self.removeItem(self._items.pop(name))
                self._shown.pop(name, None)
        for name, layer in layers.items():
            if self._shown.get(name) is not layer:
                self._update_item(name, layer)
                self._shown[name] = layer

    def _update_item(self, name: str, layer: Layer) -> None:
        item = self._items.get(name)
        if isinstance(layer, QuadLayer):
            verts = layer.corners.reshape(-1, 3)
            base = np.arange(len(layer), dtype=np.int32)[:, None] * 4
            faces = np.concatenate([base + [0, 1, 2], base + [0, 2, 3]], axis=1).reshape(-1, 3)
            face_colors = np.repeat(layer.colors, 2, axis=0)
            if item is None:
                item = gl.GLMeshItem(smooth=False, drawEdges=False, glOptions="translucent")
                self._add(name, item)
            item.setMeshData(vertexes=verts, faces=faces, faceColors=face_colors)
        elif isinstance(layer, LineLayer):
            if item is None:
                item = gl.GLLinePlotItem(mode="lines", antialias=True, glOptions="translucent")
                self._add(name, item)
            item.setData(pos=layer.points, color=layer.colors, width=layer.width)

    def _add(self, name: str, item: Any) -> None:
        self._items[name] = item
        self.addItem(item)

    # The owning StageView drives the camera: disable pyqtgraph's own mouse handling.
    def mousePressEvent(self, ev: QMouseEvent) -> None:
        ev.ignore()

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:
        ev.ignore()

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:
        ev.ignore()

    def wheelEvent(self, ev: QWheelEvent) -> None:
        ev.ignore()
