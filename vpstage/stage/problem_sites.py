"""Which cabinets a validation problem is about (for markers in the 3D view and the editors)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from vpstage.config import Problem
from vpstage.stage.layout import StageLayout

_CABINET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*/(?:c\d+r\d+|f\d{4})")
_PORT = re.compile(r"\bport (\d+) of\b")


def _cabinets_of_problem(layout: StageLayout, problem: Problem) -> list[int]:
    named = [layout.id_to_index[m] for m in _CABINET_ID.findall(problem.message) if m in layout.id_to_index]
    if named:
        return named
    path, pm = problem.path, layout.pixel_map
    if len(path) >= 2 and path[0] == "pixel_map" and isinstance(path[1], int):
        return [int(i) for i in np.flatnonzero(pm.entry == path[1])]
    if len(path) >= 2 and path[0] == "processors" and isinstance(path[1], int):
        port = _PORT.search(problem.message)
        if port is None or path[1] >= len(layout.project.processors):
            return []
        name = layout.project.processors[path[1]].name
        canvases = [i for i, c in enumerate(layout.project.canvases) if c.processor == name]
        return [int(i) for i in np.flatnonzero(np.isin(pm.canvas, canvases) & (pm.port == int(port.group(1))))]
    return []


def problem_cabinets(layout: StageLayout, problems: Sequence[Problem]) -> dict[str, list[int]]:
    """Cabinet id -> indices into ``problems`` of the problems that concern it.

    A problem concerns the cabinets its message names; failing that, the cabinets placed by the
    pixel-map entry it points at, or the cabinets on the overloaded processor port it reports.
    Problems about other things (a canvas without a node, a missing OBJ file) concern none.
    """
    out: dict[str, list[int]] = {}
    for k, problem in enumerate(problems):
        for index in _cabinets_of_problem(layout, problem):
            out.setdefault(layout.cabinets.ids[index], []).append(k)
    return out
