"""Change: one undoable edit of a Project, recorded as the top-level fields it replaces.

Edit operations (``vpstage.stage.edits``, ``vpstage.stage.map_edits``) are pure: they read a
Project and return a Change without touching it. Applying the Change replaces whole top-level
fields (``sections``, ``pixel_map``, ...); applying its inverse puts the old values back. Values
are deep-copied in and out, so a Change never aliases a live Project.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vpstage.stage.model import Project


class EditError(ValueError):
    """An edit that cannot be made; the message says why in the operator's terms."""


@dataclass(frozen=True, kw_only=True)
class Change:
    """Replacement of some top-level Project fields: ``before`` -> ``after`` (same keys)."""

    description: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    cabinets: frozenset[str] = field(default_factory=frozenset)
    """Cabinet ids the edit is about; may be empty."""
    renamed_sections: tuple[tuple[str, str], ...] = ()
    """(old, new) section names: cabinet ids ``old/...`` become ``new/...`` (selections follow)."""

    def apply(self, project: Project) -> None:
        """Set every field of ``after`` on ``project`` (validated by pydantic on assignment)."""
        for name, value in self.after.items():
            setattr(project, name, copy.deepcopy(value))

    def inverse(self) -> Change:
        renamed = tuple((new, old) for old, new in self.renamed_sections)
        return Change(description=f"undo {self.description}", before=self.after, after=self.before,
                      cabinets=self.cabinets, renamed_sections=renamed)

    def renamed_id(self, cabinet_id: str) -> str:
        """``cabinet_id`` after this change's section renames."""
        for old, new in self.renamed_sections:
            if cabinet_id.startswith(f"{old}/"):
                return new + cabinet_id[len(old):]
        return cabinet_id

    def is_empty(self) -> bool:
        return all(self.before[k] == self.after[k] for k in self.after)


def replace_fields(project: Project, description: str, cabinets: frozenset[str] = frozenset(),
                   **new_values: Any) -> Change:
    """A Change that sets ``new_values`` (field name -> value), remembering the current values."""
    for name in new_values:
        if name not in Project.model_fields:
            raise KeyError(f"Project has no field {name!r}")
    before = {name: copy.deepcopy(getattr(project, name)) for name in new_values}
    after = {name: copy.deepcopy(value) for name, value in new_values.items()}
    return Change(description=description, before=before, after=after, cabinets=cabinets)
