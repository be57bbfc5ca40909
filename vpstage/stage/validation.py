"""Semantic validation of a resolved stage: names, references, the pixel map and port loads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from vpstage.colour.checks import colour_problems
from vpstage.colour.region_checks import region_problems
from vpstage.config import Problem
from vpstage.stage.layout import StageLayout
from vpstage.stage.model import Project


def _duplicates(kind: str, field: str, names: Iterable[str]) -> list[Problem]:
    problems, seen = [], set()
    for i, name in enumerate(names):
        if name in seen:
            problems.append(Problem(path=(field, i, "name"), message=f"duplicate {kind} name {name!r}"))
        seen.add(name)
    return problems


def check_names(project: Project) -> list[Problem]:
    problems = []
    for kind, field in [("section", "sections"), ("processor", "processors"), ("canvas", "canvases"),
                        ("node", "nodes"), ("tracking source", "tracking"), ("camera", "cameras"),
                        ("scene asset", "scene")]:
        problems += _duplicates(kind, field, (item.name for item in getattr(project, field)))
    return problems


def check_references(project: Project) -> list[Problem]:
    problems = []
    nodes = {n.name for n in project.nodes}
    processors = {p.name: p for p in project.processors}
    for i, canvas in enumerate(project.canvases):
        if canvas.node not in nodes:
            problems.append(Problem(path=("canvases", i, "node"), message=f"canvas {canvas.name!r} has no node: "
                                                 f"{canvas.node!r} is not a render node"))
        if canvas.processor is not None:
            proc = processors.get(canvas.processor)
            if proc is None:
                problems.append(Problem(path=("canvases", i, "processor"),
                                        message=f"unknown processor {canvas.processor!r}"))
            elif canvas.input >= proc.inputs:
                problems.append(Problem(path=("canvases", i, "input"),
                                        message=f"processor {proc.name} has {proc.inputs} input(s); "
                                                f"input {canvas.input} does not exist"))
    used = Counter(c.node for c in project.canvases)
    for i, node in enumerate(project.nodes):
        if not used[node.name] and not node.spare:
            problems.append(Problem(path=("nodes", i),
                                    message=f"node {node.name!r} has no canvases (mark it 'spare: true' "
                              "if it stands by for failover)"))
    sources = {t.name for t in project.tracking}
    for i, cam in enumerate(project.cameras):
        if cam.tracker not in sources:
            problems.append(Problem(path=("cameras", i, "tracker"), message=f"unknown tracking source {cam.tracker!r}"))
    return problems


def check_timecode(project: Project) -> list[Problem]:
    """The timecode master can be followed: its camera exists and is tracked over OpenTrackIO
    (FreeD and OSC carry no timecode), and LTC is not asked for at 120 fps (no LTC runs that fast)."""
    settings = project.timecode
    problems = []
    if settings.master == "ltc" and project.frame_rate > 60:
        problems.append(Problem(path=("timecode", "master"),
                                message=f"LTC does not run at {float(project.frame_rate):g} fps; "
                "use the internal or tracker master"))
    if settings.master != "tracker" and settings.tracker_camera is None:
        return problems
    cameras = {c.name: c for c in project.cameras}
    name = settings.tracker_camera or (project.cameras[0].name if project.cameras else None)
    where = ("timecode", "tracker_camera") if settings.tracker_camera is not None else ("timecode", "master")
    camera = cameras.get(name) if name is not None else None
    if camera is None:
        problems.append(Problem(path=where, message=f"no camera {name!r} to take timecode from" if name else
                                             "the tracker master needs a camera, and the project has none"))
        return problems
    source = next((t for t in project.tracking if t.name == camera.tracker), None)
    if settings.master == "tracker" and source is not None and source.protocol != "opentrackio":
        problems.append(Problem(path=where,
                                message=f"camera {name!r} is tracked over {source.protocol}, which carries no "
                                 "timecode; the tracker master needs OpenTrackIO"))
    return problems


def check_videohub(project: Project) -> list[Problem]:
    """Routes name existing canvases and use each router output once."""
    if project.videohub is None:
        return []
    problems: list[Problem] = []
    outputs: dict[int, int] = {}
    canvases = {c.name for c in project.canvases}
    for i, route in enumerate(project.videohub.routes):
        path = ("videohub", "routes", i)
        if route.canvas not in canvases:
            problems.append(Problem(path=path + ("canvas",), message=f"unknown canvas {route.canvas!r}"))
        if route.output in outputs:
            problems.append(Problem(path=path + ("output",), message=f"router output {route.output} is already used by "
                                                 f"videohub.routes[{outputs[route.output]}]"))
        outputs.setdefault(route.output, i)
    return problems


def check_colour(project: Project, base_dir: Path) -> list[Problem]:
    """The colour section's config, names, canvases, assets and calibration files (OCIO), and its
    regions (canvases and rectangles)."""
    problems = colour_problems(project.colour, [c.name for c in project.canvases],
                               [a.name for a in project.scene], base_dir)
    return problems + region_problems(project.colour, {c.name: (c.width, c.height) for c in project.canvases})


def check_map_bounds(layout: StageLayout) -> list[Problem]:
    problems = []
    pm, project = layout.pixel_map, layout.project
    for idx in (int(i) for i in np.flatnonzero(pm.canvas >= 0)):
        canvas = project.canvases[pm.canvas[idx]]
        w, h = layout.footprint(idx)
        if pm.x[idx] + w > canvas.width or pm.y[idx] + h > canvas.height:
            problems.append(Problem(
                path=("pixel_map", int(pm.entry[idx])),
                message=f"cabinet {layout.cabinets.ids[idx]} at ({pm.x[idx]}, {pm.y[idx]}) size {w}x{h} "
                        f"lies outside canvas {canvas.name} ({canvas.width}x{canvas.height})"))
    return problems


MAX_OVERLAPS_REPORTED = 1000
"""Overlaps listed per canvas; a map with more says how many it stopped at."""


def _canvas_overlaps(layout: StageLayout, members: np.ndarray) -> list[Problem]:
    pm = layout.pixel_map
    name = layout.project.canvases[pm.canvas[members[0]]].name
    sizes = np.array([layout.footprint(i) for i in members], dtype=np.int64).reshape(-1, 2)
    x0, y0 = pm.x[members].astype(np.int64), pm.y[members].astype(np.int64)
    x1, y1 = x0 + sizes[:, 0], y0 + sizes[:, 1]
    order = np.argsort(x0, kind="stable")
    starts = x0[order]
    problems: list[Problem] = []
    for a_pos, a in enumerate(order):
        # candidates start (in x order) before a ends: a sorted range, so this stays near-linear
        end = a_pos + 1 + int(np.searchsorted(starts[a_pos + 1:], x1[a], side="left"))
        rest = order[a_pos + 1:end]
        hits = rest[(y0[rest] < y1[a]) & (y0[a] < y1[rest])]
        for b in hits:
            if len(problems) == MAX_OVERLAPS_REPORTED:
                return problems + [Problem(path=("pixel_map",),
                                           message=f"more than {MAX_OVERLAPS_REPORTED} overlaps on canvas "
                                   f"{name}; the rest are not listed")]
            ia, ib = members[a], members[b]
            first, second = sorted((ia, ib), key=lambda i: (pm.entry[i], i))
            problems.append(Problem(path=("pixel_map", int(pm.entry[second])),
                                    message=f"cabinet {layout.cabinets.ids[second]} overlaps cabinet "
                                            f"{layout.cabinets.ids[first]} on canvas {name}"))
    return problems


def check_overlaps(layout: StageLayout) -> list[Problem]:
    problems = []
    for members in cabinets_by_canvas(layout).values():
        if len(members) > 1:
            problems += _canvas_overlaps(layout, members)
    return problems


def cabinets_by_canvas(layout: StageLayout) -> dict[int, np.ndarray]:
    """Mapped cabinet indices per canvas index (one pass, whatever the number of canvases)."""
    canvas = layout.pixel_map.canvas
    mapped = np.flatnonzero(canvas >= 0)
    order = mapped[np.argsort(canvas[mapped], kind="stable")]
    if not len(order):
        return {}
    keys, starts = np.unique(canvas[order], return_index=True)
    return {int(k): part for k, part in zip(keys, np.split(order, starts[1:]), strict=True)}


def check_unmapped(layout: StageLayout) -> list[Problem]:
    if not layout.project.canvases:
        return []
    problems = []
    for idx in np.flatnonzero(layout.pixel_map.canvas < 0):
        section = layout.cabinets.section[idx]
        problems.append(Problem(path=("sections", section),
                                message=f"cabinet {layout.cabinets.ids[idx]} has no pixel-map entry"))
    return problems


def port_loads(layout: StageLayout) -> dict[tuple[str, int], int]:
    """Pixels carried per (processor, port)."""
    loads: dict[tuple[str, int], int] = {}
    pm, project = layout.pixel_map, layout.project
    for idx in (int(i) for i in np.flatnonzero((pm.canvas >= 0) & (pm.port >= 0))):
        proc = project.canvases[pm.canvas[idx]].processor
        if proc is not None:
            key = (proc, int(pm.port[idx]))
            loads[key] = loads.get(key, 0) + layout.cabinets.pixel_count(idx)
    return loads


def check_ports(layout: StageLayout) -> list[Problem]:
    problems = []
    project, pm = layout.project, layout.pixel_map
    processors = {p.name: (i, p) for i, p in enumerate(project.processors)}
    for idx in np.flatnonzero((pm.canvas >= 0) & (pm.port >= 0)):
        canvas = project.canvases[pm.canvas[idx]]
        where = ("pixel_map", int(pm.entry[idx]), "port")
        if canvas.processor is None:
            problems.append(Problem(path=where, message=f"canvas {canvas.name} feeds no processor, so it has no ports"))
        elif canvas.processor in processors and pm.port[idx] >= processors[canvas.processor][1].ports:
            proc = processors[canvas.processor][1]
            problems.append(Problem(path=where, message=f"processor {proc.name} has {proc.ports} ports; "
                                                 f"port {pm.port[idx]} does not exist"))
    for (name, port), load in sorted(port_loads(layout).items()):
        if name not in processors:
            continue
        i, proc = processors[name]
        capacity = proc.port_capacity_at(project.frame_rate)
        if port < proc.ports and load > capacity:
            problems.append(Problem(path=("processors", i),
                                    message=f"port {port} of {name} carries {load} px, over its capacity "
                         f"of {capacity} px at {project.frame_rate} Hz, {proc.bit_depth}-bit"))
    return problems


def deduplicate(problems: Iterable[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        key = (p.path, p.message, p.file, p.line)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def validate_layout(layout: StageLayout) -> list[Problem]:
    """Every rule; the layout's own build problems come first. A layout that stopped at a stage
    limit gets only the rules that do not need the whole stage (names, references)."""
    project = layout.project
    problems = list(layout.problems) + check_names(project) + check_references(project)
    problems += check_videohub(project) + check_timecode(project) + check_colour(project, layout.base_dir)
    if layout.complete:
        problems += check_map_bounds(layout) + check_overlaps(layout) + check_unmapped(layout)
        problems += check_ports(layout)
    return deduplicate(problems)
