"""Section edits: add, remove, duplicate, move, rotate, re-parameterise sections; omit cabinets.

Every function is pure: it reads the Project (and, where geometry is needed, its resolved
StageLayout or the panel Catalog) and returns a :class:`~vpstage.stage.change.Change`; nothing is
modified until the caller applies the Change. Refused edits raise :class:`EditError`.

Angles follow the project convention: headings in degrees from +Y, positive clockwise seen from
above. Distances are metres in the stage frame.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from vpstage.stage.catalog import Catalog, PanelType
from vpstage.stage.change import Change, EditError, replace_fields
from vpstage.stage.layout import StageLayout
from vpstage.stage.map_edits import parse_grid_cabinet_id, prune_pixel_map
from vpstage.stage.model import ArcSection, CeilingSection, FlatSection, MapEntry, MeshSection, Project, Section
from vpstage.stage.sections import arc_columns, arc_step_deg

DEFAULT_WALL_HEIGHT_M = 3.0
DEFAULT_WALL_WIDTH_M = 2.0
DEFAULT_CEILING_Z_M = 4.0


def section_index(project: Project, name: str) -> int:
    for i, section in enumerate(project.sections):
        if section.name == name:
            return i
    raise EditError(f"there is no section named {name!r}")


def unique_name(base: str, taken: Iterable[str]) -> str:
    """``base`` if free, else ``base-2``, ``base-3``, ... (a trailing ``-N`` of base is replaced)."""
    used = set(taken)
    if base not in used:
        return base
    stem = re.sub(r"-\d+$", "", base)
    n = 2
    while f"{stem}-{n}" in used:
        n += 1
    return f"{stem}-{n}"


def _panel(catalog: Catalog, panel_id: str) -> PanelType:
    panel = catalog.panels.get(panel_id)
    if panel is None:
        raise EditError(f"unknown panel type {panel_id!r} (not in the catalog)")
    return panel


def rotate_plan(point: Sequence[float], degrees: float, pivot: Sequence[float] = (0.0, 0.0)) -> tuple[float, float]:
    """Turn a plan point (x, y) about ``pivot`` by a heading change (clockwise seen from above)."""
    a = math.radians(degrees)
    x, y = point[0] - pivot[0], point[1] - pivot[1]
    return (pivot[0] + x * math.cos(a) + y * math.sin(a), pivot[1] - x * math.sin(a) + y * math.cos(a))


# ----------------------------------------------------------------------------- add / remove


NewKind = Literal["auto", "flat", "arc", "ceiling"]
CEILING_CLEARANCE_M = 0.6
"""A new ceiling over walls (and no ceiling yet) hangs this far above their top."""


def new_section_heights(layout: StageLayout | None) -> tuple[float, float]:
    """(base height for a new wall, height for a new ceiling), in metres, from the stage as built.

    New walls stand where the other walls stand (their lowest cabinet edge: the floor, or the
    riser they share); a new ceiling hangs at the height of the highest existing ceiling, else
    ``CEILING_CLEARANCE_M`` above the top of the walls, else at ``DEFAULT_CEILING_Z_M``.
    """
    if layout is None or not len(layout.cabinets):
        return 0.0, DEFAULT_CEILING_Z_M
    sections = layout.project.sections
    kinds = np.array([sections[i].kind for i in layout.cabinets.section])
    z = layout.cabinets.corners[:, :, 2]
    walls, ceilings = kinds != "ceiling", kinds == "ceiling"
    base = round(float(z[walls].min()), 3) if walls.any() else 0.0
    if ceilings.any():
        return base, round(float(z[ceilings].mean(axis=1).max()), 3)
    if walls.any():
        return base, round(float(z[walls].max()) + CEILING_CLEARANCE_M, 3)
    return base, DEFAULT_CEILING_Z_M


def new_section_at(project: Project, catalog: Catalog, panel_id: str, at: Sequence[float],
                   kind: NewKind = "auto", layout: StageLayout | None = None) -> Section:
    """A fresh section of ``panel_id`` centred on plan point ``at`` (x, y), facing the stage centre.

    ``flat``: a wall about 2 m wide and 3 m tall. ``arc``: the same size on the circle about the
    stage origin through ``at`` (radius at least 1 m). ``ceiling``: a 4 x 4 grid. ``auto`` picks
    ``ceiling`` for ceiling panels (catalog ``use: ceiling``), else ``flat``. Heights follow the
    stage as built when its ``layout`` is given (:func:`new_section_heights`): walls stand where
    the others stand, a ceiling hangs with the others; without it walls stand on the floor and a
    ceiling hangs at ``DEFAULT_CEILING_Z_M``.
    """
    panel = _panel(catalog, panel_id)
    taken = [s.name for s in project.sections]
    chosen = ("ceiling" if panel.use == "ceiling" else "flat") if kind == "auto" else kind
    x, y = float(at[0]), float(at[1])
    base_z, ceiling_z = new_section_heights(layout)
    if chosen == "ceiling":
        return CeilingSection(kind="ceiling", name=unique_name("ceiling", taken), panel=panel_id,
                              center=(x, y, ceiling_z), columns=4, rows=4)
    columns = max(1, round(DEFAULT_WALL_WIDTH_M / panel.width_m))
    rows = max(1, round(DEFAULT_WALL_HEIGHT_M / panel.height_m))
    # A viewer at the stage centre looking at the new wall looks along centre -> drop point.
    yaw = math.degrees(math.atan2(x, y)) if math.hypot(x, y) > 1e-6 else 0.0
    if chosen == "arc":
        radius = max(math.hypot(x, y), 1.0, panel.width_m)
        sweep = columns * arc_step_deg(radius, panel.width_m)
        return ArcSection(kind="arc", name=unique_name("arc", taken), panel=panel_id, center=(0.0, 0.0),
                          base_z=base_z, radius_m=round(radius, 3), start_deg=round(yaw - sweep / 2, 3),
                          columns=columns, rows=rows)
    half = columns * panel.width_m / 2
    right = (math.cos(math.radians(yaw)), -math.sin(math.radians(yaw)))
    origin = (x - half * right[0], y - half * right[1], base_z)
    return FlatSection(kind="flat", name=unique_name("wall", taken), panel=panel_id, origin=origin,
                       yaw_deg=round(yaw, 3), columns=columns, rows=rows)


def add_section(project: Project, section: Section) -> Change:
    if any(s.name == section.name for s in project.sections):
        raise EditError(f"a section named {section.name!r} already exists")
    return replace_fields(project, f"add section {section.name}", sections=[*project.sections, section])


def remove_sections(project: Project, catalog: Catalog, names: Iterable[str]) -> Change:
    """Delete sections and every pixel-map entry that placed their cabinets."""
    gone = list(dict.fromkeys(names))
    for name in gone:
        section_index(project, name)
    sections = [s for s in project.sections if s.name not in gone]
    pixel_map = prune_pixel_map(project.pixel_map, sections, catalog, removed_sections=gone)
    what = f"section {gone[0]}" if len(gone) == 1 else f"{len(gone)} sections"
    return replace_fields(project, f"delete {what}", sections=sections, pixel_map=pixel_map)


# ----------------------------------------------------------------------------- placement


def _translated(section: Section, offset: Sequence[float]) -> Section:
    dx, dy, dz = (float(v) for v in offset)
    if isinstance(section, ArcSection):
        return section.model_copy(update={"center": (section.center[0] + dx, section.center[1] + dy),
                                          "base_z": section.base_z + dz})
    if isinstance(section, CeilingSection):
        c = section.center
        return section.model_copy(update={"center": (c[0] + dx, c[1] + dy, c[2] + dz)})
    o = section.origin
    return section.model_copy(update={"origin": (o[0] + dx, o[1] + dy, o[2] + dz)})


def move_sections(project: Project, names: Iterable[str], offset: Sequence[float]) -> Change:
    """Translate sections by ``offset`` (dx, dy[, dz]) metres."""
    delta = (*offset, 0.0)[:3] if len(offset) == 2 else tuple(offset)
    moving = list(dict.fromkeys(names))
    indices = {section_index(project, n) for n in moving}
    sections = [_translated(s, delta) if i in indices else s for i, s in enumerate(project.sections)]
    what = f"section {moving[0]}" if len(moving) == 1 else f"{len(moving)} sections"
    return replace_fields(project, f"move {what}", sections=sections)


def _rotated(section: Section, degrees: float, pivot: Sequence[float]) -> Section:
    if isinstance(section, ArcSection):
        return section.model_copy(update={"center": rotate_plan(section.center, degrees, pivot),
                                          "start_deg": round(section.start_deg + degrees, 6)})
    if isinstance(section, CeilingSection):
        x, y = rotate_plan(section.center[:2], degrees, pivot)
        return section.model_copy(update={"center": (x, y, section.center[2]),
                                          "yaw_deg": round(section.yaw_deg + degrees, 6)})
    x, y = rotate_plan(section.origin[:2], degrees, pivot)
    return section.model_copy(update={"origin": (x, y, section.origin[2]),
                                      "yaw_deg": round(section.yaw_deg + degrees, 6)})


def plan_centroid(layout: StageLayout, names: Iterable[str]) -> tuple[float, float]:
    """Mean plan position (x, y) of all corners of the named sections' cabinets."""
    indices = [i for i, s in enumerate(layout.project.sections) if s.name in set(names)]
    mask = np.isin(np.asarray(layout.cabinets.section, dtype=np.int64), indices)
    if not mask.any():
        raise EditError("the selected sections have no cabinets to turn about")
    xy = layout.cabinets.corners[mask][:, :, :2].reshape(-1, 2).mean(axis=0)
    return float(xy[0]), float(xy[1])


def rotate_sections(project: Project, layout: StageLayout, names: Iterable[str], degrees: float,
                    pivot: Sequence[float] | None = None) -> Change:
    """Turn sections together about ``pivot`` (default: their common plan centroid)."""
    turning = list(dict.fromkeys(names))
    indices = {section_index(project, n) for n in turning}
    centre = tuple(pivot) if pivot is not None else plan_centroid(layout, turning)
    sections = [_rotated(s, degrees, centre) if i in indices else s for i, s in enumerate(project.sections)]
    what = f"section {turning[0]}" if len(turning) == 1 else f"{len(turning)} sections"
    return replace_fields(project, f"rotate {what} by {degrees:g} deg", sections=sections)


# ----------------------------------------------------------------------------- duplicate


def _continuation(section: Section, catalog: Catalog, layout: StageLayout) -> Section:
    """A copy placed where it continues the original: beside it, or further along the arc."""
    if isinstance(section, MeshSection):
        index = section_index(layout.project, section.name)
        mask = np.asarray(layout.cabinets.section) == index
        span = np.ptp(layout.cabinets.corners[mask][:, :, 0]) if mask.any() else 1.0
        return _translated(section, (float(span), 0.0, 0.0))
    panel = _panel(catalog, section.panel)
    if isinstance(section, ArcSection):
        sweep = arc_columns(section, panel) * arc_step_deg(section.radius_m, panel.width_m)
        return section.model_copy(update={"start_deg": round(section.start_deg + sweep, 6)})
    width = section.columns * panel.width_m
    yaw = math.radians(section.yaw_deg)
    return _translated(section, (width * math.cos(yaw), -width * math.sin(yaw), 0.0))


def _renamed_omit(section: Section, new_name: str) -> Section:
    if isinstance(section, MeshSection):
        return section.model_copy(update={"name": new_name})
    prefix = f"{section.name}/"
    omit = [new_name + "/" + o[len(prefix):] if o.startswith(prefix) else o for o in section.omit]
    return section.model_copy(update={"name": new_name, "omit": omit})


def duplicate_sections(project: Project, layout: StageLayout, names: Iterable[str]) -> Change:
    """Copies of sections placed to continue the originals; the copies are not mapped yet."""
    copies: list[Section] = []
    taken = [s.name for s in project.sections]
    for name in dict.fromkeys(names):
        original = project.sections[section_index(project, name)]
        new_name = unique_name(f"{name}-2", taken)
        taken.append(new_name)
        copies.append(_renamed_omit(_continuation(original, layout.catalog, layout), new_name))
    what = f"section {copies[0].name}" if len(copies) == 1 else f"{len(copies)} sections"
    return replace_fields(project, f"duplicate {what}", sections=[*project.sections, *copies])


# ----------------------------------------------------------------------------- parameters


def _renamed_map(pixel_map: list[MapEntry], old: str, new: str) -> list[MapEntry]:
    out = []
    for entry in pixel_map:
        if entry.block is not None and entry.block.section == old:
            entry = entry.model_copy(update={"block": entry.block.model_copy(update={"section": new})})
        elif entry.cabinet is not None and entry.cabinet.startswith(f"{old}/"):
            entry = entry.model_copy(update={"cabinet": new + entry.cabinet[len(old):]})
        out.append(entry)
    return out


def update_section(project: Project, catalog: Catalog, name: str, changes: Mapping[str, Any]) -> Change:
    """Set section parameters (``{"radius_m": 5.0}``, ``{"sweep_deg": 90}``, ``{"name": "left"}``...).

    For arcs, giving ``sweep_deg`` clears ``columns`` and the other way round. A rename carries the
    omitted cabinets and the pixel map along. When the grid shrinks, map entries are cut to it.
    """
    index = section_index(project, name)
    section = project.sections[index]
    data = section.model_dump()
    data.update(changes)
    if isinstance(section, ArcSection):
        if changes.get("sweep_deg") is not None:
            data["columns"] = None
        elif changes.get("columns") is not None:
            data["sweep_deg"] = None
    new_name = str(data["name"])
    if new_name != name and any(s.name == new_name for s in project.sections):
        raise EditError(f"a section named {new_name!r} already exists")
    if new_name != name and not isinstance(section, MeshSection):
        data["omit"] = _renamed_omit(section, new_name).omit  # type: ignore[union-attr]
    try:
        updated: Section = type(section).model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "section"
        raise EditError(f"{name}: {where}: {first['msg']}") from exc
    sections = list(project.sections)
    sections[index] = updated
    pixel_map = _renamed_map(project.pixel_map, name, new_name) if new_name != name else project.pixel_map
    pixel_map = prune_pixel_map(pixel_map, sections, catalog)
    keys = ", ".join(sorted(changes))
    change = replace_fields(project, f"set {keys} of {name}", sections=sections, pixel_map=pixel_map)
    if new_name == name:
        return change
    return dataclasses.replace(change, renamed_sections=((name, new_name),))


def add_column(project: Project, catalog: Catalog, name: str) -> Change:
    """Extend a grid section by one column on its right (seen from the front); ids stay stable."""
    section = project.sections[section_index(project, name)]
    if isinstance(section, MeshSection):
        raise EditError(f"{name} is a mesh section: its cabinets come from {section.file}")
    panel = _panel(catalog, section.panel)
    if isinstance(section, ArcSection):
        if section.sweep_deg is not None:
            step = arc_step_deg(section.radius_m, panel.width_m)
            return update_section(project, catalog, name, {"sweep_deg": section.sweep_deg + step})
        return update_section(project, catalog, name, {"columns": arc_columns(section, panel) + 1})
    if isinstance(section, CeilingSection):
        # The ceiling grid is centred: shift the centre half a cabinet right to keep cabinets in place.
        yaw = math.radians(section.yaw_deg)
        half = panel.width_m / 2
        c = section.center
        centre = (c[0] + half * math.cos(yaw), c[1] - half * math.sin(yaw), c[2])
        return update_section(project, catalog, name, {"columns": section.columns + 1, "center": centre})
    return update_section(project, catalog, name, {"columns": section.columns + 1})


# ----------------------------------------------------------------------------- cabinets


def omit_cabinets(project: Project, ids: Iterable[str]) -> Change:
    """Leave cabinets out of their grids (a door, a trimmed corner) and drop their own map entries.

    Block entries that span an omitted cabinet stay valid (the layout skips omitted cabinets).
    """
    wanted = list(dict.fromkeys(ids))
    by_section: dict[str, list[str]] = {}
    for cid in wanted:
        parsed = parse_grid_cabinet_id(cid)
        section_name = parsed[0] if parsed else cid.rsplit("/", 1)[0]
        section = project.sections[section_index(project, section_name)]
        if isinstance(section, MeshSection) or parsed is None:
            raise EditError(f"{cid} belongs to mesh section {section_name}: edit its OBJ file to remove it")
        by_section.setdefault(section_name, []).append(cid)
    sections = []
    for section in project.sections:
        extra = by_section.get(section.name)
        if extra and not isinstance(section, MeshSection):
            section = section.model_copy(update={"omit": [*section.omit, *(c for c in extra if c not in section.omit)]})
        sections.append(section)
    pixel_map = [e for e in project.pixel_map if e.cabinet is None or e.cabinet not in set(wanted)]
    what = wanted[0] if len(wanted) == 1 else f"{len(wanted)} cabinets"
    return replace_fields(project, f"delete {what}", frozenset(wanted), sections=sections, pixel_map=pixel_map)
