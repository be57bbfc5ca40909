"""What a web viewer sees: the simulated film-camera view or one canvas, as BGR pixels.

:class:`EnginePictures` reads a running ``LiveEngine`` (the console's or ``main.py run``'s): the
camera view is drawn by the console's own renderer (``ui.live.camera_view``, QPainter on a QImage:
no window, no QApplication needed) from the canvases' preview thumbnails, which the frame loop
asks the render nodes for (``loop.previews``, client ``web``); a canvas is its latest thumbnail,
scaled to fit. Full canvases never leave the nodes. Used from the feed's thread only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from ui.live.camera_view import CameraViewRenderer
from vpstage.frustum import FrustumSettings
from vpstage.tracking.camera import CameraState

CAMERA_VIEW = "camera"
THUMBNAIL_WIDTH_MAX = 640
"""Thumbnail width asked for canvases the camera view shows."""
CAMERA_DRAW_WIDTH_MAX = 640
"""The camera view is drawn at most this wide, then scaled up: QPainter holds the GIL while it
draws (about 2 ms at 640, 12 ms at 1280 on a laptop core), which render threads in the same
process would wait for; the scaling (OpenCV) does not hold it. Its pictures are thumbnails at most
``THUMBNAIL_WIDTH_MAX`` wide, so a wider drawing would show no more."""
BACKGROUND = (11, 8, 7)


def fit(image: NDArray[np.uint8], width: int, height: int) -> NDArray[np.uint8]:
    """``image`` (h, w, 3 or 4: BGR or BGRX) scaled to fit (width, height), centred on black: a new
    (height, width, 3) BGR array."""
    bgr = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR) if image.shape[2] == 4 else image.copy(),
                               dtype=np.uint8)
    h, w = bgr.shape[:2]
    if (w, h) == (width, height):
        return bgr
    scale = min(width / w, height / h)
    tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    scaled = cv2.resize(bgr, (tw, th), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    out = np.empty((height, width, 3), dtype=np.uint8)
    out[:] = BACKGROUND
    x0, y0 = (width - tw) // 2, (height - th) // 2
    out[y0:y0 + th, x0:x0 + tw] = scaled
    return out


class EnginePictures:
    """Pictures of one running engine (see the module docstring)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        stage = engine.stage
        self.canvases = tuple(c.name for c in stage.project.canvases)
        self._renderer = CameraViewRenderer(stage.layout, FrustumSettings())

    def views(self) -> list[str]:
        return [CAMERA_VIEW, *self.canvases]

    def previews(self) -> Any:
        return self.engine.loop.previews

    def thumbnail_widths(self, views: dict[str, int]) -> dict[str, int]:
        """Canvas -> thumbnail width the given views (view -> output width) need."""
        wanted: dict[str, int] = {}
        for view, width in views.items():
            targets = self.canvases if view == CAMERA_VIEW else (view,)
            for canvas in targets:
                wanted[canvas] = max(wanted.get(canvas, 0), min(width, THUMBNAIL_WIDTH_MAX))
        return wanted

    def camera_name(self) -> str | None:
        last = self.engine.planner.last
        if last is not None:
            active = [c.name for c in last.cameras if getattr(c, "active", False)]
            if active:
                return str(active[0])
            if last.cameras:
                return str(last.cameras[0].name)
        cameras = self.engine.stage.project.cameras
        return cameras[0].name if cameras else None

    def picture(self, view: str, width: int, height: int) -> NDArray[np.uint8] | None:
        """(height, width, 3) BGR, or None while there is nothing to show yet."""
        if view == CAMERA_VIEW:
            return self._camera(width, height)
        thumbnail = self.engine.loop.latest_image(view)
        return None if thumbnail is None else fit(thumbnail, width, height)

    def _camera(self, width: int, height: int) -> NDArray[np.uint8] | None:
        name = self.camera_name()
        if name is None:
            return None
        camera: CameraState | None = self.engine.tracking.state_at(name, time.monotonic_ns())
        if camera is None:
            return None
        pictures = {c: self.engine.loop.latest_image(c) for c in self.canvases}
        image = self._renderer.render(camera, pictures, min(width, CAMERA_DRAW_WIDTH_MAX))
        rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), image.bytesPerLine())
        pixels = rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)
        return fit(pixels, width, height)


class CurrentEnginePictures:
    """The pictures of whichever engine runs now (the console starts, stops and replaces its
    engine): ``current()`` returns it or None. Views are the project's canvases."""

    def __init__(self, current: Callable[[], Any], canvases: Callable[[], list[str]]) -> None:
        self._current, self._canvases = current, canvases
        self._pictures: EnginePictures | None = None

    def _for_now(self) -> EnginePictures | None:
        engine = self._current()
        if engine is None:
            return None
        if self._pictures is None or self._pictures.engine is not engine:
            self._pictures = EnginePictures(engine)
        return self._pictures

    def views(self) -> list[str]:
        return [CAMERA_VIEW, *self._canvases()]

    def previews(self) -> Any:
        pictures = self._for_now()
        return None if pictures is None else pictures.previews()

    def thumbnail_widths(self, views: dict[str, int]) -> dict[str, int]:
        pictures = self._for_now()
        return {} if pictures is None else pictures.thumbnail_widths(views)

    def picture(self, view: str, width: int, height: int) -> NDArray[np.uint8] | None:
        pictures = self._for_now()
        if pictures is None or (view != CAMERA_VIEW and view not in pictures.canvases):
            return None
        return pictures.picture(view, width, height)
