"""StageDocument: the evented project the console edits (Qt-free; psygnal signals).

The document owns one Project, the folder its relative paths start from, the file it was loaded
from (None for an untitled project), the shared cabinet selection and the latest validation
problems. Views observe it and never keep domain state of their own; edits reach it only as
:class:`~vpstage.stage.change.Change` objects (through the UI's undo stack).

Every signal is emitted synchronously on the thread that called the method that caused it; the
console calls the document from the Qt GUI thread only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from psygnal import Signal

from vpstage.config import LineIndex, Problem, parse_yaml
from vpstage.stage.catalog import Catalog, load_catalog
from vpstage.stage.change import Change
from vpstage.stage.layout import StageLayout, build_layout
from vpstage.stage.model import Project
from vpstage.stage.problem_sites import problem_cabinets
from vpstage.stage.project_io import catalog_path, dump_project_yaml, load_project, locate, save_project
from vpstage.stage.rebase import rebase_paths
from vpstage.stage.validation import validate_layout

SelectMode = Literal["replace", "add", "toggle", "remove"]
UNSAVED = "unsaved project"
"""Where the problems of a document without a file are located (``unsaved project:12``)."""


@dataclass(frozen=True)
class SaveResult:
    path: Path
    rebased: Change | None
    """The relative-path rewrite applied because the file moved to another folder (else None)."""


class StageDocument:
    """An editable project with selection and live validation (see the module docstring)."""

    project_changed = Signal(object)
    """(change: Change | None): fields of the project were replaced; None after loading a project."""
    selection_changed = Signal(frozenset)
    """(ids: frozenset[str]): the selected cabinet ids, shared by every view."""
    validation_changed = Signal(list)
    """(problems: list[Problem]): the result of the latest :meth:`validate`."""
    file_changed = Signal(object)
    """(path: Path | None): the document's file after open, save or save-as."""

    def __init__(self, project: Project, base_dir: str | Path, path: str | Path | None = None,
                 index: LineIndex | None = None) -> None:
        self._project = project
        self._base_dir = Path(base_dir).resolve()
        self._path = Path(path) if path is not None else None
        self._index = index
        self._revision = 0
        self._indexed_revision = 0 if index is not None else -1
        self._layout: StageLayout | None = None
        self._catalog: tuple[Path, Catalog] | None = None
        self._selection: frozenset[str] = frozenset()
        self._problems: list[Problem] = []

    @classmethod
    def open(cls, path: str | Path, *, untitled: bool = False) -> StageDocument:
        """Load a project file. Structural problems raise ConfigError; semantic ones (overlaps,
        unknown references...) load fine and show up in :meth:`validate`. ``untitled`` keeps the
        file as a template only: saving then needs a new path (rehearsal mode's demo stage)."""
        doc = load_project(path)
        base = doc.path.parent
        document = cls(doc.project, base, None if untitled else doc.path, doc.index)
        document.catalog  # noqa: B018  (a broken catalog fails here, at open, not in a view)
        return document

    # ------------------------------------------------------------------ state

    @property
    def project(self) -> Project:
        return self._project

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def display_name(self) -> str:
        """What problem locations call the document: its file name, or 'unsaved project'."""
        return self._path.name if self._path is not None else UNSAVED

    @property
    def revision(self) -> int:
        """Incremented by every applied change."""
        return self._revision

    @property
    def catalog(self) -> Catalog:
        """The project's panel catalog (reloaded when the project names another file)."""
        where = catalog_path(self._project, self._base_dir)
        if self._catalog is None or self._catalog[0] != where:
            self._catalog = (where, load_catalog(where))
        return self._catalog[1]

    @property
    def layout(self) -> StageLayout:
        """The project resolved into cabinets and pixel map (rebuilt after each change)."""
        if self._layout is None:
            self._layout = build_layout(self._project, self.catalog, self._base_dir)
        return self._layout

    @property
    def problems(self) -> list[Problem]:
        return list(self._problems)

    # ------------------------------------------------------------------ editing

    def apply(self, change: Change) -> None:
        """Apply ``change`` (or a change's inverse, to undo it) and emit ``project_changed``.

        The selection follows renamed sections and drops cabinets that no longer exist before
        ``project_changed`` fires (so observers never see a stale id); ``selection_changed``
        follows when it changed.
        """
        change.apply(self._project)
        self._revision += 1
        self._layout = None
        renamed = frozenset(change.renamed_id(i) for i in self._selection)
        alive = renamed & set(self.layout.id_to_index)
        moved = alive != self._selection
        self._selection = alive
        self.project_changed.emit(change)
        if moved:
            self.selection_changed.emit(alive)

    # ------------------------------------------------------------------ selection

    @property
    def selection(self) -> frozenset[str]:
        return self._selection

    def select(self, ids: Iterable[str], mode: SelectMode = "replace") -> None:
        """Change the shared selection; unknown ids are ignored. Emits only on a real change."""
        known = set(self.layout.id_to_index)
        given = {i for i in ids if i in known}
        if mode == "replace":
            new = frozenset(given)
        elif mode == "add":
            new = self._selection | given
        elif mode == "remove":
            new = self._selection - given
        else:
            new = self._selection ^ given
        if new != self._selection:
            self._selection = frozenset(new)
            self.selection_changed.emit(self._selection)

    def section_cabinets(self, names: Iterable[str]) -> list[str]:
        """Ids of every cabinet of the named sections."""
        wanted = {i for i, s in enumerate(self._project.sections) if s.name in set(names)}
        cab = self.layout.cabinets
        return [cid for cid, s in zip(cab.ids, cab.section, strict=True) if s in wanted]

    def selected_sections(self) -> list[str]:
        """Names of the sections that hold at least one selected cabinet, in project order."""
        cab, layout = self.layout.cabinets, self.layout
        indices = {cab.section[layout.id_to_index[i]] for i in self._selection}
        return [s.name for i, s in enumerate(self._project.sections) if i in indices]

    # ------------------------------------------------------------------ validation

    def validate(self) -> list[Problem]:
        """Run every validation rule, locate problems on lines, emit ``validation_changed``.

        Lines refer to the file on disk while the document is unmodified since loading or saving,
        and otherwise to the canonical text that saving would write. Problems of the project
        itself are located in :attr:`display_name` (``stage.yaml:12``), never in a placeholder;
        problems of other files (a mesh OBJ) keep their own file.
        """
        problems = validate_layout(self.layout)
        if problems:
            index = self._line_index()
            problems = [self._named(p, index.file) for p in locate(problems, index)]
        self._problems = problems
        self.validation_changed.emit(list(problems))
        return list(problems)

    def _line_index(self) -> LineIndex:
        if self._index is None or self._indexed_revision != self._revision:
            _data, self._index = parse_yaml(dump_project_yaml(self._project), self.display_name)
            self._indexed_revision = self._revision
        return self._index

    def _named(self, problem: Problem, project_file: str | None) -> Problem:
        """``problem`` located in the project's display name when it is about the project file."""
        if problem.file is not None and problem.file != project_file:
            return problem  # another file's problem (an OBJ mesh): its own name
        where = self.display_name
        if self._path is None and self._indexed_revision == 0 and project_file:
            where = Path(project_file).name  # an untouched template: lines of the file it came from
        return dataclasses.replace(problem, file=where)

    def problem_cabinets(self) -> dict[str, list[int]]:
        """Cabinet id -> indices into :attr:`problems` of the problems that concern it."""
        return problem_cabinets(self.layout, self._problems)

    # ------------------------------------------------------------------ files

    def save(self, path: str | Path | None = None) -> SaveResult:
        """Validate and write atomically (previous file kept as ``.bak``).

        Saving into another folder rewrites relative paths (catalog, OBJ files, scene assets) so
        they still name the same files. Raises ConfigError, writing nothing and changing nothing,
        when the project has errors; ValueError when an untitled document is saved without a path.
        """
        if path is None and self._path is None:
            raise ValueError("this project has no file yet: save it under a new name")
        target = Path(path) if path is not None else self._path
        assert target is not None
        new_base = target.parent.resolve()
        rebase = rebase_paths(self._project, self._base_dir, new_base)
        candidate = self._project.model_copy(deep=True)
        if rebase is not None:
            rebase.apply(candidate)
        save_project(candidate, target, base_dir=new_base)
        if rebase is not None:
            self._base_dir = new_base
            self.apply(rebase)
        self._base_dir, self._path = new_base, target
        _data, self._index = parse_yaml(dump_project_yaml(self._project), str(target))
        self._indexed_revision = self._revision
        self.file_changed.emit(target)
        return SaveResult(target, rebase)

