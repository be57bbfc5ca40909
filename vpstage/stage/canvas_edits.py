"""Canvas and processor edits: add, remove, resize, rename, re-route; what auto-layout needs.

Like the section and pixel-map edits, every function is pure: it reads the Project (and, where
the cabinets matter, its resolved StageLayout) and returns a :class:`Change`. Renames carry every
reference along (pixel-map entries and Videohub routes name canvases; canvases name processors).
Removing a canvas that still carries cabinets is refused unless ``unmap`` is given: its entries
then go with it, in the same Change (one undo step), and the cabinets wait in the unmapped tray.

:func:`layout_advice` answers the question auto-layout leaves open when it refuses ("the
cabinets do not fit the canvases"): how many more canvases like the last one would make them fit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ValidationError

from vpstage.stage.change import Change, EditError, replace_fields
from vpstage.stage.edits import unique_name
from vpstage.stage.layout import StageLayout
from vpstage.stage.mapping import LayoutError, auto_layout
from vpstage.stage.model import Canvas, MapEntry, Processor, Project, Videohub

DEFAULT_CANVAS_SIZE = (1920, 1080)
DEFAULT_PROCESSOR = {"model": "LED processor", "ports": 8, "port_capacity_px": 525000}
ADVICE_TRIES = 8
"""layout_advice() tries this many canvas counts, from the smallest the pixel area allows."""


# ----------------------------------------------------------------------------- lookups


def canvas_index(project: Project, name: str) -> int:
    for i, canvas in enumerate(project.canvases):
        if canvas.name == name:
            return i
    raise EditError(f"there is no canvas named {name!r}")


def processor_index(project: Project, name: str) -> int:
    for i, processor in enumerate(project.processors):
        if processor.name == name:
            return i
    raise EditError(f"there is no processor named {name!r}")


def cabinets_on_canvas(layout: StageLayout, name: str) -> list[str]:
    """Ids of the cabinets the pixel map places on canvas ``name`` (empty for an unknown name)."""
    names = [c.name for c in layout.project.canvases]
    if name not in names:
        return []
    return [layout.cabinets.ids[int(i)] for i in layout.cabinets_on_canvas(names.index(name))]


def free_processor_input(project: Project, skip: int = 0) -> tuple[str, int] | None:
    """The first processor input no canvas feeds (after skipping ``skip`` free ones), or None."""
    used = {(c.processor, c.input) for c in project.canvases if c.processor is not None}
    for processor in project.processors:
        for k in range(processor.inputs):
            if (processor.name, k) not in used:
                if skip == 0:
                    return processor.name, k
                skip -= 1
    return None


def _quietest_node(project: Project, extra: Mapping[str, int] | None = None) -> str:
    """The render node (not a spare) that feeds the fewest canvases; ``node1`` when there is none."""
    working = [n.name for n in project.nodes if not n.spare] or [n.name for n in project.nodes]
    if not working:
        return "node1"
    load = {name: sum(1 for c in project.canvases if c.node == name) + (extra or {}).get(name, 0)
            for name in working}
    return min(working, key=lambda name: (load[name], working.index(name)))


def _validated(model: type[BaseModel], data: Mapping[str, Any], what: str) -> Any:
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or what
        raise EditError(f"{what}: {where}: {first['msg']}") from exc


# ----------------------------------------------------------------------------- canvases


def new_canvas(project: Project, like: str | None = None) -> Canvas:
    """A fresh canvas, not yet part of ``project``: the size and transport of canvas ``like`` (default:
    the last canvas; 1920x1080 NDI when there is none), on the render node that feeds the fewest
    canvases, into the first processor input no canvas uses (no processor when all are taken)."""
    model = project.canvases[canvas_index(project, like)] if like else (
        project.canvases[-1] if project.canvases else None)
    width, height = (model.width, model.height) if model else DEFAULT_CANVAS_SIZE
    route = free_processor_input(project)
    return Canvas(name=unique_name("canvas", [c.name for c in project.canvases]), width=width, height=height,
                  node=_quietest_node(project), transport=model.transport if model else "ndi",
                  processor=route[0] if route else None, input=route[1] if route else 0)


def add_canvas(project: Project, canvas: Canvas) -> Change:
    if any(c.name == canvas.name for c in project.canvases):
        raise EditError(f"a canvas named {canvas.name!r} already exists")
    return replace_fields(project, f"add canvas {canvas.name}", canvases=[*project.canvases, canvas])


def _routes_without(videohub: Videohub | None, canvas: str) -> Videohub | None:
    if videohub is None:
        return None
    return videohub.model_copy(update={"routes": [r for r in videohub.routes if r.canvas != canvas]})


def remove_canvas(project: Project, layout: StageLayout, name: str, *, unmap: bool = False) -> Change:
    """Delete a canvas (and the Videohub routes naming it). A canvas that still carries cabinets is
    refused unless ``unmap``: its pixel-map entries then go too, and its cabinets become unmapped."""
    canvas_index(project, name)
    carried = cabinets_on_canvas(layout, name)
    if carried and not unmap:
        raise EditError(f"canvas {name} carries {len(carried)} cabinet(s): unmap them to remove it")
    fields: dict[str, Any] = {"canvases": [c for c in project.canvases if c.name != name],
                              "pixel_map": [e for e in project.pixel_map if e.canvas != name]}
    if project.videohub is not None:
        fields["videohub"] = _routes_without(project.videohub, name)
    what = f"remove canvas {name}" + (f" (unmap {len(carried)} cabinets)" if carried else "")
    return replace_fields(project, what, frozenset(carried), **fields)


def _renamed_canvas_refs(project: Project, old: str, new: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"pixel_map": [e.model_copy(update={"canvas": new}) if e.canvas == old else e
                                            for e in project.pixel_map]}
    if project.videohub is not None:
        routes = [r.model_copy(update={"canvas": new}) if r.canvas == old else r for r in project.videohub.routes]
        fields["videohub"] = project.videohub.model_copy(update={"routes": routes})
    return fields


def update_canvas(project: Project, name: str, changes: Mapping[str, Any]) -> Change:
    """Set canvas fields (``{"width": 3840}``, ``{"node": "node2"}``, ``{"processor": None}``...).

    A rename carries the pixel map and the Videohub routes along. Resizing keeps every rectangle
    where it is: cabinets left outside a smaller canvas show up in the validation (auto-layout
    repacks them).
    """
    index = canvas_index(project, name)
    data = project.canvases[index].model_dump()
    data.update(changes)
    if data.get("processor") == "":
        data["processor"] = None
    updated: Canvas = _validated(Canvas, data, f"canvas {name}")
    fields: dict[str, Any] = {}
    if updated.name != name:
        if any(c.name == updated.name for c in project.canvases):
            raise EditError(f"a canvas named {updated.name!r} already exists")
        fields.update(_renamed_canvas_refs(project, name, updated.name))
    canvases = list(project.canvases)
    canvases[index] = updated
    keys = ", ".join(sorted(changes))
    return replace_fields(project, f"set {keys} of canvas {name}", canvases=canvases, **fields)


# ----------------------------------------------------------------------------- processors


def new_processor(project: Project, like: str | None = None) -> Processor:
    """A fresh processor: a copy of processor ``like`` (default: the last one) under a new name,
    or a generic 8-port processor when the project has none."""
    model = project.processors[processor_index(project, like)] if like else (
        project.processors[-1] if project.processors else None)
    name = unique_name("processor", [p.name for p in project.processors])
    if model is None:
        return Processor(name=name, **DEFAULT_PROCESSOR)
    return model.model_copy(update={"name": name})


def add_processor(project: Project, processor: Processor) -> Change:
    if any(p.name == processor.name for p in project.processors):
        raise EditError(f"a processor named {processor.name!r} already exists")
    return replace_fields(project, f"add processor {processor.name}", processors=[*project.processors, processor])


def remove_processor(project: Project, name: str) -> Change:
    """Delete a processor. The canvases it was fed by feed none afterwards, and their pixel-map
    entries lose their data ports (a canvas without a processor has none)."""
    processor_index(project, name)
    fed = {c.name for c in project.canvases if c.processor == name}
    canvases = [c.model_copy(update={"processor": None, "input": 0}) if c.name in fed else c
                for c in project.canvases]
    pixel_map = [e.model_copy(update={"port": None}) if e.canvas in fed else e for e in project.pixel_map]
    return replace_fields(project, f"remove processor {name}", processors=[p for p in project.processors
                                                                            if p.name != name],
                          canvases=canvases, pixel_map=pixel_map)


def update_processor(project: Project, name: str, changes: Mapping[str, Any]) -> Change:
    """Set processor fields (``{"ports": 4}``, ``{"name": "left"}``...); a rename carries the
    canvases that feed it along."""
    index = processor_index(project, name)
    data = project.processors[index].model_dump()
    data.update(changes)
    updated: Processor = _validated(Processor, data, f"processor {name}")
    processors = list(project.processors)
    processors[index] = updated
    fields: dict[str, Any] = {"processors": processors}
    if updated.name != name:
        if any(p.name == updated.name for p in project.processors):
            raise EditError(f"a processor named {updated.name!r} already exists")
        fields["canvases"] = [c.model_copy(update={"processor": updated.name}) if c.processor == name else c
                              for c in project.canvases]
    keys = ", ".join(sorted(changes))
    return replace_fields(project, f"set {keys} of processor {name}", **fields)


# ----------------------------------------------------------------------------- auto-layout advice


@dataclass(frozen=True)
class LayoutAdvice:
    """What auto-layout needs to place every cabinet of a layout."""

    fits: bool
    """Auto-layout succeeds on the canvases the project has."""
    canvases_needed: int
    """Extra canvases (like :attr:`like`) that make it succeed; 0 when it fits or adding canvases
    does not help (:attr:`reason` then says what stops it)."""
    like: tuple[int, int]
    """Width and height of the canvases to add."""
    reason: str
    """Auto-layout's own refusal ('' when it fits)."""

    def describe(self) -> str:
        """The advice in an operator's words."""
        if self.fits:
            return "auto-layout places every cabinet on the canvases the project has"
        if self.canvases_needed:
            w, h = self.like
            return (f"the cabinets need {self.canvases_needed} more canvas"
                    f"{'es' if self.canvases_needed > 1 else ''} of {w}×{h}")
        return self.reason


def extra_canvases(project: Project, count: int) -> list[Canvas]:
    """``count`` new canvases as :func:`new_canvas` makes them one after the other."""
    grown = project
    added: list[Canvas] = []
    for _ in range(count):
        canvas = new_canvas(grown)
        added.append(canvas)
        grown = grown.model_copy(update={"canvases": [*grown.canvases, canvas]})
    return added


def _packs(layout: StageLayout, canvases: list[Canvas]) -> list[MapEntry] | None:
    trial = replace(layout, project=layout.project.model_copy(update={"canvases": canvases}))
    try:
        return auto_layout(trial)
    except LayoutError:
        return None


def _area_lower_bound(layout: StageLayout, size: tuple[int, int]) -> int:
    cab, project = layout.cabinets, layout.project
    need = sum(cab.pixel_count(i) for i in range(len(cab)))
    have = sum(c.width * c.height for c in project.canvases)
    return max(1, math.ceil((need - have) / (size[0] * size[1])))


def layout_advice(layout: StageLayout) -> LayoutAdvice:
    """Whether auto-layout fits, and if not how many more canvases (like the last one) would."""
    project = layout.project
    like = (project.canvases[-1].width, project.canvases[-1].height) if project.canvases else DEFAULT_CANVAS_SIZE
    try:
        auto_layout(layout)
        return LayoutAdvice(True, 0, like, "")
    except LayoutError as exc:
        reason = str(exc)
    first = _area_lower_bound(layout, like)
    candidates = extra_canvases(project, first + ADVICE_TRIES - 1)
    for count in range(first, len(candidates) + 1):
        if _packs(layout, [*project.canvases, *candidates[:count]]) is not None:
            return LayoutAdvice(False, count, like, reason)
    return LayoutAdvice(False, 0, like, reason)


def add_canvases_and_layout(project: Project, layout: StageLayout, count: int) -> Change:
    """``count`` new canvases and a fresh auto-layout over all canvases, as one Change.

    ``layout`` must be the resolved layout of ``project`` as it is now. Raises EditError when the
    cabinets still do not fit.
    """
    if count < 1:
        raise EditError("add at least one canvas")
    added = extra_canvases(project, count)
    canvases = [*project.canvases, *added]
    entries = _packs(layout, canvases)
    if entries is None:
        raise EditError(f"the cabinets do not fit even with {count} more canvas(es)")
    names = ", ".join(c.name for c in added)
    return replace_fields(project, f"add {names} and auto-layout", canvases=canvases, pixel_map=entries)
