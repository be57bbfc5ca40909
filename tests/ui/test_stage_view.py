"""3D stage view: geometry from the real layout, picking through the shared camera, live hooks."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from pytestqt.qtbot import QtBot

from ui import palette
from ui.main_window import ConsoleWindow
from ui.stage_view.geometry import LineLayer, QuadLayer, cabinet_node_index
from ui.stage_view.orbit import OrbitCamera
from ui.stage_view.view import StageView, probe_gl
from vpstage.geometry import OrientedBox
from vpstage.stage.document import StageDocument
from vpstage.tracking.camera import CameraState


@pytest.fixture
def view(qtbot: QtBot, demo_doc: StageDocument) -> StageView:
    widget = StageView(demo_doc, backend="software")
    qtbot.addWidget(widget)
    widget.resize(800, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _pixel_of(view: StageView, doc: StageDocument, cabinet: str) -> QPoint:
    centre = doc.layout.cabinets.corners[doc.layout.id_to_index[cabinet]].mean(axis=0)
    pixels, depth = view.camera.project(centre[None], view.canvas.width(), view.canvas.height())
    assert depth[0] > 0
    return QPoint(round(pixels[0, 0]), round(pixels[0, 1]))


def test_layers_follow_the_layout(view: StageView, demo_doc: StageDocument) -> None:
    layers = view.layers
    count = len(demo_doc.layout.cabinets)
    fills, outlines = layers["fills"], layers["outlines"]
    assert isinstance(fills, QuadLayer) and isinstance(outlines, LineLayer)
    assert len(fills) == count and len(outlines) == 4 * count
    # ownership colours: wall-left is on node1 (first colour), the ceiling on node2 (second)
    nodes = cabinet_node_index(demo_doc.layout)
    first = demo_doc.layout.id_to_index["wall-left/c00r00"]
    ceiling = demo_doc.layout.id_to_index["ceiling/c00r00"]
    assert (nodes[first], nodes[ceiling]) == (0, 1)
    np.testing.assert_allclose(outlines.colors[8 * first], palette.node_colour(0), atol=1e-6)
    np.testing.assert_allclose(outlines.colors[8 * ceiling], palette.node_colour(1), atol=1e-6)
    assert len(layers["marks"]) == 0 and len(layers["mark_fills"]) == 0
    assert view.backend_name.startswith("software")


def test_click_picks_the_cabinet_under_the_cursor(qtbot: QtBot, view: StageView, demo_doc: StageDocument) -> None:
    # eye inside the volume, under the ceiling, looking at the main wall
    view.set_camera(OrbitCamera(center=(0.0, 2.0, 1.5), distance=3.0, elevation_deg=0.0, azimuth_deg=-90.0))
    target = "wall-centre/c07r02"
    qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=_pixel_of(view, demo_doc, target))
    assert demo_doc.selection == {target}
    marks = view.layers["marks"]
    assert isinstance(marks, LineLayer) and len(marks) == 4 and len(view.layers["mark_fills"]) == 1
    np.testing.assert_allclose(marks.colors[0], palette.SELECTED)
    other = "wall-centre/c05r03"
    qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                     pos=_pixel_of(view, demo_doc, other))
    assert demo_doc.selection == {target, other}
    view.set_camera(OrbitCamera(center=(0.0, 0.0, 1.5), distance=12.0, elevation_deg=28.0, azimuth_deg=-90.0))
    qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))  # empty sky
    assert demo_doc.selection == frozenset()


def test_drag_orbits_and_wheel_zooms(qtbot: QtBot, view: StageView) -> None:
    before = view.camera
    qtbot.mousePress(view.canvas, Qt.MouseButton.LeftButton, pos=QPoint(400, 250))
    qtbot.mouseMove(view.canvas, QPoint(460, 230))
    qtbot.mouseRelease(view.canvas, Qt.MouseButton.LeftButton, pos=QPoint(460, 230))
    assert view.camera.azimuth_deg != before.azimuth_deg
    assert view.camera.elevation_deg != before.elevation_deg
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert view.camera.distance > before.distance


def test_live_overlays_from_plain_data(view: StageView, demo_doc: StageDocument) -> None:
    camera = CameraState.from_pan_tilt_roll((0.0, -1.0, 1.6), 0.0, 0.0, 0.0, 35.0, 24.88, 13.99)
    view.set_tracked_camera(camera, far_m=5.0)
    frustum = view.layers["camera"]
    assert isinstance(frustum, LineLayer) and len(frustum) == 9
    # the four corner rays end 5 m out along the optical axis (+Y here)
    assert frustum.points[1][1] == pytest.approx(-1.0 + 5.0, abs=1e-5)
    footprint = np.array([[-1.0, 4.4, 1.0], [1.0, 4.4, 1.0], [1.0, 4.4, 2.0], [-1.0, 4.4, 2.0]])
    view.set_footprints([footprint])
    assert len(view.layers["footprint"]) == 4
    box = OrientedBox.from_aabb(np.array([-1.0, 0.0, 0.0]), np.array([1.0, 2.0, 2.0]))
    view.set_dod_crops([box, box], ["node1", "node2"])
    crops = view.layers["crops"]
    assert isinstance(crops, LineLayer) and len(crops) == 24
    np.testing.assert_allclose(crops.colors[0], palette.with_alpha(palette.node_colour(0), 0.6), rtol=1e-6)
    np.testing.assert_allclose(crops.colors[-1], palette.with_alpha(palette.node_colour(1), 0.6), rtol=1e-6)
    view.set_scene_bounds([box])
    assert len(view.layers["bounds"]) == 12
    view.set_tracked_camera(None)
    view.set_footprints([])
    assert "camera" not in view.layers and "footprint" not in view.layers


def test_orbit_camera_ray_and_projection_agree() -> None:
    camera = OrbitCamera(center=(0.5, 1.0, 1.5), distance=9.0, elevation_deg=20.0, azimuth_deg=-70.0)
    np.testing.assert_allclose(camera.view_matrix() @ np.append(camera.eye(), 1.0), [0, 0, 0, 1], atol=1e-9)
    origin, direction = camera.ray(200.0, 120.0, 640, 480)
    point = origin + 7.0 * direction
    pixels, depth = camera.project(point[None], 640, 480)
    np.testing.assert_allclose(pixels[0], [200.0, 120.0], atol=1e-6)
    assert depth[0] > 0
    centre_pixels, _ = camera.project(np.array([camera.center]), 640, 480)
    np.testing.assert_allclose(centre_pixels[0], [320.0, 240.0], atol=1e-6)


def test_orbit_camera_matches_pyqtgraph(qtbot: QtBot, demo_doc: StageDocument) -> None:
    renderer, why = probe_gl()
    if renderer is None:
        pytest.skip(f"needs an OpenGL platform ({why}); run under Xvfb, see tools/screenshots.py")
    widget = StageView(demo_doc, backend="gl")
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.show()
    qtbot.waitExposed(widget)
    camera = OrbitCamera(center=(0.5, 1.0, 1.5), distance=9.0, elevation_deg=20.0, azimuth_deg=-70.0)
    widget.set_camera(camera)
    theirs = np.array(widget.canvas.viewMatrix().data()).reshape(4, 4).T  # column-major
    np.testing.assert_allclose(theirs, camera.view_matrix(), atol=1e-5)


def test_a_pick_in_3d_selects_in_the_editors(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    view = window.stage_view
    view.set_camera(OrbitCamera(center=(0.0, 2.0, 1.5), distance=3.0, elevation_deg=0.0, azimuth_deg=-90.0))
    target = "wall-centre/c07r02"
    qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=_pixel_of(view, doc, target))
    assert doc.selection == {target}
    assert window.map.items_by_id[target].isSelected()
    assert sum(item.isSelected() for item in window.map.items_by_id.values()) == 1
    plan_item = window.plan.items_by_name["wall-centre"]
    assert not plan_item.isSelected()  # one cabinet, not the whole section
    assert list(plan_item._shown).count(1) == 1  # its column's footprint is marked
    assert window.section_panel.title.text() == "wall-centre · arc"
    # and back: a rubber-band-free click on a rectangle in the pixel map selects it in 3D
    other = "wall-centre/c00r00"
    rect = window.map.items_by_id[other]
    qtbot.mouseClick(window.map.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.map.mapFromScene(rect.pos() + QPointF(64, 64)))
    assert doc.selection == {other}
    marks = view.layers["marks"]
    assert isinstance(marks, LineLayer) and len(marks) == 4
    corners = doc.layout.cabinets.corners[doc.layout.id_to_index[other]]
    assert np.abs(marks.points[0] - corners[0]).max() < 0.01
