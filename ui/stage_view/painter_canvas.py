"""Software backend of the 3D stage view: projects the layers with the OrbitCamera and draws them
with QPainter. Used where OpenGL is unavailable (offscreen, remote desktops without GL) and in
tests; it draws the same layers as the GL backend from the same camera.

Quads are painted far to near (painter's algorithm); lines go on top in layer order, clipped
against the near plane. Everything but the live layers (``live_layers``: the tracked camera, its
footprint, the DoD crops, which change up to 30 times a second) is drawn once into an image kept
until the camera, the size or one of those layers changes; a live update only repaints that
image and the live lines over it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph.functions as fn
from numpy.typing import NDArray
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from ui import palette
from ui.stage_view.geometry import Layer, LineLayer, QuadLayer
from ui.stage_view.orbit import OrbitCamera


def qcolor(rgba: NDArray[np.float32] | tuple[float, ...]) -> QColor:
    r, g, b, a = (float(v) for v in rgba)
    return QColor.fromRgbF(r, g, b, a)


def clip_segments(cam_points: NDArray[np.float64], near: float) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Clip segments (S, 2, 3) given in camera space (looking down -Z) to z <= -near.

    Returns the clipped segments and a mask of those with anything left in front of the eye.
    """
    seg = cam_points.copy()
    z0, z1 = -seg[:, 0, 2], -seg[:, 1, 2]  # depths
    keep = (z0 >= near) | (z1 >= near)
    for a, b, za, zb in ((0, 1, z0, z1), (1, 0, z1, z0)):
        behind = keep & (za < near)
        t = np.where(behind, (near - za) / np.where(zb - za == 0, 1e-12, zb - za), 0.0)
        seg[behind, a] = seg[behind, a] + (seg[behind, b] - seg[behind, a]) * t[behind, None]
    return seg, keep


class PainterStageCanvas(QWidget):
    """Draws named layers from an OrbitCamera. Holds only what it was last told to draw."""

    backend_name = "software (QPainter)"

    def __init__(self, parent: QWidget | None = None, live_layers: frozenset[str] = frozenset()) -> None:
        super().__init__(parent)
        self.live_layers = live_layers
        self._static: QImage | None = None
        self._static_key: tuple[tuple[object, ...], tuple[Layer, ...]] = ((), ())
        """(camera, size, pixel ratio and layer names; the layer objects, compared by identity)."""
        self._layers: dict[str, Layer] = {}
        self._groups: dict[str, tuple[NDArray[np.float32], NDArray[np.intp]]] = {}
        self._camera = OrbitCamera()
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 150)

    def set_layers(self, layers: dict[str, Layer]) -> None:
        """Draw these layers (by name); layers identical to the last call are not reprocessed."""
        self._groups = {name: self._groups[name] if self._layers.get(name) is layer else self._colour_groups(layer)
                        for name, layer in layers.items()}
        self._layers = dict(layers)
        self.update()

    @staticmethod
    def _colour_groups(layer: Layer) -> tuple[NDArray[np.float32], NDArray[np.intp]]:
        """Distinct colours of a layer and, per quad or segment, which one it uses (computed once
        per layer, not per frame)."""
        colors = layer.colors if isinstance(layer, QuadLayer) else layer.colors[0::2]
        if len(colors) == 0:
            return np.zeros((0, 4), np.float32), np.zeros(0, np.intp)
        unique, groups = np.unique(colors, axis=0, return_inverse=True)
        return unique, groups.reshape(-1)

    def set_camera(self, camera: OrbitCamera) -> None:
        self._camera = camera
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        static = {n: layer for n, layer in self._layers.items() if n not in self.live_layers}
        view = (self._camera, self.width(), self.height(), self.devicePixelRatioF(), tuple(static))
        layers = tuple(static.values())
        if (self._static is None or self._static_key[0] != view or len(layers) != len(self._static_key[1])
                or any(a is not b for a, b in zip(layers, self._static_key[1], strict=True))):
            self._static, self._static_key = self._draw_static(static), (view, layers)
        painter = QPainter(self)
        painter.drawImage(0, 0, self._static)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for name, layer in self._layers.items():
            if name in self.live_layers and isinstance(layer, LineLayer):
                self._draw_lines(painter, layer, *self._groups[name])
        painter.end()

    def _draw_static(self, layers: dict[str, Layer]) -> QImage:
        ratio = self.devicePixelRatioF()
        image = QImage(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(ratio)
        image.fill(qcolor(palette.BACKGROUND))
        painter = QPainter(image)
        # Large antialiased translucent fills cost most of a software frame; only lines get AA.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for name, layer in layers.items():
            if isinstance(layer, QuadLayer):
                self._draw_quads(painter, layer, *self._groups[name])
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for name, layer in layers.items():
            if isinstance(layer, LineLayer):
                self._draw_lines(painter, layer, *self._groups[name])
        painter.end()
        return image

    def _to_camera(self, points: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        view = self._camera.view_matrix()
        return np.asarray(points, dtype=np.float64) @ view[:3, :3].T + view[:3, 3]

    def _to_pixels(self, cam: NDArray[np.float64]) -> NDArray[np.float64]:
        w, h = max(self.width(), 1), max(self.height(), 1)
        tx = np.tan(np.radians(self._camera.fov_deg) / 2)
        ty = tx * h / w
        depth = np.maximum(-cam[..., 2], 1e-9)
        x = (cam[..., 0] / depth / tx + 1.0) * w / 2
        y = (1.0 - cam[..., 1] / depth / ty) * h / 2
        return np.stack([x, y], axis=-1)

    def _draw_quads(self, painter: QPainter, layer: QuadLayer, unique: NDArray[np.float32],
                    groups: NDArray[np.intp]) -> None:
        """Fill the quads in front of the eye, one path per colour (tints are translucent, so the
        order between colours hardly shows; within a colour it does not matter)."""
        if len(layer) == 0:
            return
        cam = self._to_camera(layer.corners.reshape(-1, 3)).reshape(-1, 4, 3)
        visible = np.all(-cam[:, :, 2] > self._camera.near_clip(), axis=1)
        pixels = self._to_pixels(cam[visible])
        closed = np.concatenate([pixels, pixels[:, :1]], axis=1)  # (n, 5, 2): back to the first corner
        groups = groups[visible]
        connect = np.tile(np.array([1, 1, 1, 1, 0], dtype=np.int32), len(closed))
        painter.setPen(Qt.PenStyle.NoPen)
        for k, colour in enumerate(unique):
            mine = closed[groups == k].reshape(-1, 2)
            if not len(mine):
                continue
            path = fn.arrayToQPath(mine[:, 0], mine[:, 1], connect[: len(mine)], finiteCheck=False)
            path.setFillRule(Qt.FillRule.WindingFill)  # overlapping quads stay filled
            painter.setBrush(qcolor(colour))
            painter.drawPath(path)

    def _draw_lines(self, painter: QPainter, layer: LineLayer, unique: NDArray[np.float32],
                    groups: NDArray[np.intp]) -> None:
        """Segments clipped to the near plane, one path per colour."""
        if len(layer) == 0:
            return
        cam = self._to_camera(layer.points).reshape(-1, 2, 3)
        seg, keep = clip_segments(cam, self._camera.near_clip())
        pixels = self._to_pixels(seg[keep])
        groups = groups[keep]
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for k, colour in enumerate(unique):
            if not np.any(groups == k):
                continue
            pen = QPen(qcolor(colour), layer.width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            mine = pixels[groups == k].reshape(-1, 2)
            painter.drawPath(fn.arrayToQPath(mine[:, 0], mine[:, 1], connect="pairs", finiteCheck=False))
