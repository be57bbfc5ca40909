"""Rewrite a project's relative file paths when it is saved into another folder."""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import Any

from vpstage.colour.settings import ColourSettings, CubeCalibration
from vpstage.stage.change import Change, replace_fields
from vpstage.stage.model import MeshSection, Project


def _rebased(relative: str, old_dir: Path, new_dir: Path) -> str:
    if PurePath(relative).is_absolute() or relative.startswith(("procedural:", "ocio://")):
        return relative
    target = (old_dir / relative).resolve()
    return Path(os.path.relpath(target, new_dir.resolve())).as_posix()


def rebased_colour(colour: ColourSettings, old_dir: Path, new_dir: Path) -> ColourSettings:
    """The OCIO config file and calibration cubes seen from ``new_dir``."""
    canvases = {name: c.model_copy(update={"calibration": CubeCalibration(cube=_rebased(c.calibration.cube, old_dir,
                                                                                        new_dir))})
                if isinstance(c.calibration, CubeCalibration) else c for name, c in colour.canvases.items()}
    config = None if colour.config is None else _rebased(colour.config, old_dir, new_dir)
    return colour.model_copy(update={"config": config, "canvases": canvases})


def rebase_paths(project: Project, old_dir: Path, new_dir: Path) -> Change | None:
    """A Change making ``catalog``, mesh ``file``, scene ``path`` and the colour section's files
    point at the same files from ``new_dir``; None when nothing needs to change (no relative
    paths, or the same folder)."""
    if old_dir.resolve() == new_dir.resolve():
        return None
    candidates: dict[str, Any] = {}
    if project.catalog:
        candidates["catalog"] = _rebased(project.catalog, old_dir, new_dir)
    candidates["sections"] = [s.model_copy(update={"file": _rebased(s.file, old_dir, new_dir)})
                              if isinstance(s, MeshSection) else s for s in project.sections]
    candidates["scene"] = [a.model_copy(update={"path": _rebased(a.path, old_dir, new_dir)}) for a in project.scene]
    if project.colour is not None:
        candidates["colour"] = rebased_colour(project.colour, old_dir, new_dir)
    changed = {k: v for k, v in candidates.items() if getattr(project, k) != v}
    if not changed:
        return None
    return replace_fields(project, f"rewrite file paths relative to {new_dir}", **changed)
