"""A stage with fewer pixels per cabinet: the same wall in metres at a coarser pitch.

CPU rehearsals and tests cannot render 1920 x 1080 canvases at frame rate; dividing every
cabinet's pixel count, every canvas and every pixel-map offset by the same factor keeps the
geometry (cabinets, sections, cameras, scene) and the layout's shape while rendering ``factor²``
fewer pixels.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from vpstage.colour.settings import ColourSettings
from vpstage.config import atomic_write_text
from vpstage.stage.catalog import load_catalog
from vpstage.stage.project_io import catalog_path, save_project
from vpstage.stage.rebase import rebased_colour
from vpstage.stage.resolved_stage import Stage


def _scaled_regions(colour: ColourSettings, factor: int) -> ColourSettings:
    """Colour regions on canvases ``factor`` times smaller (each keeps at least one pixel)."""
    regions = []
    for region in colour.regions:
        x0, y0, x1, y1 = (v // factor for v in region.rect)
        rect = (x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))
        feather = min(region.feather_px / factor, min(rect[2] - x0, rect[3] - y0) / 2)
        regions.append(region.model_copy(update={"rect": rect, "feather_px": feather}))
    return colour.model_copy(update={"regions": regions})


def scaled_stage(stage: Stage, factor: int, folder: Path) -> Stage:
    """The stage with cabinets of 1/``factor`` the pixels (same size in metres, ``factor`` x the
    pitch), written into ``folder`` (project and panel catalog) and opened from there. Panels whose
    pixel counts do not divide by ``factor`` are left out of the catalog (a stage using one fails
    to open, naming it). Relative paths of scene assets and the lens library are made absolute;
    the colour section's files are made relative to ``folder``."""
    if factor < 1:
        raise ValueError(f"scale factor must be >= 1, got {factor}")
    base = stage.layout.base_dir
    catalog = load_catalog(catalog_path(stage.project, base))
    panels = {}
    for name, panel in catalog.panels.items():
        if panel.pixels_w % factor or panel.pixels_h % factor:
            continue
        panels[name] = panel.model_dump(exclude_none=True) | {
            "pixels_w": panel.pixels_w // factor, "pixels_h": panel.pixels_h // factor,
            "pitch_mm": panel.pitch_mm * factor}
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "panels.yaml", yaml.safe_dump({"schema_version": 1, "panels": panels}), backup=False)
    project = stage.project.model_copy(deep=True)
    project.catalog = "panels.yaml"
    if project.lens_library is not None:
        project.lens_library = str((base / project.lens_library).resolve())
    if project.timecode.ltc.file is not None:
        project.timecode.ltc.file = str((base / project.timecode.ltc.file).resolve())
    for asset in project.scene:
        if not asset.path.startswith("procedural:"):
            asset.path = str((base / asset.path).resolve())
    if project.colour is not None:
        project.colour = _scaled_regions(rebased_colour(project.colour, base, folder), factor)
    for canvas in project.canvases:
        canvas.width, canvas.height = canvas.width // factor, canvas.height // factor
    for entry in project.pixel_map:
        entry.x, entry.y = entry.x // factor, entry.y // factor
    name = stage.path.stem if stage.path is not None else "stage"
    path = folder / f"{name}_div{factor}.yaml"
    save_project(project, path)
    return Stage.open(path)
