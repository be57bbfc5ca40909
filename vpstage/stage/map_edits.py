"""Pixel-map edits: move and rotate cabinet rectangles on canvases, auto-layout, pruning.

The pixel map is a list of entries, each placing one cabinet or a block of a section's grid. An
edit that moves or turns some cabinets first *explodes* every block entry holding one of them into
single-cabinet entries (same canvas positions, rotation, flip and port), so the other cabinets of
the block stay exactly where they were; then it edits those single entries. Entries that hold none
of the edited cabinets are left as they are.

All functions are pure: they return a :class:`Change` and leave the Project untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vpstage.stage.catalog import Catalog
from vpstage.stage.change import Change, EditError, replace_fields
from vpstage.stage.layout import StageLayout
from vpstage.stage.mapping import LayoutError, auto_layout
from vpstage.stage.model import ArcSection, MapEntry, MeshSection, Project, Section
from vpstage.stage.sections import arc_columns

_GRID_ID = re.compile(r"^(?P<section>.+)/c(?P<column>\d+)r(?P<row>\d+)$")


def parse_grid_cabinet_id(cabinet_id: str) -> tuple[str, int, int] | None:
    """``wall/c03r01`` -> ("wall", 3, 1); None for mesh ids and anything else."""
    match = _GRID_ID.match(cabinet_id)
    if match is None:
        return None
    return match["section"], int(match["column"]), int(match["row"])


@dataclass(frozen=True)
class MapPlacement:
    """Where a cabinet's rectangle goes: canvas name and top-left canvas pixel."""

    canvas: str
    x: int
    y: int


def _explode(project: Project, layout: StageLayout, ids: Iterable[str]) -> tuple[list[MapEntry], dict[str, int]]:
    """The pixel map with every entry touching ``ids`` split into single-cabinet entries.

    Returns the new entry list and, for each id that is mapped, the index of its own entry.
    Unmapped ids are absent from the dict.
    """
    pm, cab = layout.pixel_map, layout.cabinets
    wanted = {int(layout.id_to_index[i]) for i in ids if i in layout.id_to_index}
    entries_to_split = {int(pm.entry[i]) for i in wanted if pm.entry[i] >= 0}
    out: list[MapEntry] = []
    own: dict[str, int] = {}
    for k, entry in enumerate(project.pixel_map):
        if k not in entries_to_split:
            out.append(entry.model_copy(deep=True))
            continue
        members = sorted((int(i) for i in (pm.entry == k).nonzero()[0]),
                         key=lambda i: (int(pm.y[i]), int(pm.x[i])))
        for i in members:
            own[cab.ids[i]] = len(out)
            out.append(MapEntry(cabinet=cab.ids[i], canvas=entry.canvas, x=int(pm.x[i]), y=int(pm.y[i]),
                                rotation=entry.rotation, flip=entry.flip, port=entry.port))
    return out, own


def _check_ids(layout: StageLayout, ids: Iterable[str]) -> None:
    unknown = sorted(i for i in ids if i not in layout.id_to_index)
    if unknown:
        raise EditError(f"unknown cabinet(s): {', '.join(unknown)}")


def move_map_rects(project: Project, layout: StageLayout, moves: Mapping[str, MapPlacement]) -> Change:
    """Move cabinets' rectangles to new canvas positions; unmapped cabinets get new entries.

    ``layout`` must be the resolved layout of ``project`` as it is now.
    """
    _check_ids(layout, moves)
    canvases = {c.name for c in project.canvases}
    for cid, place in moves.items():
        if place.canvas not in canvases:
            raise EditError(f"cannot move {cid}: there is no canvas named {place.canvas!r}")
        if place.x < 0 or place.y < 0:
            raise EditError(f"cannot move {cid} to ({place.x}, {place.y}): canvas positions start at 0")
    entries, own = _explode(project, layout, moves)
    for cid, place in moves.items():
        if cid in own:
            entries[own[cid]] = entries[own[cid]].model_copy(update={"canvas": place.canvas, "x": place.x,
                                                                     "y": place.y})
        else:
            entries.append(MapEntry(cabinet=cid, canvas=place.canvas, x=place.x, y=place.y))
    what = next(iter(moves)) if len(moves) == 1 else f"{len(moves)} cabinets"
    return replace_fields(project, f"move {what} on the pixel map", frozenset(moves), pixel_map=entries)


def rotate_map_rects(project: Project, layout: StageLayout, ids: Iterable[str], quarter_turns: int = 1) -> Change:
    """Turn mapped cabinets' images by ``quarter_turns`` x 90 degrees clockwise (top-left kept)."""
    wanted = list(dict.fromkeys(ids))
    _check_ids(layout, wanted)
    entries, own = _explode(project, layout, wanted)
    unmapped = [i for i in wanted if i not in own]
    if unmapped:
        raise EditError(f"cannot rotate {', '.join(unmapped)}: not on any canvas yet")
    for cid in wanted:
        entry = entries[own[cid]]
        entries[own[cid]] = entry.model_copy(update={"rotation": (entry.rotation + 90 * quarter_turns) % 360})
    what = wanted[0] if len(wanted) == 1 else f"{len(wanted)} cabinets"
    return replace_fields(project, f"rotate {what} on the pixel map", frozenset(wanted), pixel_map=entries)


def unmap_cabinets(project: Project, layout: StageLayout, ids: Iterable[str]) -> Change:
    """Take cabinets off their canvases (their entries go; block neighbours keep their pixels)."""
    wanted = list(dict.fromkeys(ids))
    _check_ids(layout, wanted)
    entries, own = _explode(project, layout, wanted)
    drop = {own[c] for c in wanted if c in own}
    kept = [e for k, e in enumerate(entries) if k not in drop]
    what = wanted[0] if len(wanted) == 1 else f"{len(wanted)} cabinets"
    return replace_fields(project, f"unmap {what}", frozenset(wanted), pixel_map=kept)


def auto_layout_change(project: Project, layout: StageLayout) -> Change:
    """Replace the whole pixel map by :func:`vpstage.stage.auto_layout`'s packing.

    Raises EditError (with LayoutError's message) when the cabinets do not fit.
    """
    try:
        entries = auto_layout(layout)
    except LayoutError as exc:
        raise EditError(str(exc)) from exc
    return replace_fields(project, "auto-layout the pixel map", pixel_map=entries)


# ----------------------------------------------------------------------------- pruning


def grid_extent(section: Section, catalog: Catalog) -> tuple[int, int] | None:
    """(columns, rows) of a grid section; None for mesh sections and arcs of unknown panels."""
    if isinstance(section, MeshSection):
        return None
    if isinstance(section, ArcSection):
        panel = catalog.panels.get(section.panel)
        if panel is None:
            return None
        try:
            return arc_columns(section, panel), section.rows
        except ValueError:
            return None
    return section.columns, section.rows


def _clip_entry(entry: MapEntry, extents: Mapping[str, tuple[int, int] | None],
                removed: set[str]) -> MapEntry | None:
    """The entry cut to its section's grid; None when nothing of it is left."""
    if entry.cabinet is not None:
        parsed = parse_grid_cabinet_id(entry.cabinet)
        section = parsed[0] if parsed else entry.cabinet.rsplit("/", 1)[0]
        if section in removed:
            return None
        extent = extents.get(section)
        if parsed is not None and extent is not None and (parsed[1] >= extent[0] or parsed[2] >= extent[1]):
            return None
        return entry
    assert entry.block is not None
    block = entry.block
    if block.section in removed:
        return None
    extent = extents.get(block.section)
    if extent is None:
        return entry
    last_col, last_row = min(block.columns[1], extent[0] - 1), min(block.rows[1], extent[1] - 1)
    if last_col < block.columns[0] or last_row < block.rows[0]:
        return None
    if (last_col, last_row) == (block.columns[1], block.rows[1]):
        return entry
    clipped = block.model_copy(update={"columns": (block.columns[0], last_col), "rows": (block.rows[0], last_row)})
    return entry.model_copy(update={"block": clipped})


def prune_pixel_map(pixel_map: list[MapEntry], sections: list[Section], catalog: Catalog,
                    removed_sections: Iterable[str] = ()) -> list[MapEntry]:
    """Entries cut to the sections' current grids; entries of removed sections dropped.

    Used after a grid shrinks (fewer columns or rows) or a section is deleted, so the map never
    names cabinets that no longer exist. Cabinets added by a grid that grew stay unmapped (the
    validation lists them; auto-layout maps them).
    """
    extents = {s.name: grid_extent(s, catalog) for s in sections}
    removed = set(removed_sections)
    out = []
    for entry in pixel_map:
        kept = _clip_entry(entry, extents, removed)
        if kept is not None:
            out.append(kept)
    return out
