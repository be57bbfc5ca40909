"""Assets declared in their own colour space render into the project's working space."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from render.assets import RenderOutput
from render.colour.accuracy import ocio_reference
from render.colour.bake import bake_canvas_lut
from render.scene.asset_colour import AssetInWorkingSpace, conversion_matrix, in_working_space
from render.scene.loaded import LoadedAsset
from tests.colour.conftest import ACES_CONFIG, SRGB_TEXTURE
from tests.engine.analytic_assets import PlaneAsset
from tests.engine.helpers import tiny_stage
from vpstage.colour.outputs import OutputTarget
from vpstage.colour.settings import ColourSettings
from vpstage.colour.transforms import CanvasTransform, canvas_processor
from vpstage.stage.model import SceneAsset as SceneAssetModel

TO_ACESCG = CanvasTransform(SRGB_TEXTURE, OutputTarget(colour_space="ACEScg"))
"""An sRGB-encoded capture into a scene-linear ACEScg working space: a LUT (encoded source)."""
LINEAR_709 = "Linear Rec.709 (sRGB)"


class HalfCovered(PlaneAsset):
    """The plane at half coverage: premultiplied colour, alpha 0.5."""

    def render_rays(self, origins: torch.Tensor, directions: torch.Tensor, **kwargs: Any) -> RenderOutput:
        out = super().render_rays(origins, directions, **kwargs)
        return RenderOutput(out.rgb * 0.5, out.alpha * 0.5, out.depth)


def rays() -> tuple[torch.Tensor, torch.Tensor]:
    count = 64
    origins = torch.zeros(count, 3)
    origins[:, 2] = 2.0
    directions = torch.stack([torch.linspace(-0.6, 0.6, count), torch.linspace(0.5, -0.5, count),
                              -torch.ones(count)], dim=1)
    return origins, directions / directions.norm(dim=1, keepdim=True)


def through_ocio(aces: Any, spec: CanvasTransform, rgb: torch.Tensor) -> np.ndarray:
    return ocio_reference(canvas_processor(aces, spec).getDefaultCPUProcessor(), rgb.numpy())


def test_an_srgb_encoded_asset_renders_in_the_acescg_working_space(aces: Any) -> None:
    plane = PlaneAsset("floor", 0.0)
    assert conversion_matrix(aces, TO_ACESCG) is None  # a transfer function: baked to a LUT
    wrapped = AssetInWorkingSpace(plane, bake_canvas_lut(aces, TO_ACESCG, 65))
    origins, directions = rays()
    scene = plane.render_rays(origins, directions)
    got = wrapped.render_rays(origins, directions)
    np.testing.assert_allclose(got.rgb.numpy(), through_ocio(aces, TO_ACESCG, scene.rgb), atol=2e-4)
    assert float((got.rgb - scene.rgb).abs().max()) > 0.05  # a real conversion, not a copy
    torch.testing.assert_close(got.alpha, scene.alpha)
    torch.testing.assert_close(got.depth, scene.depth)


def test_a_conversion_between_linear_spaces_is_its_exact_matrix(aces: Any) -> None:
    spec = CanvasTransform(LINEAR_709, OutputTarget(colour_space="ACEScg"))
    matrix = conversion_matrix(aces, spec)
    assert matrix is not None and matrix.shape == (3, 4)
    plane = PlaneAsset("floor", 0.0)
    origins, directions = rays()
    scene = plane.render_rays(origins, directions)
    got = AssetInWorkingSpace(plane, matrix).render_rays(origins, directions)
    np.testing.assert_allclose(got.rgb.numpy(), through_ocio(aces, spec, scene.rgb), atol=2e-6)


def test_coverage_is_kept_and_the_colour_converted_unpremultiplied(aces: Any) -> None:
    half = HalfCovered("floor", 0.0)
    wrapped = AssetInWorkingSpace(half, bake_canvas_lut(aces, TO_ACESCG, 65))
    origins, directions = rays()
    full = AssetInWorkingSpace(PlaneAsset("floor", 0.0), bake_canvas_lut(aces, TO_ACESCG, 65))
    got, opaque = wrapped.render_rays(origins, directions), full.render_rays(origins, directions)
    torch.testing.assert_close(got.rgb, opaque.rgb * 0.5, atol=1e-5, rtol=0)
    grey = wrapped.render_rays(origins, directions, background=(0.2, 0.2, 0.2))
    torch.testing.assert_close(grey.rgb, opaque.rgb * 0.5 + 0.1, atol=1e-5, rtol=0)


def test_only_assets_in_another_space_are_wrapped_and_a_bad_space_is_reported() -> None:
    stage = tiny_stage()
    project = stage.project.model_copy(deep=True)
    names = ("floor", "sky", "wall", "bad")
    project.scene = [SceneAssetModel(name=n, path=f"procedural:{n}") for n in names]
    project.colour = ColourSettings(config=ACES_CONFIG, working_space="ACEScg",
                                    assets={"floor": SRGB_TEXTURE, "sky": LINEAR_709, "bad": "no such space"})
    loaded = {n: LoadedAsset(m, PlaneAsset(n, 0.0), None) for n, m in zip(names, project.scene, strict=True)}
    out = in_working_space(loaded, project, Path(stage.layout.base_dir))
    floor, sky = out["floor"].asset, out["sky"].asset
    assert isinstance(floor, AssetInWorkingSpace) and floor.lut is not None
    assert isinstance(sky, AssetInWorkingSpace) and sky.matrix is not None
    assert out["wall"].asset is loaded["wall"].asset  # in the working space already
    assert out["bad"].asset is None and "no such space" in str(out["bad"].error)
    project.colour = None
    assert in_working_space(loaded, project, Path(stage.layout.base_dir)) is loaded
