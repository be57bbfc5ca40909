"""Validation of the ``colour`` section against its OCIO config and files, as located problems.

Paths are relative to the project document (``("colour", "canvases", NAME, "view")``); a malformed
calibration ``.cube`` is reported at its own file and line, as OBJ meshes are. Loaded configs and
parsed cube files are cached, so checking on every edit costs little.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from vpstage.colour.cube_file import CubeError, read_cube
from vpstage.colour.ocio_config import (
    ColourConfigError,
    OcioConfig,
    choices,
    colour_space_names,
    has_colour_space,
    load_config,
)
from vpstage.colour.outputs import OutputError
from vpstage.colour.plan import CanvasPlan, plan_canvas
from vpstage.colour.settings import ColourSettings
from vpstage.colour.transforms import canvas_processor
from vpstage.config import Problem

ROOT = ("colour",)


@functools.lru_cache(maxsize=64)
def _cube_error(path: str, _mtime_ns: int, _size: int) -> CubeError | None:
    try:
        read_cube(path)
    except CubeError as exc:
        return exc
    return None


def cube_error(path: Path) -> CubeError | None:
    """What is wrong with a calibration ``.cube`` (None: it reads), cached by the file's size and
    modification time (only the outcome is kept, not the table)."""
    try:
        stat = path.stat()
    except OSError:
        return CubeError(str(path), None, "calibration .cube file not found")
    return _cube_error(str(path), stat.st_mtime_ns, stat.st_size)


def _space_problem(config: OcioConfig, path: tuple[str | int, ...], name: str, what: str) -> list[Problem]:
    if has_colour_space(config, name):
        return []
    return [Problem(path=path, message=f"unknown colour space {name!r} for {what}; colour spaces: "
                                       f"{choices(name, colour_space_names(config))}")]


def _asset_problems(settings: ColourSettings, config: OcioConfig, assets: list[str]) -> list[Problem]:
    problems = _space_problem(config, ROOT + ("working_space",), settings.ocio[1], "the working space")
    for name, space in settings.assets.items():
        path = ROOT + ("assets", name)
        if name not in assets:
            problems.append(Problem(path=path,
                                    message=f"unknown scene asset {name!r}; scene assets: {choices(name, assets)}"))
        problems += _space_problem(config, path, space, f"asset {name!r}")
    return problems


def _cube_problems(plan: CanvasPlan, path: tuple[str | int, ...]) -> list[Problem]:
    if plan.cube_path is None:
        return []
    exc = cube_error(plan.cube_path)
    if exc is None:
        return []
    if exc.line is None:
        return [Problem(path=path, message=f"{exc.reason}: {exc.file}")]
    return [Problem(path=path, message=exc.reason, file=exc.file, line=exc.line)]


def _processor_problems(config: OcioConfig, plan: CanvasPlan, sources: Iterable[str],
                        path: tuple[str | int, ...]) -> list[Problem]:
    """Let OCIO build each chain: what it refuses (a config's missing LUT, a cube it cannot read)."""
    for source in sources:
        try:
            canvas_processor(config, plan.transform(source))
        except Exception as exc:  # OCIO raises its own Exception type for every refusal
            return [Problem(path=path,
                            message=f"OpenColorIO cannot build {source!r} -> {plan.target.describe()}: {exc}")]
    return []


def _canvas_problems(settings: ColourSettings, config: OcioConfig, canvases: list[str], base_dir: Path,
                     sources: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    for name, canvas in settings.canvases.items():
        path = ROOT + ("canvases", name)
        if name not in canvases:
            problems.append(Problem(path=path, message=f"unknown canvas {name!r}; canvases: {choices(name, canvases)}"))
        try:
            plan = plan_canvas(config, name, canvas, base_dir)
        except OutputError as exc:
            problems.append(Problem(path=path + (exc.field,), message=str(exc)))
            continue
        cube = _cube_problems(plan, path + ("calibration", "cube"))
        problems += cube or _processor_problems(config, plan, sources, path)
    return problems


def colour_problems(settings: ColourSettings | None, canvases: list[str], assets: list[str],
                    base_dir: Path) -> list[Problem]:
    """Every OCIO problem of a project's colour section (none when it has none, or holds regions
    only; ``vpstage.colour.region_checks`` checks the regions)."""
    if settings is None or settings.config is None:
        return []
    try:
        config = load_config(settings.config, base_dir)
    except ColourConfigError as exc:
        return [Problem(path=ROOT + ("config",), message=str(exc))]
    problems = _asset_problems(settings, config, assets)
    sources = [s for s in settings.source_spaces(assets) if has_colour_space(config, s)]
    return problems + _canvas_problems(settings, config, canvases, base_dir, sources)
