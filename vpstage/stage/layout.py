"""StageLayout: a project resolved into cabinets and a per-cabinet pixel map.

Building the layout never raises for content problems; it collects them (unknown panel types,
bad meshes, map entries naming unknown cabinets) in ``problems`` with their document paths, so
that every problem can be reported at once with its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vpstage.config import Problem
from vpstage.stage.cabinets import CabinetSet, grid_cabinet_id
from vpstage.stage.catalog import Catalog
from vpstage.stage.mesh import place_mesh
from vpstage.stage.model import (
    ArcSection,
    CeilingSection,
    FlatSection,
    MapEntry,
    MeshSection,
    Project,
)
from vpstage.stage.sections import place_arc, place_ceiling, place_flat

FLIPS = {"none": 0, "h": 1, "v": 2}


@dataclass
class PixelMap:
    """Per-cabinet canvas placement; ``canvas == -1`` means unmapped."""

    canvas: NDArray[np.int32]
    x: NDArray[np.int32]
    y: NDArray[np.int32]
    rotation: NDArray[np.int32]
    flip: NDArray[np.int8]
    port: NDArray[np.int32]
    entry: NDArray[np.int32]
    """Index of the pixel_map entry that placed the cabinet (for error locations)."""

    @staticmethod
    def empty(count: int) -> PixelMap:
        def full(value: int, dtype: type) -> NDArray:  # type: ignore[type-arg]
            return np.full(count, value, dtype=dtype)

        return PixelMap(full(-1, np.int32), full(0, np.int32), full(0, np.int32), full(0, np.int32),
                        full(0, np.int8), full(-1, np.int32), full(-1, np.int32))


@dataclass
class StageLayout:
    project: Project
    catalog: Catalog
    base_dir: Path
    cabinets: CabinetSet
    pixel_map: PixelMap
    id_to_index: dict[str, int]
    problems: list[Problem] = field(default_factory=list)

    def footprint(self, index: int) -> tuple[int, int]:
        """(width, height) of cabinet ``index`` on its canvas, after rotation."""
        w, h = self.cabinets.pixels_w[index], self.cabinets.pixels_h[index]
        return (h, w) if self.pixel_map.rotation[index] in (90, 270) else (w, h)

    def canvas_index(self, name: str) -> int:
        for i, canvas in enumerate(self.project.canvases):
            if canvas.name == name:
                return i
        raise KeyError(f"no canvas named {name!r}")

    def cabinets_on_canvas(self, canvas: int) -> NDArray[np.intp]:
        return np.flatnonzero(self.pixel_map.canvas == canvas)


def _place_sections(project: Project, catalog: Catalog, base_dir: Path) -> tuple[CabinetSet, list[Problem]]:
    cabinets, problems = CabinetSet(), []
    for i, section in enumerate(project.sections):
        path = ("sections", i)
        panel = catalog.panels.get(section.panel)
        if panel is None:
            problems.append(Problem(path + ("panel",), f"unknown panel type {section.panel!r} (not in the catalog)"))
            continue
        try:
            if isinstance(section, FlatSection):
                place_flat(cabinets, i, section, panel)
            elif isinstance(section, ArcSection):
                place_arc(cabinets, i, section, panel)
            elif isinstance(section, CeilingSection):
                place_ceiling(cabinets, i, section, panel)
            elif isinstance(section, MeshSection):
                problems += place_mesh(cabinets, i, section, panel, base_dir, path)
        except ValueError as exc:
            problems.append(Problem(path, str(exc)))
    cabinets.freeze()
    return cabinets, problems


def _entry_cabinets(entry: MapEntry, k: int, project: Project, cabinets: CabinetSet,
                    ids: dict[str, int]) -> tuple[list[tuple[int, int, int]], list[Problem]]:
    """(cabinet index, dx, dy in cabinet units) for every cabinet an entry places."""
    path = ("pixel_map", k)
    if entry.cabinet is not None:
        if entry.cabinet not in ids:
            return [], [Problem(path + ("cabinet",), f"unknown cabinet {entry.cabinet!r}")]
        return [(ids[entry.cabinet], 0, 0)], []
    assert entry.block is not None
    block = entry.block
    names = [s.name for s in project.sections]
    if block.section not in names:
        return [], [Problem(path + ("block", "section"), f"unknown section {block.section!r}")]
    out, problems = [], []
    for r in range(block.rows[0], block.rows[1] + 1):
        for c in range(block.columns[0], block.columns[1] + 1):
            cid = grid_cabinet_id(block.section, c, r)
            if cid in ids:
                out.append((ids[cid], c - block.columns[0], r - block.rows[0]))
            elif not _is_omitted(project, block.section, cid):
                problems.append(Problem(path + ("block",), f"block reaches {cid}, which does not exist"))
                return out, problems
    return out, problems


def _is_omitted(project: Project, section: str, cabinet_id: str) -> bool:
    for s in project.sections:
        if s.name == section and not isinstance(s, MeshSection):
            return cabinet_id in s.omit
    return False


def _resolve_map(project: Project, cabinets: CabinetSet, ids: dict[str, int]) -> tuple[PixelMap, list[Problem]]:
    pm, problems = PixelMap.empty(len(cabinets)), []
    canvas_index = {c.name: i for i, c in enumerate(project.canvases)}
    for k, entry in enumerate(project.pixel_map):
        if entry.canvas not in canvas_index:
            problems.append(Problem(("pixel_map", k, "canvas"), f"unknown canvas {entry.canvas!r}"))
            continue
        placed, found = _entry_cabinets(entry, k, project, cabinets, ids)
        problems += found
        for idx_, dx, dy in placed:
            idx = int(idx_)
            if pm.entry[idx] >= 0:
                problems.append(Problem(("pixel_map", k), f"cabinet {cabinets.ids[idx]} is already mapped "
                                        f"by pixel_map[{pm.entry[idx]}]"))
                continue
            w, h = cabinets.pixels_w[idx], cabinets.pixels_h[idx]
            fw, fh = (h, w) if entry.rotation in (90, 270) else (w, h)
            pm.canvas[idx], pm.entry[idx] = canvas_index[entry.canvas], k
            pm.x[idx], pm.y[idx] = entry.x + dx * fw, entry.y + dy * fh
            pm.rotation[idx], pm.flip[idx] = entry.rotation, FLIPS[entry.flip]
            pm.port[idx] = -1 if entry.port is None else entry.port
    return pm, problems


def build_layout(project: Project, catalog: Catalog, base_dir: Path) -> StageLayout:
    """Place every cabinet and resolve the pixel map; problems are collected, not raised."""
    cabinets, problems = _place_sections(project, catalog, base_dir)
    ids: dict[str, int] = {}
    for i, cid in enumerate(cabinets.ids):
        if cid in ids:
            problems.append(Problem(("sections", cabinets.section[i]), f"duplicate cabinet id {cid!r}"))
        ids.setdefault(cid, i)
    pixel_map, map_problems = _resolve_map(project, cabinets, ids)
    return StageLayout(project, catalog, base_dir, cabinets, pixel_map, ids, problems + map_problems)
