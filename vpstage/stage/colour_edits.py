"""Edits of the colour section's regions, as undoable :class:`~vpstage.stage.change.Change` objects.

Pure functions of a Project (it is never touched): each returns a Change replacing the project's
``colour`` field, or raises :class:`~vpstage.stage.change.EditError` in the operator's terms (a
value out of range, a rectangle off its canvas or a feather wider than half of it). A
section that held nothing but regions goes away with its last region, so add-then-remove leaves
the file as it was.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from vpstage.colour.region_checks import region_problems
from vpstage.colour.settings import MAX_REGIONS, ColourRegion, ColourSettings
from vpstage.stage.change import Change, EditError, replace_fields
from vpstage.stage.model import Project

EDITABLE = frozenset({"name", "rect", "feather_px", "lift", "gamma", "gain", "saturation", "enabled"})
"""Fields ``update_region`` may change (``canvas`` is not one: add a region on the other canvas)."""


def _section(project: Project) -> ColourSettings:
    return project.colour.model_copy(deep=True) if project.colour is not None else ColourSettings()


def _find(section: ColourSettings, name: str) -> int:
    for i, region in enumerate(section.regions):
        if region.name == name:
            return i
    raise EditError(f"there is no colour region named {name!r}")


def _check_fits(project: Project, region: ColourRegion) -> None:
    """EditError unless ``region`` lies on its canvas with a feather that fits (what validation
    would report about it)."""
    sizes = {c.name: (c.width, c.height) for c in project.canvases}
    problems = region_problems(ColourSettings(regions=[region]), sizes)
    if problems:
        raise EditError(f"colour region {region.name!r}: {problems[0].message}")


def _with_regions(project: Project, section: ColourSettings, regions: list[ColourRegion],
                  description: str) -> Change:
    try:
        updated = ColourSettings.model_validate(section.model_dump() | {"regions": [r.model_dump() for r in regions]})
    except ValidationError as exc:
        raise EditError(f"{description}: {exc.errors()[0]['msg']}") from None
    empty = updated.config is None and not updated.regions
    return replace_fields(project, description, colour=None if empty else updated)


def _free_name(section: ColourSettings) -> str:
    taken = {r.name for r in section.regions}
    return next(f"region {n}" for n in range(1, MAX_REGIONS + 2) if f"region {n}" not in taken)


def default_rect(width: int, height: int) -> tuple[int, int, int, int]:
    """The middle half of a ``width`` x ``height`` canvas (a new region's rectangle)."""
    return width // 4, height // 4, max(width * 3 // 4, width // 4 + 1), max(height * 3 // 4, height // 4 + 1)


def add_region(project: Project, canvas: str, rect: tuple[int, int, int, int] | None = None,
               name: str | None = None) -> Change:
    """A neutral region on ``canvas`` (default: the middle half of it, named ``region N``)."""
    found = next((c for c in project.canvases if c.name == canvas), None)
    if found is None:
        raise EditError(f"there is no canvas named {canvas!r}")
    section = _section(project)
    if len(section.regions) >= MAX_REGIONS:
        raise EditError(f"a project holds at most {MAX_REGIONS} colour regions")
    name = name or _free_name(section)
    if any(r.name == name for r in section.regions):
        raise EditError(f"a colour region named {name!r} already exists")
    try:
        region = ColourRegion(name=name, canvas=canvas, rect=rect or default_rect(found.width, found.height))
    except ValidationError as exc:
        raise EditError(f"add colour region {name!r}: {exc.errors()[0]['msg']}") from None
    _check_fits(project, region)
    return _with_regions(project, section, [*section.regions, region], f"add colour region {name!r}")


def update_region(project: Project, name: str, **fields: Any) -> Change:
    """Change fields of region ``name`` (any of :data:`EDITABLE`)."""
    unknown = sorted(set(fields) - EDITABLE)
    if unknown:
        raise EditError(f"colour regions have no editable field {', '.join(unknown)}")
    section = _section(project)
    i = _find(section, name)
    regions = list(section.regions)
    try:
        regions[i] = ColourRegion.model_validate(regions[i].model_dump() | fields)
    except ValidationError as exc:
        raise EditError(f"colour region {name!r}: {exc.errors()[0]['msg']}") from None
    _check_fits(project, regions[i])
    what = ", ".join(sorted(fields))
    return _with_regions(project, section, regions, f"colour region {name!r}: {what}")


def set_region_enabled(project: Project, name: str, enabled: bool) -> Change:
    change = update_region(project, name, enabled=enabled)
    verb = "enable" if enabled else "disable"
    return Change(description=f"{verb} colour region {name!r}", before=change.before, after=change.after)


def remove_region(project: Project, name: str) -> Change:
    section = _section(project)
    i = _find(section, name)
    regions = [r for j, r in enumerate(section.regions) if j != i]
    return _with_regions(project, section, regions, f"remove colour region {name!r}")
