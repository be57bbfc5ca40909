"""Cabinet placement for the parametric section kinds (flat, arc, ceiling)."""

from __future__ import annotations

import math

import numpy as np

from vpstage.geometry.rotations import body_rotation
from vpstage.stage.cabinets import CabinetSet, grid_cabinet_id, rectangle_corners
from vpstage.stage.catalog import PanelType
from vpstage.stage.model import ArcSection, CeilingSection, FlatSection


def arc_step_deg(radius_m: float, cabinet_width_m: float) -> float:
    """Angle one flat cabinet subtends when both vertical edges stand on the circle."""
    if cabinet_width_m >= 2 * radius_m:
        raise ValueError(f"cabinet width {cabinet_width_m} m does not fit radius {radius_m} m")
    step = math.degrees(2 * math.asin(cabinet_width_m / (2 * radius_m)))
    if not step > 1e-9:
        raise ValueError(f"radius {radius_m} m is too large for a {cabinet_width_m} m cabinet to turn the arc")
    return step


def arc_columns(section: ArcSection, panel: PanelType) -> int:
    if section.columns is not None:
        return section.columns
    assert section.sweep_deg is not None
    return max(1, round(section.sweep_deg / arc_step_deg(section.radius_m, panel.width_m)))


def _heading(deg: float) -> np.ndarray:
    rad = math.radians(deg)
    return np.array([math.sin(rad), math.cos(rad), 0.0])


def place_flat(out: CabinetSet, index: int, s: FlatSection, panel: PanelType) -> None:
    rot = body_rotation(s.yaw_deg, s.pitch_deg, s.roll_deg)
    right, up = rot[:, 0], rot[:, 2]
    w, h = panel.width_m, panel.height_m
    origin = np.asarray(s.origin, dtype=np.float64)
    omit = set(s.omit)
    for r in range(s.rows):
        for c in range(s.columns):
            cid = grid_cabinet_id(s.name, c, r)
            if cid in omit:
                continue
            tl = origin + c * w * right + (s.rows - r) * h * up
            out.add(cid, index, c, r, s.panel, (panel.pixels_w, panel.pixels_h),
                    rectangle_corners(tl, right, -up, w, h))


def place_arc(out: CabinetSet, index: int, s: ArcSection, panel: PanelType) -> None:
    step = arc_step_deg(s.radius_m, panel.width_m)
    columns = arc_columns(s, panel)
    center = np.array([s.center[0], s.center[1], 0.0])
    h = panel.height_m
    omit = set(s.omit)
    for c in range(columns):
        left = center + s.radius_m * _heading(s.start_deg + c * step)
        right = center + s.radius_m * _heading(s.start_deg + (c + 1) * step)
        for r in range(s.rows):
            cid = grid_cabinet_id(s.name, c, r)
            if cid in omit:
                continue
            top = s.base_z + (s.rows - r) * h
            tl, tr = left + [0, 0, top], right + [0, 0, top]
            out.add(cid, index, c, r, s.panel, (panel.pixels_w, panel.pixels_h),
                    np.stack([tl, tr, tr - [0, 0, h], tl - [0, 0, h]]))


def place_ceiling(out: CabinetSet, index: int, s: CeilingSection, panel: PanelType) -> None:
    # Viewer below looking up (flat-section pitch 90 convention): image right = +X, image up = -Y
    # (at yaw 0); tilt turns the plane about its right axis, lowering the +Y edge.
    frame = body_rotation(s.yaw_deg, 0.0, 0.0) @ body_rotation(0.0, -s.tilt_deg, 0.0)
    right, toward_wall = frame[:, 0], frame[:, 1]
    up = -toward_wall
    w, h = panel.width_m, panel.height_m
    top_left = (np.asarray(s.center, dtype=np.float64) - (s.columns * w / 2) * right
                + (s.rows * h / 2) * up)
    omit = set(s.omit)
    for r in range(s.rows):
        for c in range(s.columns):
            cid = grid_cabinet_id(s.name, c, r)
            if cid in omit:
                continue
            tl = top_left + c * w * right - r * h * up
            out.add(cid, index, c, r, s.panel, (panel.pixels_w, panel.pixels_h),
                    rectangle_corners(tl, right, -up, w, h))
