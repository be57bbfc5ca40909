"""StageLayout: a project resolved into cabinets and a per-cabinet pixel map.

Building the layout never raises for content problems; it collects them (unknown panel types,
bad meshes, map entries naming unknown cabinets) in ``problems`` with their document paths, so
that every problem can be reported at once with its line. It is bounded by ``StageLimits``
(cabinets, LED pixels, OBJ size, pixel-map cells visited): crossing one is a problem too, and the
layout stops there (``complete`` is False).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vpstage.config import Problem
from vpstage.config.problems import Path as KeyPath
from vpstage.stage.cabinets import CabinetSet, grid_cabinet_id
from vpstage.stage.catalog import Catalog, PanelType
from vpstage.stage.limits import DEFAULT_STAGE_LIMITS, MAX_CANVAS_SIDE_PX, StageLimitError, StageLimits
from vpstage.stage.mesh import place_mesh
from vpstage.stage.model import (
    ArcSection,
    CeilingSection,
    FlatSection,
    MapEntry,
    MeshSection,
    Project,
    Section,
)
from vpstage.stage.sections import arc_columns, place_arc, place_ceiling, place_flat

FLIPS = {"none": 0, "h": 1, "v": 2}


@dataclass(kw_only=True)
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

        return PixelMap(canvas=full(-1, np.int32), x=full(0, np.int32), y=full(0, np.int32), rotation=full(0, np.int32),
                        flip=full(0, np.int8), port=full(-1, np.int32), entry=full(-1, np.int32))


@dataclass(kw_only=True)
class StageLayout:
    project: Project
    catalog: Catalog
    base_dir: Path
    cabinets: CabinetSet
    pixel_map: PixelMap
    id_to_index: dict[str, int]
    problems: list[Problem] = field(default_factory=list)
    complete: bool = True
    """False when a stage limit was crossed: the layout holds only what came before it."""

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


class _Budget:
    """Cabinets and LED pixels placed so far, against the stage limits."""

    def __init__(self, limits: StageLimits) -> None:
        self.limits = limits
        self.cabinets = 0
        self.pixels = 0

    @property
    def room(self) -> int:
        return self.limits.max_cabinets - self.cabinets

    def admit(self, path: KeyPath, count: int, panel: PanelType) -> None:
        """Count ``count`` cabinets of ``panel``; StageLimitError when that crosses a limit."""
        cabinets, pixels = self.cabinets + count, self.pixels + count * panel.pixel_count
        if cabinets > self.limits.max_cabinets:
            raise StageLimitError(Problem(path=path,
                                          message=f"{count:,} cabinets here bring the stage to {cabinets:,}, over the "
                                            f"limit of {self.limits.max_cabinets:,} (stage limit max_cabinets)"))
        if pixels > self.limits.max_led_pixels:
            raise StageLimitError(Problem(path=path,
                                          message=f"{count:,} cabinets of {panel.pixels_w}x{panel.pixels_h} px here "
                                            f"bring the stage to {pixels:,} LED pixels, over the limit of "
                                            f"{self.limits.max_led_pixels:,} (stage limit max_led_pixels)"))
        self.cabinets, self.pixels = cabinets, pixels


def _grid_size(section: FlatSection | ArcSection | CeilingSection, panel: PanelType) -> int:
    """Grid cells of a parametric section (omitted cabinets included)."""
    columns = arc_columns(section, panel) if isinstance(section, ArcSection) else section.columns
    return columns * section.rows


def _place_section(cabinets: CabinetSet, i: int, section: Section, panel: PanelType, base_dir: Path,
                   budget: _Budget) -> list[Problem]:
    path: KeyPath = ("sections", i)
    if isinstance(section, MeshSection):
        before = len(cabinets)
        problems = place_mesh(cabinets, i, section, panel, base_dir, path, budget.limits, budget.room)
        budget.admit(path, len(cabinets) - before, panel)
        return problems
    budget.admit(path, _grid_size(section, panel), panel)
    if isinstance(section, FlatSection):
        place_flat(cabinets, i, section, panel)
    elif isinstance(section, ArcSection):
        place_arc(cabinets, i, section, panel)
    else:
        place_ceiling(cabinets, i, section, panel)
    return []


def _place_sections(project: Project, catalog: Catalog, base_dir: Path,
                    limits: StageLimits) -> tuple[CabinetSet, list[Problem], bool]:
    """(cabinets, problems, complete): placing stops at the first section that crosses a limit."""
    cabinets, problems, budget = CabinetSet(), [], _Budget(limits)
    complete = True
    for i, section in enumerate(project.sections):
        panel = catalog.panels.get(section.panel)
        if panel is None:
            problems.append(Problem(path=("sections", i, "panel"),
                                    message=f"unknown panel type {section.panel!r} (not in the catalog)"))
            continue
        try:
            problems += _place_section(cabinets, i, section, panel, base_dir, budget)
        except ValueError as exc:
            problems.append(Problem(path=("sections", i), message=str(exc)))
        except StageLimitError as exc:
            problems.append(exc.problem)
            complete = False
            break
    cabinets.freeze()
    return cabinets, problems, complete


class _MapBudget:
    """Grid cells the pixel map may visit in all (a stage within limits never needs more)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, k: int) -> None:
        self.left -= 1
        if self.left < 0:
            raise StageLimitError(Problem(path=("pixel_map", k),
                                          message=f"the pixel map places more than {self.limit:,} "
                                "cabinets (stage limit max_cabinets)"))


def _entry_cabinets(entry: MapEntry, k: int, project: Project, ids: dict[str, int], omitted: dict[str, set[str]],
                    budget: _MapBudget) -> tuple[list[tuple[int, int, int]], list[Problem]]:
    """(cabinet index, dx, dy in cabinet units) for every cabinet an entry places."""
    path = ("pixel_map", k)
    if entry.cabinet is not None:
        budget.spend(k)
        if entry.cabinet not in ids:
            return [], [Problem(path=path + ("cabinet",), message=f"unknown cabinet {entry.cabinet!r}")]
        return [(ids[entry.cabinet], 0, 0)], []
    assert entry.block is not None
    block = entry.block
    if not any(s.name == block.section for s in project.sections):
        return [], [Problem(path=path + ("block", "section"), message=f"unknown section {block.section!r}")]
    skip = omitted.get(block.section, set())
    out, problems = [], []
    for r in range(block.rows[0], block.rows[1] + 1):
        for c in range(block.columns[0], block.columns[1] + 1):
            budget.spend(k)
            cid = grid_cabinet_id(block.section, c, r)
            if cid in ids:
                out.append((ids[cid], c - block.columns[0], r - block.rows[0]))
            elif cid not in skip:
                problems.append(Problem(path=path + ("block",), message=f"block reaches {cid}, which does not exist"))
                return out, problems
    return out, problems


def _omitted(project: Project) -> dict[str, set[str]]:
    """Omitted cabinet ids per grid section."""
    return {s.name: set(s.omit) for s in project.sections if not isinstance(s, MeshSection)}


def _resolve_map(project: Project, cabinets: CabinetSet, ids: dict[str, int],
                 limits: StageLimits) -> tuple[PixelMap, list[Problem], bool]:
    """(pixel map, problems, complete): resolving stops when the map visits more than
    ``max_cabinets`` grid cells."""
    pm, problems = PixelMap.empty(len(cabinets)), []
    canvas_index = {c.name: i for i, c in enumerate(project.canvases)}
    omitted, budget = _omitted(project), _MapBudget(limits.max_cabinets)
    for k, entry in enumerate(project.pixel_map):
        if entry.canvas not in canvas_index:
            problems.append(Problem(path=("pixel_map", k, "canvas"), message=f"unknown canvas {entry.canvas!r}"))
            continue
        try:
            placed, found = _entry_cabinets(entry, k, project, ids, omitted, budget)
        except StageLimitError as exc:
            return pm, problems + [exc.problem], False
        problems += found
        for idx_, dx, dy in placed:
            idx = int(idx_)
            if pm.entry[idx] >= 0:
                problems.append(Problem(path=("pixel_map", k), message=f"cabinet {cabinets.ids[idx]} is already mapped "
                                                     f"by pixel_map[{pm.entry[idx]}]"))
                continue
            w, h = cabinets.pixels_w[idx], cabinets.pixels_h[idx]
            fw, fh = (h, w) if entry.rotation in (90, 270) else (w, h)
            x, y = entry.x + dx * fw, entry.y + dy * fh
            if max(x, y) > MAX_CANVAS_SIDE_PX:
                problems.append(Problem(path=("pixel_map", k),
                                        message=f"cabinet {cabinets.ids[idx]} would sit at ({x}, {y}), "
                              f"beyond the largest canvas ({MAX_CANVAS_SIDE_PX} px a side)"))
                continue
            pm.canvas[idx], pm.entry[idx] = canvas_index[entry.canvas], k
            pm.x[idx], pm.y[idx] = x, y
            pm.rotation[idx], pm.flip[idx] = entry.rotation, FLIPS[entry.flip]
            pm.port[idx] = -1 if entry.port is None else entry.port
    return pm, problems, True


def build_layout(project: Project, catalog: Catalog, base_dir: Path,
                 limits: StageLimits = DEFAULT_STAGE_LIMITS) -> StageLayout:
    """Place every cabinet and resolve the pixel map; problems are collected, not raised.

    A crossed stage limit is one of the problems; the layout then stops there (``complete`` False:
    later sections are not placed, the pixel map is not resolved)."""
    cabinets, problems, complete = _place_sections(project, catalog, base_dir, limits)
    ids: dict[str, int] = {}
    for i, cid in enumerate(cabinets.ids):
        if cid in ids:
            problems.append(Problem(path=("sections", cabinets.section[i]), message=f"duplicate cabinet id {cid!r}"))
        ids.setdefault(cid, i)
    if not complete:
        return StageLayout(project=project, catalog=catalog, base_dir=base_dir, cabinets=cabinets,
                           pixel_map=PixelMap.empty(len(cabinets)), id_to_index=ids, problems=problems, complete=False)
    pixel_map, map_problems, complete = _resolve_map(project, cabinets, ids, limits)
    return StageLayout(project=project, catalog=catalog, base_dir=base_dir, cabinets=cabinets, pixel_map=pixel_map,
                       id_to_index=ids, problems=problems + map_problems, complete=complete)
