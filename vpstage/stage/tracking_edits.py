"""Tracking edits: add, replace and remove tracking sources; set a camera's fields.

Pure functions in the style of ``vpstage.stage.edits``: each reads the Project and returns a
:class:`~vpstage.stage.change.Change` of the ``tracking`` or ``cameras`` list; refused edits raise
:class:`EditError` with a reason an operator can act on. Values are validated by the models, so
a Change never carries a source or camera the project file could not hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from vpstage.stage.change import Change, EditError, replace_fields
from vpstage.stage.model import Camera, Project, TrackingSource


def _first_error(exc: ValidationError, what: str) -> EditError:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or what
    return EditError(f"{what}: {where}: {first['msg']}")


def build_source(data: Mapping[str, Any]) -> TrackingSource:
    """A TrackingSource from form values; EditError names the first bad field."""
    try:
        return TrackingSource.model_validate(dict(data))
    except ValidationError as exc:
        raise _first_error(exc, str(data.get("name") or "tracking source")) from exc


def _source_index(project: Project, name: str) -> int:
    for i, source in enumerate(project.tracking):
        if source.name == name:
            return i
    raise EditError(f"there is no tracking source named {name!r}")


def add_tracking_source(project: Project, source: TrackingSource) -> Change:
    if any(s.name == source.name for s in project.tracking):
        raise EditError(f"a tracking source named {source.name!r} already exists")
    return replace_fields(project, f"add tracking source {source.name}", tracking=[*project.tracking, source])


def replace_tracking_source(project: Project, name: str, source: TrackingSource) -> Change:
    """Put ``source`` in place of the source ``name``; a rename carries the cameras along."""
    index = _source_index(project, name)
    if source.name != name and any(s.name == source.name for s in project.tracking):
        raise EditError(f"a tracking source named {source.name!r} already exists")
    tracking = list(project.tracking)
    tracking[index] = source
    if source.name == name:
        return replace_fields(project, f"edit tracking source {name}", tracking=tracking)
    cameras = [c.model_copy(update={"tracker": source.name}) if c.tracker == name else c for c in project.cameras]
    return replace_fields(project, f"rename tracking source {name} to {source.name}", tracking=tracking,
                          cameras=cameras)


def remove_tracking_source(project: Project, name: str) -> Change:
    _source_index(project, name)
    users = [c.name for c in project.cameras if c.tracker == name]
    if users:
        raise EditError(f"camera {', '.join(users)} uses tracking source {name!r}; give it another source first")
    return replace_fields(project, f"remove tracking source {name}",
                          tracking=[s for s in project.tracking if s.name != name])


def update_camera(project: Project, name: str, changes: Mapping[str, Any]) -> Change:
    """Set camera fields (``{"delay_ms": 40.0}``, ``{"lens": "zcam-freed"}``, ``{"alignment": ...}``).
    Setting ``delay_ms`` clears ``delay_frames`` (one delay at a time) unless both are given."""
    index = next((i for i, c in enumerate(project.cameras) if c.name == name), None)
    if index is None:
        raise EditError(f"there is no camera named {name!r}")
    data = project.cameras[index].model_dump()
    data.update(changes)
    if "delay_ms" in changes and "delay_frames" not in changes:
        data["delay_frames"] = None
    try:
        camera = Camera.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, f"camera {name}") from exc
    cameras = list(project.cameras)
    cameras[index] = camera
    return replace_fields(project, f"set {', '.join(sorted(changes))} of camera {name}", cameras=cameras)
