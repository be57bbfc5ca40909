"""Stage model: cabinets, sections, processors, canvases, pixel map, project files."""

from vpstage.stage.catalog import Catalog, PanelType, load_catalog
from vpstage.stage.mapping import LayoutError, auto_layout
from vpstage.stage.model import Project
from vpstage.stage.project_io import dump_project_yaml, load_project, save_project
from vpstage.stage.resolved_stage import Stage

__all__ = [
    "Catalog",
    "LayoutError",
    "PanelType",
    "Project",
    "Stage",
    "auto_layout",
    "dump_project_yaml",
    "load_catalog",
    "load_project",
    "save_project",
]
