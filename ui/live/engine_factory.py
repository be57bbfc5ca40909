"""The console's live engine: ``live.LiveEngine`` built for the project being shown.

Rehearsal (``python main.py``): simulated tracker on loopback, the demo scene, NDI senders on this
machine, takes in ``<config dir>/rehearsal/takes/takes.sqlite``. When every render node of the
stage renders on the CPU (a machine without a GPU), the rehearsal runs the stage scaled down
``CPU_REHEARSAL_SCALE`` times per cabinet side (same wall in metres, ``scale²`` fewer pixels) at
reduced inner and outer resolution, the recipe ``main.py run`` documents for CPU rehearsals: a
full-size CPU scene render takes tens of seconds. A project (``--project FILE``) runs as written,
with its takes in ``<project dir>/takes/takes.sqlite``.

The factory runs on the console's control thread: importing torch and loading the scene never
block the window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ui.live.controller import EngineFactory
from ui.live.node_rates import cpu_only
from ui.settings import config_dir
from vpstage.config import ConfigError
from vpstage.nodes import RenderQuality
from vpstage.stage import Stage
from vpstage.stage.model import Project
from vpstage.takes import default_db_path

CPU_REHEARSAL_SCALE = 8
CPU_REHEARSAL_QUALITY = RenderQuality(inner_scale=0.25, outer_scale=0.05)


def rehearsal_dir() -> Path:
    return config_dir() / "rehearsal"


def takes_db_path(document_path: Path | None, rehearsal: bool) -> Path:
    """The takes database of a console engine: the project's (``<project dir>/takes/takes.sqlite``),
    or the rehearsal's under the config folder (rehearsal mode, or a document without a file)."""
    if document_path is not None and not rehearsal:
        return default_db_path(document_path)
    return rehearsal_dir() / "takes" / "takes.sqlite"


def rehearsal_stage(stage: Stage) -> tuple[Stage, dict[str, Any]]:
    """The stage a rehearsal runs and the options that go with it (see the module docstring)."""
    if not cpu_only(stage.project):
        return stage, {}
    from vpstage.stage.scaling import scaled_stage

    try:
        scaled = scaled_stage(stage, CPU_REHEARSAL_SCALE, rehearsal_dir() / "cpu-stage")
    except ConfigError:  # a cabinet whose pixels do not divide: run it full size
        return stage, {}
    return scaled, {"quality": CPU_REHEARSAL_QUALITY}


def live_engine_factory(rehearsal: bool) -> EngineFactory:
    def build(project: Project, base_dir: Path, path: Path | None) -> Any:
        from live import LiveEngine, LiveOptions

        stage = Stage.from_project(project, base_dir, file=path.name if path is not None else "unsaved project")
        extra: dict[str, Any] = {}
        if rehearsal:
            stage, extra = rehearsal_stage(stage)
        takes_db = takes_db_path(path, rehearsal)
        takes_db.parent.mkdir(parents=True, exist_ok=True)
        return LiveEngine(stage, LiveOptions(rehearsal=rehearsal, takes_db=takes_db, **extra))

    return build
