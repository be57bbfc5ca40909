"""Project files: load with located problems, canonical YAML dump, validated atomic save."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vpstage.config import ConfigError, LineIndex, Problem, atomic_write_text, load_yaml, validate_model
from vpstage.stage.catalog import DEFAULT_CATALOG, Catalog, load_catalog
from vpstage.stage.layout import StageLayout, build_layout
from vpstage.stage.limits import DEFAULT_STAGE_LIMITS, StageLimits
from vpstage.stage.model import Project
from vpstage.stage.validation import validate_layout


@dataclass
class ProjectDocument:
    project: Project
    index: LineIndex
    path: Path


def load_project(path: str | Path, limits: StageLimits = DEFAULT_STAGE_LIMITS) -> ProjectDocument:
    """Parse (within ``limits.yaml``) and type-check a project file (no cross-reference checks yet)."""
    p = Path(path)
    data, index = load_yaml(p, limits.yaml)
    if not isinstance(data, dict):
        raise ConfigError([index.problem((), "a project file is a YAML mapping (name:, sections:, ...)")])
    return ProjectDocument(validate_model(Project, data, index), index, p)


def catalog_path(project: Project, base_dir: Path) -> Path:
    return (base_dir / project.catalog).resolve() if project.catalog else DEFAULT_CATALOG


def locate(problems: list[Problem], index: LineIndex | None) -> list[Problem]:
    """Give document-relative problems their file and line (OBJ problems keep their own)."""
    if index is None:
        return problems
    out = []
    for p in problems:
        if p.file is None:
            p = index.problem(p.path, p.message, p.severity)
        out.append(p)
    return out


def resolve(project: Project, base_dir: Path, index: LineIndex | None = None,
            limits: StageLimits = DEFAULT_STAGE_LIMITS) -> tuple[StageLayout, list[Problem]]:
    """Build the layout and run every validation rule; problems carry lines when ``index`` is given."""
    try:
        catalog: Catalog = load_catalog(catalog_path(project, base_dir), limits.yaml)
    except ConfigError as exc:
        if index is not None and project.catalog:
            exc.problems.insert(0, index.problem(("catalog",), "the panel catalog has problems"))
        raise
    layout = build_layout(project, catalog, base_dir, limits)
    return layout, locate(validate_layout(layout), index)


# ----------------------------------------------------------------------------- dump / save


class _FlowMap(dict[str, Any]):
    pass


class _FlowList(list[Any]):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(), flow_style=True))
_Dumper.add_representer(_FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def _flowify(value: Any, key: str | None = None) -> Any:
    """Short scalar lists and pixel-map entries go on one line; everything else block style."""
    if isinstance(value, dict):
        inner = {k: _flowify(v, k) for k, v in value.items()}
        return inner
    if isinstance(value, list):
        if value and all(not isinstance(v, (dict, list)) for v in value):
            return _FlowList(value)
        items = [_flowify(v) for v in value]
        if key == "pixel_map":
            items = [_FlowMap(i) if isinstance(i, dict) else i for i in items]
        return items
    return value


def dump_project_yaml(project: Project) -> str:
    """Canonical YAML text of a project (defaults left out, fields in model order)."""
    data = project.model_dump(mode="json", exclude_defaults=True)
    data = {"schema_version": project.schema_version, **data}
    text = yaml.dump(_flowify(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    return f"# vpstage project (schema {project.schema_version})\n{text}"


def save_project(project: Project, path: str | Path, *, base_dir: str | Path | None = None) -> None:
    """Validate, then save atomically (the previous file is kept as ``.bak``).

    Raises ConfigError, writing nothing, when the project has errors.
    """
    target = Path(path)
    _layout, problems = resolve(project, Path(base_dir) if base_dir else target.parent.resolve())
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError([Problem(path=p.path, message=p.message, file=p.file or str(target), line=p.line,
                                   severity=p.severity) for p in errors])
    atomic_write_text(target, dump_project_yaml(project))
