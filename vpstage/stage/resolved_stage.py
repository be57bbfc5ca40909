"""Stage: a validated project with its resolved cabinets, pixel map and pixel geometry."""

from __future__ import annotations

import dataclasses
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from vpstage.config import ConfigError, Problem
from vpstage.stage.layout import StageLayout
from vpstage.stage.limits import DEFAULT_STAGE_LIMITS, StageLimits
from vpstage.stage.model import Project
from vpstage.stage.pixels import CanvasPixels, canvas_pixels
from vpstage.stage.project_io import load_project, resolve
from vpstage.stage.validation import port_loads


class Stage:
    """Read-mostly view of a stage. Pixel maps are computed on first use and cached."""

    def __init__(self, project: Project, layout: StageLayout, path: Path | None = None,
                 problems: list[Problem] | None = None) -> None:
        self.project = project
        self.layout = layout
        self.path = path
        self.problems = problems or []
        self._canvas_cache: dict[int, CanvasPixels] = {}

    @classmethod
    def open(cls, path: str | Path, *, strict: bool = True, limits: StageLimits = DEFAULT_STAGE_LIMITS) -> Stage:
        """Load, resolve and validate a project file within ``limits``. ``strict`` raises on any error."""
        doc = load_project(path, limits)
        layout, problems = resolve(doc.project, doc.path.parent.resolve(), doc.index, limits)
        if strict and any(p.severity == "error" for p in problems):
            raise ConfigError(problems)
        return cls(doc.project, layout, doc.path, problems)

    @classmethod
    def from_project(cls, project: Project, base_dir: str | Path = ".", *, strict: bool = True,
                     limits: StageLimits = DEFAULT_STAGE_LIMITS, file: str | None = None) -> Stage:
        """The stage of an in-memory ``project``; ``file`` names it in problems that have no file
        of their own (the project's file name, or "unsaved project")."""
        layout, problems = resolve(project, Path(base_dir).resolve(), limits=limits)
        if file is not None:
            problems = [p if p.file else dataclasses.replace(p, file=file) for p in problems]
        if strict and any(p.severity == "error" for p in problems):
            raise ConfigError(problems)
        return cls(project, layout, None, problems)

    # ------------------------------------------------------------------ lookups

    def canvas_index(self, name: str) -> int:
        return self.layout.canvas_index(name)

    def canvas_pixels(self, canvas: str | int) -> CanvasPixels:
        index = self.canvas_index(canvas) if isinstance(canvas, str) else canvas
        if index not in self._canvas_cache:
            self._canvas_cache[index] = canvas_pixels(self.layout, index)
        return self._canvas_cache[index]

    def canvases_of_node(self, node: str) -> list[str]:
        return [c.name for c in self.project.canvases if c.node == node]

    # ------------------------------------------------------------------ totals

    @cached_property
    def cabinet_pixels(self) -> np.ndarray:
        cab = self.layout.cabinets
        return np.asarray(cab.pixels_w, dtype=np.int64) * np.asarray(cab.pixels_h, dtype=np.int64)

    def section_totals(self) -> list[dict[str, Any]]:
        sec = np.asarray(self.layout.cabinets.section, dtype=np.int64)
        count = len(self.project.sections)
        cabinets = np.bincount(sec, minlength=count)
        pixels = _sums(sec, self.cabinet_pixels, count)
        return [{"name": s.name, "kind": s.kind, "panel": s.panel, "cabinets": int(cabinets[i]),
                 "led_pixels": pixels[i]} for i, s in enumerate(self.project.sections)]

    def canvas_totals(self) -> list[dict[str, Any]]:
        pm = self.layout.pixel_map
        mapped = pm.canvas >= 0
        used = _sums(pm.canvas[mapped].astype(np.int64), self.cabinet_pixels[mapped], len(self.project.canvases))
        return [{"name": c.name, "width": c.width, "height": c.height, "node": c.node,
                 "transport": c.transport, "processor": c.processor, "used_pixels": used[i]}
                for i, c in enumerate(self.project.canvases)]

    def node_totals(self) -> list[dict[str, Any]]:
        by_node: dict[str, list[dict[str, Any]]] = {}
        for canvas in self.canvas_totals():
            by_node.setdefault(canvas["node"], []).append(canvas)
        out = []
        for n in self.project.nodes:
            mine = by_node.get(n.name, [])
            out.append({"name": n.name, "host": n.host, "gpu": n.gpu, "spare": n.spare,
                        "canvases": [c["name"] for c in mine],
                        "led_pixels": sum(c["used_pixels"] for c in mine)})
        return out

    def port_load_table(self) -> list[dict[str, Any]]:
        procs = {p.name: p for p in self.project.processors}
        rows = []
        for (name, port), load in sorted(port_loads(self.layout).items()):
            cap = procs[name].port_capacity_at(self.project.frame_rate) if name in procs else 0
            rows.append({"processor": name, "port": port, "pixels": load, "capacity": cap,
                         "percent": round(100.0 * load / cap, 1) if cap else None})
        return rows

    def summary(self) -> dict[str, Any]:
        """What ``main.py stage-info --json`` prints."""
        return {
            "name": self.project.name,
            "frame_rate": str(self.project.frame_rate),
            "cabinets": len(self.layout.cabinets),
            "led_pixels": int(self.cabinet_pixels.sum()),
            "sections": self.section_totals(),
            "canvases": self.canvas_totals(),
            "nodes": self.node_totals(),
            "port_loads": self.port_load_table(),
        }


def _sums(groups: np.ndarray, values: np.ndarray, count: int) -> list[int]:
    """Exact integer sums of ``values`` per group index 0..count-1 (one pass)."""
    out = np.zeros(count, dtype=np.int64)
    np.add.at(out, groups, values)
    return [int(v) for v in out]
