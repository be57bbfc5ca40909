"""LivePanels: the four live panels of one document (preview, health, tracking, takes), bound
together to the LiveController, plus what the live views draw into the 3D stage view."""

from __future__ import annotations

from ui.column_fit import fit_columns
from ui.commands import DocumentEditor
from ui.live.controller import LiveController
from ui.live.health_panel import HealthPanel
from ui.live.live_views import StageOverlays
from ui.live.models import LiveModels
from ui.live.preview_panel import PreviewPanel
from ui.live.takes_panel import TakesPanel
from ui.live.tracking_panel import TrackingPanel
from ui.stage_view.view import StageView
from vpstage.stage.document import StageDocument


class LivePanels:
    def __init__(self, document: StageDocument, editor: DocumentEditor, live: LiveController) -> None:
        self.live = live
        self.preview = PreviewPanel(document)
        self.health = HealthPanel(document, live.relay)
        self.tracking = TrackingPanel(document, editor)
        self.takes = TakesPanel(document, live.control)
        for table in (self.takes.table, self.health.nodes, self.tracking.streams):
            fit_columns(table)  # every column in view in a Live-width dock (no sideways scrolling)
        live.models_changed.connect(self.bind)
        live.alarms_changed.connect(self.health.show_alarms)
        live.views.camera_view_ready.connect(self.preview.show_camera_view)
        live.views.previews_ready.connect(self.preview.show_previews)
        self.preview.requests_changed.connect(live.views.set_preview_requests)
        self.tracking.camera.currentTextChanged.connect(self._follow_camera)
        self.bind(live.models)
        self.health.show_alarms(live.alarms)

    def bind(self, models: LiveModels | None) -> None:
        for panel in (self.preview, self.health, self.tracking, self.takes):
            panel.bind(models)  # the preview announces what it shows to the live-views worker
        if models is None:
            self.preview.clear_camera_view("engine stopped")

    def _follow_camera(self, name: str) -> None:
        if name and name != self.live.camera_name:
            self.live.follow_camera(name)

    def detach(self) -> None:
        live = self.live
        live.models_changed.disconnect(self.bind)
        live.alarms_changed.disconnect(self.health.show_alarms)
        live.views.camera_view_ready.disconnect(self.preview.show_camera_view)
        live.views.previews_ready.disconnect(self.preview.show_previews)
        self.preview.requests_changed.disconnect(live.views.set_preview_requests)
        for panel in (self.preview, self.health, self.tracking, self.takes):
            panel.detach()


def show_overlays(view: StageView, overlays: StageOverlays | None) -> None:
    """Draw the tracked camera, its footprint on the wall and the nodes' DoD crops (None clears)."""
    if overlays is None or overlays.camera is None:
        view.set_tracked_camera(None)
        view.set_footprints([])
        view.set_dod_crops([], [])
        return
    view.set_tracked_camera(overlays.camera, overlays.far_m)
    footprint = overlays.footprint
    view.set_footprints(list(footprint.paths) if footprint else [], closed=footprint.closed if footprint else True)
    view.set_dod_crops(overlays.crops, overlays.crop_nodes)

