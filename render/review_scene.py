"""A take's scene, loaded for its review video, and the camera view of one frame.

The assets come from the stage configuration stored with the take (its canonical project YAML):
paths relative to ``project_dir`` (the folder of the project the take belongs to), absolute paths
and ``procedural:demo`` as they are. Only assets some frame shows (enabled in its scene record)
are loaded, once, on the render device.

Assets without declared bounds are cropped to the default scene bounds around the stage, which
need the stage's cabinets: its panel catalog and mesh files are resolved relative to
``project_dir``, else to the shipped ``configs/stages`` (a project made from a shipped example);
when neither holds them the review is refused with a clear error, never rendered uncropped.

The view of a frame is what the live inner frustum puts on the wall, seen from the recorded
entrance pupil: every enabled asset renders the camera's pinhole posed in its own frame by the
placement recorded in that frame, cropped to the asset's scene bounds (its declared bounds, else
the default box around the stage, as the live DoD crop does), and the assets are composited by
depth in stage metres over the background.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from render.assets import AssetError, PinholeCamera, SceneAsset, load_asset
from render.scene.inner import placement_scale
from render.scene.layers import Layer, composite
from render.scene.loaded import SceneBounds, asset_path
from vpstage.config import ConfigError, parse_yaml, validate_model
from vpstage.frustum.rays import scene_rotation, to_scene
from vpstage.frustum.scene import scene_bounds_of
from vpstage.geometry import OrientedBox
from vpstage.nodes.failures import failure_text
from vpstage.stage import Project, Stage
from vpstage.stage.catalog import DEFAULT_CATALOG
from vpstage.stage.model import MeshSection
from vpstage.stage.model import SceneAsset as SceneAssetModel
from vpstage.stage.project_io import catalog_path
from vpstage.takes.frame_records import SceneAssetState
from vpstage.tracking import CameraState


class ReviewSceneError(Exception):
    """The take's scene cannot be rendered; the message says which asset and why."""


@dataclass(kw_only=True)
class ReviewScene:
    """Loaded assets (name -> model and asset) on ``device``; ``warnings`` for the operator."""

    assets: dict[str, tuple[SceneAssetModel, SceneAsset]]
    device: torch.device
    bounds: SceneBounds | None
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    warnings: list[str] = field(default_factory=list)

    def render(self, state: CameraState, scene: Iterable[SceneAssetState], width: int, height: int) -> torch.Tensor:
        """(height, width, 3) float32 RGB 0..1 on ``device``: the enabled assets of ``scene`` seen
        by ``state`` with its intrinsics scaled to ``width`` x ``height``, composited by depth."""
        intrinsics = state.intrinsics(width, height)
        layers = []
        for placed in scene:
            if not placed.enabled:
                continue
            model, asset = self.assets[placed.name]
            matrix = placed.placement().stage_to_scene()
            rotation = scene_rotation(matrix) @ state.rotation
            view = np.eye(4)
            view[:3, :3] = rotation.T
            view[:3, 3] = -rotation.T @ to_scene(matrix, state.eye)
            camera = PinholeCamera(world_to_camera=view, fx=intrinsics.fx, fy=intrinsics.fy, cx=intrinsics.cx,
                                   cy=intrinsics.cy, width=width, height=height)
            out = asset.render_pinhole(camera, crop=self._crop(model, matrix), background=(0.0, 0.0, 0.0))
            layers.append(Layer(out.rgb.reshape(-1, 3).to(self.device), out.alpha.reshape(-1).to(self.device),
                                out.depth.reshape(-1).to(self.device) / placement_scale(matrix)))
        background = torch.tensor(self.background, dtype=torch.float32, device=self.device)
        return composite(layers, background, width * height).reshape(height, width, 3)

    def _crop(self, model: SceneAssetModel, matrix: np.ndarray) -> OrientedBox | None:
        if self.bounds is not None:
            return self.bounds.of(model, matrix)
        return scene_bounds_of(model)


def project_of(stage_yaml: str, take_name: str) -> Project:
    """The take's stored project; ReviewSceneError when it does not parse."""
    try:
        data, index = parse_yaml(stage_yaml, f"stage configuration of {take_name}")
        return validate_model(Project, data, index)
    except ConfigError as exc:
        raise ReviewSceneError(f"the stage configuration stored with {take_name} is invalid: {exc}") from exc


def load_review_scene(stage_yaml: str | None, shown: Iterable[str], take_name: str, project_dir: Path,
                      device: str, recorded_hashes: dict[str, str] | None = None) -> ReviewScene:
    """Load the assets named in ``shown`` from the take's stage configuration (module docstring).

    ``recorded_hashes`` (asset -> content hash recorded in the take) adds a warning for each asset
    whose file changed since. Raises ReviewSceneError for an asset that is not in the
    configuration or does not load."""
    names = sorted(set(shown))
    if not names:
        return ReviewScene(assets={}, device=torch.device(device), bounds=None)
    if stage_yaml is None:
        raise ReviewSceneError(f"{take_name} has no stored stage configuration, so its scene assets "
                               f"({', '.join(names)}) cannot be found")
    project = project_of(stage_yaml, take_name)
    models = {m.name: m for m in project.scene}
    assets: dict[str, tuple[SceneAssetModel, SceneAsset]] = {}
    warnings: list[str] = []
    for name in names:
        if name not in models:
            raise ReviewSceneError(f"scene asset {name} of {take_name} is not in its stage configuration")
        model = models[name]
        assets[name] = (model, _load(model, project_dir, device))
        recorded = (recorded_hashes or {}).get(name)
        if recorded and recorded != assets[name][1].content_hash():
            warnings.append(f"scene asset {name} ({model.path}) has changed since {take_name} was recorded")
    bounds = _stage_bounds(project, [model for model, _asset in assets.values()], project_dir, take_name, warnings)
    return ReviewScene(assets=assets, device=torch.device(device), bounds=bounds, warnings=warnings)


def _load(model: SceneAssetModel, project_dir: Path, device: str) -> SceneAsset:
    path = asset_path(model, project_dir)
    try:
        return load_asset(path, device)
    except AssetError as exc:
        raise ReviewSceneError(f"scene asset {model.name}: {exc}") from exc
    except Exception as exc:  # a corrupt file can fail anywhere in a loader
        raise ReviewSceneError(f"scene asset {model.name} ({path}): {failure_text(exc)}") from exc


SHIPPED_STAGES = DEFAULT_CATALOG.parent / "stages"
"""Where the shipped example projects live: a project derived from one finds its catalog from here."""


def _missing_files(project: Project, base_dir: Path) -> list[str]:
    """Files the stage layout needs (panel catalog, mesh OBJs) that are not there relative to ``base_dir``."""
    missing = []
    catalog = catalog_path(project, base_dir)
    if not catalog.is_file():
        missing.append(f"panel catalog {catalog}")
    for section in project.sections:
        if isinstance(section, MeshSection) and not (base_dir / section.file).resolve().is_file():
            missing.append(f"mesh file {(base_dir / section.file).resolve()}")
    return missing


def _layout_base(project: Project, project_dir: Path, take_name: str, needing: list[str]) -> Path:
    """The folder the take's stage resolves its catalog and meshes from: the project's folder, else the
    shipped stages folder (a project made from a shipped example). ReviewSceneError when neither holds them."""
    missing = _missing_files(project, project_dir)
    if not missing:
        return project_dir
    if not _missing_files(project, SHIPPED_STAGES):
        return SHIPPED_STAGES
    raise ReviewSceneError(
        f"the stage {take_name} was recorded on needs its {', '.join(missing)}, which cannot be found (looked "
        f"relative to {project_dir} and to the shipped {SHIPPED_STAGES}); without the stage layout, "
        f"{', '.join(needing)} cannot be cropped to the default scene bounds as the live DoD crop does. "
        "Point the review at the project's folder (main.py takes render --project FILE, or --project-dir "
        "DIR), or give those assets bounds_min / bounds_max")


def _stage_bounds(project: Project, shown: list[SceneAssetModel], project_dir: Path, take_name: str,
                  warnings: list[str]) -> SceneBounds | None:
    """The live renderer's default scene bounds for assets without declared bounds. They need the
    stage's cabinets, so its catalog and meshes: found as :func:`_layout_base` says, or a
    ReviewSceneError (a review is never rendered without the crop the live wall had)."""
    needing = [m.name for m in shown if scene_bounds_of(m) is None]
    if not needing:
        return None
    base = _layout_base(project, project_dir, take_name, needing)
    if base != project_dir:
        warnings.append(f"the stage's catalog and meshes are not beside {project_dir}; used the shipped "
                        f"{base} to resolve them")
    try:
        stage = Stage.from_project(project, base, strict=False)
    except (ConfigError, OSError, ValueError) as exc:
        raise ReviewSceneError(f"the stage layout of {take_name} cannot be built ({exc}), so {', '.join(needing)} "
                               "cannot be cropped to the default scene bounds") from exc
    lost = [p for p in stage.layout.problems if p.severity == "error" and (p.path[:1] == ("sections",) or p.file)]
    if lost or not stage.layout.complete:
        details = "; ".join(p.format() for p in lost[:3])
        raise ReviewSceneError(f"the stage layout of {take_name} is incomplete ({details}), so the default scene "
                               f"bounds of {', '.join(needing)} would be wrong")
    return SceneBounds(stage)
