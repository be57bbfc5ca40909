"""What the film camera sees of the wall: the canvases' latest pictures, projected into the
tracked camera's image at a low resolution.

Every cabinet is a flat quad on the wall whose LEDs show one rectangle of a canvas. Under a
pinhole camera a flat quad maps to the image by a homography, so each cabinet is drawn as its
canvas rectangle through ``QTransform.quadToQuad`` (canvas rectangle -> projected corners) with
QPainter: exact for the flat cabinets of flat, arc and ceiling sections, a close approximation
for mesh quads. The view is widened by ``margin`` around the sensor so the overscan band of the
inner frustum shows; the sensor frame and the inner window are outlined.

``distorted`` (an option, off by default): the picture as the lens bends it. The pinhole view is
drawn as above, then resampled (``cv2.remap``) so that each view pixel shows what the lens's
distortion (:mod:`vpstage.tracking.distortion`, about its distortion centre) brings there; the
sensor frame stays a rectangle and the inner window's outline is bent the same way. A camera
without (known) distortion looks the same either way. The resampling map is kept while the lens
and the view size do not change.

Threading: a ``CameraViewRenderer`` is used from one thread at a time (the console's live-views
worker); QImage and QPainter are safe off the GUI thread. Canvas pictures are the render nodes'
preview thumbnails (BGRX arrays, any width; never modified after they are published), read and
decimated, not copied whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPolygonF, QTransform

from vpstage.frustum.frustum import FrustumSettings, inner_window
from vpstage.frustum.geometry import canvas_geometry
from vpstage.geometry.pinhole import Intrinsics
from vpstage.stage.layout import StageLayout
from vpstage.tracking.camera import CameraState
from vpstage.tracking.distortion import distort_points, undistort_points
from vpstage.tracking.image_window import sensor_border, sensor_window

F64 = NDArray[np.float64]
NEAR_M = 0.05
OFF_WALL = QColor("#07080b")
NO_PICTURE = QColor("#262a31")
SENSOR_FRAME = QColor("#ffffff")
INNER_FRAME = QColor("#ff4fe0")  # the stage view's footprint colour (ui.palette.FOOTPRINT)


@dataclass(frozen=True, kw_only=True)
class CabinetPatches:
    """Every mapped cabinet as a canvas rectangle and the stage quad its LEDs cover."""

    canvases: tuple[str, ...]
    canvas_index: NDArray[np.intp]
    """(M,) index into ``canvases``."""
    rects: F64
    """(M, 4) x0, y0, x1, y1 of the footprint on its canvas (pixels, edges)."""
    corners: F64
    """(M, 4, 3) stage positions of the footprint's corners (x0,y0), (x1,y0), (x1,y1), (x0,y1)."""
    normals: F64
    """(M, 3) out of the LEDs."""

    @staticmethod
    def of(layout: StageLayout) -> CabinetPatches:
        index, rects, corners, normals = [], [], [], []
        names = tuple(c.name for c in layout.project.canvases)
        for i in range(len(names)):
            geometry = canvas_geometry(layout, i)
            for block in geometry.blocks:
                xl = np.array([0.0, block.width, block.width, 0.0])
                yl = np.array([0.0, 0.0, block.height, block.height])
                for k in range(len(block)):
                    x0, y0 = float(block.x0[k]), float(block.y0[k])
                    index.append(i)
                    rects.append((x0, y0, x0 + block.width, y0 + block.height))
                    corners.append(block.positions(k, xl, yl))
                    normals.append(block.normals[k])
        return CabinetPatches(canvases=names, canvas_index=np.asarray(index, dtype=np.intp),
                              rects=np.asarray(rects, dtype=np.float64).reshape(-1, 4),
                              corners=np.asarray(corners, dtype=np.float64).reshape(-1, 4, 3),
                              normals=np.asarray(normals, dtype=np.float64).reshape(-1, 3))


def view_intrinsics(camera: CameraState, width: int, margin: float) -> Intrinsics:
    """The camera widened ``margin`` times about its image centre, ``width`` pixels wide (height
    from its aspect ratio): a pixel is (fx * x / z + cx, fy * y / z + cy)."""
    height = max(1, round(width * camera.image_height / camera.image_width))
    k = camera.intrinsics(width, height)
    return Intrinsics(fx=k.fx / margin, fy=k.fy / margin, cx=width / 2 + (k.cx - width / 2) / margin,
                      cy=height / 2 + (k.cy - height / 2) / margin, width=width, height=height)


def window_rect(k: Intrinsics, window: tuple[float, float, float, float]) -> QRectF:
    """An image-plane window (x_left, x_right, y_top, y_bottom) in pixels of ``k``."""
    xl, xr, yt, yb = window
    return QRectF(QPointF(k.fx * xl + k.cx, k.fy * yt + k.cy), QPointF(k.fx * xr + k.cx, k.fy * yb + k.cy))


def decimated(image: NDArray[np.uint8], step: int) -> tuple[QImage, NDArray[np.uint8]]:
    """A QImage of every ``step``-th pixel of a BGRX canvas, and the array it reads from (keep it
    alive while the QImage is used)."""
    small = np.ascontiguousarray(image[::step, ::step])
    h, w = small.shape[:2]
    return QImage(small.data, w, h, w * 4, QImage.Format.Format_RGB32), small


class CameraViewRenderer:
    """Draws the camera view of one stage layout (see the module docstring)."""

    def __init__(self, layout: StageLayout, settings: FrustumSettings | None = None, margin: float = 1.35,
                 canvas_width: int = 512, distorted: bool = False) -> None:
        """``canvas_width``: canvases are read decimated to about this width (a 1920-pixel canvas
        every 3rd pixel), which is all a view a few hundred pixels wide can show. ``distorted``:
        show the lens's distortion (may be switched between renders)."""
        self.patches = CabinetPatches.of(layout)
        self.widths = {c.name: c.width for c in layout.project.canvases}
        self.settings = settings or FrustumSettings()
        self.margin = margin
        self.canvas_width = canvas_width
        self.distorted = distorted
        self._remap: tuple[object, tuple[NDArray[np.float32], NDArray[np.float32]]] | None = None

    def visible(self, camera: CameraState, view: Intrinsics) -> tuple[NDArray[np.intp], F64]:
        """Indices of the patches in front of the camera, facing it and overlapping the view, and
        their projected corners (n, 4, 2) in view pixels."""
        p = self.patches
        cam = (p.corners - camera.eye) @ camera.rotation
        depth = cam[..., 2]
        facing = np.einsum("ij,ij->i", p.normals, camera.eye - p.corners.mean(axis=1)) > 0
        front = np.all(depth > NEAR_M, axis=1) & facing
        safe = np.where(depth > NEAR_M, depth, 1.0)
        uv = np.stack([view.fx * cam[..., 0] / safe + view.cx, view.fy * cam[..., 1] / safe + view.cy], axis=-1)
        lo, hi = uv.min(axis=1), uv.max(axis=1)
        overlap = (hi[:, 0] >= 0) & (lo[:, 0] <= view.width) & (hi[:, 1] >= 0) & (lo[:, 1] <= view.height)
        keep = np.flatnonzero(front & overlap)
        return keep, uv[keep]

    def render(self, camera: CameraState, pictures: Mapping[str, NDArray[np.uint8] | None], width: int = 480,
               label: str = "") -> QImage:
        """The camera view, ``width`` pixels wide (height from the camera's aspect ratio)."""
        view = view_intrinsics(camera, width, self.margin)
        image = QImage(view.width, view.height, QImage.Format.Format_RGB32)
        image.fill(OFF_WALL)
        decimated_sources = {}
        for name, pic in pictures.items():
            if pic is None:
                continue
            step = max(1, pic.shape[1] // self.canvas_width)
            picture, pixels = decimated(pic, step)
            scale = self.widths.get(name, pic.shape[1]) / pixels.shape[1]  # canvas pixels per picture pixel
            decimated_sources[name] = (scale, picture, pixels)
        keep, projected = self.visible(camera, view)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for i, quad in zip(keep, projected, strict=True):
            self._draw_patch(painter, int(i), quad, decimated_sources)
        painter.end()
        bent = self.distorted and camera.distortion.known and not camera.distortion.is_zero
        if bent:
            image = self._distort(image, camera, view)
        painter = QPainter(image)
        self._draw_frames(painter, camera, view, label, bent)
        painter.end()
        return image

    def _distort(self, image: QImage, camera: CameraState, view: Intrinsics) -> QImage:
        """The pinhole view resampled as the lens distorts it (see the module docstring)."""
        import cv2

        key = (camera.distortion, camera.distortion_centre(), view)
        if self._remap is None or self._remap[0] != key:
            xs, ys = np.meshgrid(np.arange(view.width) + 0.5, np.arange(view.height) + 0.5)
            distorted = np.stack([(xs - view.cx) / view.fx, (ys - view.cy) / view.fy], axis=-1)
            straight = undistort_points(camera.distortion, distorted, camera.distortion_centre())
            map_x = (straight[..., 0] * view.fx + view.cx - 0.5).astype(np.float32)
            map_y = (straight[..., 1] * view.fy + view.cy - 0.5).astype(np.float32)
            self._remap = (key, (map_x, map_y))
        map_x, map_y = self._remap[1]
        source = image.convertToFormat(QImage.Format.Format_RGB32)
        rows = np.frombuffer(source.constBits(), dtype=np.uint8).reshape(view.height, source.bytesPerLine())
        pixels = rows[:, : view.width * 4].reshape(view.height, view.width, 4)
        fill = (OFF_WALL.blue(), OFF_WALL.green(), OFF_WALL.red(), 255)
        out = np.ascontiguousarray(cv2.remap(pixels, map_x, map_y, cv2.INTER_LINEAR,
                                             borderMode=cv2.BORDER_CONSTANT, borderValue=fill))
        return QImage(out.data, view.width, view.height, view.width * 4, QImage.Format.Format_RGB32).copy()

    def _draw_patch(self, painter: QPainter, i: int, quad: F64,
                    sources: Mapping[str, tuple[float, QImage, NDArray[np.uint8]]]) -> None:
        found = sources.get(self.patches.canvases[self.patches.canvas_index[i]])
        x0, y0, x1, y1 = self.patches.rects[i] / (found[0] if found is not None else 1)
        source = QRectF(QPointF(x0, y0), QPointF(x1, y1))
        target = QPolygonF([QPointF(float(u), float(v)) for u, v in quad])
        corners = QPolygonF([source.topLeft(), source.topRight(), source.bottomRight(), source.bottomLeft()])
        transform = QTransform()
        if not QTransform.quadToQuad(corners, target, transform):
            return
        painter.setTransform(transform)
        if found is None:
            painter.fillRect(source, NO_PICTURE)
        else:
            painter.drawImage(source, found[1], source)

    def _draw_frames(self, painter: QPainter, camera: CameraState, view: Intrinsics, label: str,
                     bent: bool = False) -> None:
        sensor = window_rect(view, sensor_window(camera))
        window = inner_window(camera, self.settings)
        dashed = QPen(INNER_FRAME, 1.0, Qt.PenStyle.DashLine)
        painter.setPen(dashed)
        if bent:  # the inner window's straight edges as the lens bends them
            edge = distort_points(camera.distortion, sensor_border(window, 32), camera.distortion_centre())
            painter.drawPolygon(QPolygonF([QPointF(float(view.fx * x + view.cx), float(view.fy * y + view.cy))
                                           for x, y in edge]))
        else:
            painter.drawRect(window_rect(view, window))
        painter.setPen(QPen(SENSOR_FRAME, 1.0))
        painter.drawRect(sensor)
        if label:
            font = QFont()
            font.setPixelSize(max(9, view.height // 22))
            painter.setFont(font)
            painter.drawText(QPointF(sensor.left() + 4, sensor.top() - 4), label)
