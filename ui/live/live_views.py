"""LiveViewsWorker: the tracked camera's overlays for the 3D view, the camera view and the preview
pictures, computed on a thread of its own ('vpstage-live-views') and handed to the GUI thread
through queued signals.

Each tick (``rate_hz``, at most 30): sample the tracked camera from the hub at now (delay, lens
and alignment applied, as the planner sees it), trace the inner frustum's footprint on the wall,
compute each node's DoD crop (shown in the stage frame, cut a little beyond the wall so the boxes
stay on screen; the renderer's own crops reach the scene bounds). Every ``view_every`` ticks: draw
the camera view from the canvases' latest pictures, and decimate the pictures the live preview
asked for (``set_preview_requests``) to the width it shows them at, skipping any that did not
change. Pictures are the render nodes' thumbnails: this worker tells the frame loop which
canvases it needs and how wide (``loop.previews.want``), and the loop asks the nodes for them
within its rate and byte budget; full canvases never leave the nodes. The GUI thread only hands
the results to the widgets. Step timings are kept (``timings()``) for the benchmark.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ui.live.camera_view import CameraViewRenderer, decimated
from ui.thread_signals import emit_safely
from vpstage.frame_master.frame_stats import RingBuffer
from vpstage.frustum import FrustumSettings, StageFrustum, wall_footprint
from vpstage.frustum.footprint import Footprint
from vpstage.frustum.frustum import CameraFrustum
from vpstage.frustum.scene import asset_scene_bounds
from vpstage.geometry import OrientedBox
from vpstage.stage import Stage
from vpstage.tracking.camera import CameraState

MAX_RATE_HZ = 30.0
DISPLAY_FAR_M = 12.0
"""Crops are cut this deep at most (camera depth, metres); nearer: the wall's depth + CROP_BEYOND_M."""
CROP_BEYOND_M = 2.0
CAMERA_VIEW_CANVAS_WIDTH = 320
"""Thumbnail width asked for canvases the camera view shows (the view is a few hundred pixels wide)."""
FRUSTUM_FAR_M = 6.0
"""Length of the drawn pyramid when the view does not land on the wall."""


@dataclass(frozen=True, kw_only=True)
class StageOverlays:
    """One tick's overlays for the 3D view (stage frame, metres)."""

    camera_name: str
    camera: CameraState | None
    footprint: Footprint | None
    crops: tuple[OrientedBox, ...] = ()
    crop_nodes: tuple[str, ...] = ()
    far_m: float = FRUSTUM_FAR_M
    """How deep to draw the camera's pyramid: to the farthest footprint point (the wall)."""


@dataclass(frozen=True)
class CameraView:
    camera_name: str
    image: QImage
    render_ms: float
    made_at: float = 0.0
    """Wall-clock time (``time.time()``) it was drawn (from the newest thumbnails then)."""


@dataclass(frozen=True, kw_only=True)
class PreviewFrame:
    """One decimated canvas picture for the live preview."""

    key: str
    """Which view asked for it (see ``LiveViewsWorker.set_preview_requests``)."""
    image: QImage
    pixels: np.ndarray
    """The array ``image`` reads from (keep it with the image)."""
    source: object
    """The frame loop's picture it was made from."""
    made_at: float = 0.0
    """Wall-clock time (``time.time()``) the picture came from its node."""


@dataclass(kw_only=True)
class _Config:
    stage: Stage
    hub: Any
    loop: Any
    camera_name: str | None
    settings: FrustumSettings
    renderer: CameraViewRenderer
    frusta: StageFrustum
    bounds: OrientedBox
    stage_to_scene: Any
    view_width: int = 480


def _stage_box(box: OrientedBox, stage_to_scene: np.ndarray) -> OrientedBox:
    return box.transformed(np.linalg.inv(stage_to_scene))


class LiveViewsWorker(QObject):
    overlays_ready = Signal(object)
    """StageOverlays (GUI thread)."""
    camera_view_ready = Signal(object)
    """CameraView (GUI thread)."""
    previews_ready = Signal(object)
    """list[PreviewFrame] of the pictures that changed since the last ones sent (GUI thread)."""

    def __init__(self, rate_hz: float = 20.0, view_every: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.period_s = 1.0 / min(MAX_RATE_HZ, rate_hz)
        self.view_every = max(1, view_every)
        self._config: _Config | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._timings = {name: RingBuffer(600) for name in ("overlays_ms", "camera_view_ms", "previews_ms")}
        self._requests: dict[str, tuple[str, int]] = {}
        self._sent: dict[str, object] = {}
        self._wanted: dict[str, int] = {}

    # ------------------------------------------------------------------ GUI thread

    def configure(self, stage: Stage, hub: Any, loop: Any, camera_name: str | None, view_width: int = 480) -> None:
        """What to draw from: the stage as the engine runs it (its wall geometry and canvases),
        the running hub and loop (either may be None) and the camera to follow. Builds the
        static geometry here (a few milliseconds; on a configuration change, not per tick)."""
        project = stage.project
        camera = next((c for c in project.cameras if c.name == camera_name), None)
        settings = (FrustumSettings.for_camera(camera, far_m=DISPLAY_FAR_M) if camera is not None
                    else FrustumSettings(far_m=DISPLAY_FAR_M))
        asset = next((a for a in project.scene if a.enabled), None)
        placement = asset.placement.stage_to_scene() if asset is not None else np.eye(4)
        config = _Config(stage=stage, hub=hub, loop=loop, camera_name=camera_name if camera is not None else None,
                         settings=settings, renderer=CameraViewRenderer(stage.layout, settings),
                         frusta=StageFrustum(stage), bounds=asset_scene_bounds(stage, asset),
                         stage_to_scene=np.asarray(placement, dtype=np.float64), view_width=view_width)
        with self._lock:
            self._config = config
            self._sent = {}
            self._wanted = {}

    def set_preview_requests(self, requests: dict[str, tuple[str, int]]) -> None:
        """The preview's views: key -> (canvas, width in pixels); empty while it is hidden."""
        with self._lock:
            self._requests = dict(requests)
            self._sent = {}

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="vpstage-live-views", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def timings(self) -> dict[str, np.ndarray]:
        """Recent durations (ms) of the overlay and camera-view steps."""
        with self._lock:
            return {name: ring.values() for name, ring in self._timings.items()}

    # ------------------------------------------------------------------ worker thread

    def _run(self) -> None:
        tick = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                config = self._config
            if config is not None:
                self.run_once(config, with_view=tick % self.view_every == 0)
            tick += 1
            next_at += self.period_s
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind: do not try to catch up
                next_at, delay = time.monotonic(), 0.0
            self._stop.wait(delay)

    def run_once(self, config: _Config | None = None, with_view: bool = True) -> StageOverlays | None:
        """One tick (the worker thread calls this; tests may call it directly)."""
        if config is None:
            with self._lock:
                config = self._config
        if config is not None and config.loop is not None:
            self._want(config)
        if config is not None and with_view and config.loop is not None:
            self._previews(config.loop)
        if config is None or config.hub is None or config.camera_name is None:
            return None
        start = time.perf_counter()
        camera = config.hub.state_at(config.camera_name, time.monotonic_ns())
        overlays = self._overlays(config, camera)
        self._note("overlays_ms", start)
        emit_safely(self.overlays_ready, overlays)
        if with_view and camera is not None and config.loop is not None:
            start = time.perf_counter()
            pictures = {name: config.loop.latest_image(name) for name in config.renderer.patches.canvases}
            image = config.renderer.render(camera, pictures, config.view_width,
                                           f"{config.camera_name}  {camera.focal_length_mm:.1f} mm")
            ms = self._note("camera_view_ms", start)
            emit_safely(self.camera_view_ready, CameraView(config.camera_name, image, ms, time.time()))
        return overlays

    def _want(self, config: _Config) -> None:
        """Tell the loop which thumbnails to ask the nodes for: the preview's views at their
        widths, and every canvas the camera view may show at ``CAMERA_VIEW_CANVAS_WIDTH``."""
        with self._lock:
            requests = dict(self._requests)
        wanted: dict[str, int] = {}
        if config.camera_name is not None:
            wanted = dict.fromkeys(config.renderer.patches.canvases, CAMERA_VIEW_CANVAS_WIDTH)
        for canvas, width in requests.values():
            wanted[canvas] = max(wanted.get(canvas, 0), width)
        previews = getattr(config.loop, "previews", None)
        if previews is not None and wanted != self._wanted:
            previews.want(wanted)
            self._wanted = wanted

    def _previews(self, loop: Any) -> None:
        start = time.perf_counter()
        with self._lock:
            requests, sent = dict(self._requests), dict(self._sent)
        frames = []
        for key, (canvas, width) in requests.items():
            picture = loop.latest_image(canvas)
            if picture is None or picture is sent.get(key):
                continue
            image, pixels = decimated(picture, max(1, picture.shape[1] // max(1, width)))
            frames.append(PreviewFrame(key=key, image=image, pixels=pixels, source=picture, made_at=time.time()))
            sent[key] = picture
        with self._lock:
            if self._requests == requests:  # not asked for other sizes meanwhile
                self._sent = sent
        if frames:
            self._note("previews_ms", start)
            emit_safely(self.previews_ready, frames)

    def _overlays(self, config: _Config, camera: CameraState | None) -> StageOverlays:
        assert config.camera_name is not None
        if camera is None:
            return StageOverlays(camera_name=config.camera_name, camera=None, footprint=None)
        frustum = CameraFrustum.from_camera(camera, config.settings)
        footprint = wall_footprint(frustum, config.stage.layout.cabinets.corners)
        points = [p for path in footprint.paths for p in path]
        wall_depth = float(max((p - camera.eye) @ camera.forward for p in points)) if points else None
        settings = config.settings
        if wall_depth is not None:
            settings = dataclasses.replace(settings, far_m=min(DISPLAY_FAR_M, wall_depth + CROP_BEYOND_M))
        crops, nodes = [], []
        for name, nf in config.frusta.nodes(camera, settings, config.bounds, config.stage_to_scene).items():
            if nf.dod is not None:
                crops.append(_stage_box(nf.dod.box, config.stage_to_scene))
                nodes.append(name)
        return StageOverlays(camera_name=config.camera_name, camera=camera, footprint=footprint, crops=tuple(crops),
                             crop_nodes=tuple(nodes), far_m=wall_depth if wall_depth is not None else FRUSTUM_FAR_M)

    def _note(self, name: str, start: float) -> float:
        ms = (time.perf_counter() - start) * 1000.0
        with self._lock:
            self._timings[name].append(ms)
        return ms

