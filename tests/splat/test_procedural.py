"""The procedural demo scene: deterministic, sized and placed for the demo stage."""

from __future__ import annotations

import numpy as np
import torch

from render.assets import SceneAsset, load_asset
from render.splat.procedural import _demo_arrays, demo_model


def test_same_seed_same_splats_and_other_seed_differs() -> None:
    first = _demo_arrays.__wrapped__(7)  # bypass the per-process cache: generate twice
    second = _demo_arrays.__wrapped__(7)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    other = _demo_arrays.__wrapped__(8)
    assert not np.array_equal(first["positions"], other["positions"])
    assert demo_model().content_hash() == demo_model().content_hash()


def test_size_frame_and_values() -> None:
    model = demo_model()
    assert 200_000 <= model.num_splats <= 400_000
    assert model.frame.convention == "stage" and model.frame.up == "z"
    assert torch.isfinite(model.positions).all() and (model.scales > 0).all()
    assert (model.opacities > 0).all() and (model.opacities <= 1).all()
    colours = model.base_colors()
    assert float(colours.min()) >= 0.0 and float(colours.max()) <= 1.0


def test_the_volume_stands_in_an_empty_clearing_under_a_sky() -> None:
    pos = demo_model().positions.numpy()
    r = np.hypot(pos[:, 0], pos[:, 1])
    inside = (r < 4.5) & (pos[:, 2] < 50)  # under the zenith of the sky dome
    assert inside.sum() > 1000  # the floor continues under the volume...
    assert np.abs(pos[inside, 2]).max() < 1e-6  # ...flat at z = 0, nothing standing in it
    assert pos[:, 2].max() > 80 and r.max() > 80  # a sky dome far beyond the walls


def test_registry_scheme() -> None:
    asset = load_asset("procedural:demo")
    assert isinstance(asset, SceneAsset) and asset.name == "procedural:demo"
    lo, hi = asset.bounds()
    assert lo[2] <= 0.0 < hi[2]
