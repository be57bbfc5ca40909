"""Rewrite a project's relative file paths when it is saved into another folder."""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import Any

from vpstage.stage.change import Change, replace_fields
from vpstage.stage.model import MeshSection, Project


def _rebased(relative: str, old_dir: Path, new_dir: Path) -> str:
    if PurePath(relative).is_absolute() or relative.startswith("procedural:"):
        return relative
    target = (old_dir / relative).resolve()
    return Path(os.path.relpath(target, new_dir.resolve())).as_posix()


def rebase_paths(project: Project, old_dir: Path, new_dir: Path) -> Change | None:
    """A Change making ``catalog``, mesh ``file`` and scene ``path`` point at the same files from
    ``new_dir``; None when nothing needs to change (no relative paths, or the same folder)."""
    if old_dir.resolve() == new_dir.resolve():
        return None
    candidates: dict[str, Any] = {}
    if project.catalog:
        candidates["catalog"] = _rebased(project.catalog, old_dir, new_dir)
    candidates["sections"] = [s.model_copy(update={"file": _rebased(s.file, old_dir, new_dir)})
                              if isinstance(s, MeshSection) else s for s in project.sections]
    candidates["scene"] = [a.model_copy(update={"path": _rebased(a.path, old_dir, new_dir)}) for a in project.scene]
    changed = {k: v for k, v in candidates.items() if getattr(project, k) != v}
    if not changed:
        return None
    return replace_fields(project, f"rewrite file paths relative to {new_dir}", **changed)
