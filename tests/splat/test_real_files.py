"""Loaders on the real trained splats in ../shared/data/splats."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from render.assets import SceneAsset, load_asset
from render.splat.io import load_splat

EXPECTED = {"biker.spz": (152_746, "spz"), "biker.compressed.ply": (152_746, "supersplat-ply"),
            "guitar.compressed.ply": (90_854, "supersplat-ply")}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_and_value_ranges(splat_dir, name: str) -> None:
    model = load_splat(splat_dir / name)
    count, tag = EXPECTED[name]
    assert model.num_splats == count
    assert model.source_format == tag
    assert model.sh_degree == 0
    assert model.metadata["dropped_non_finite"] == 0
    for tensor in (model.positions, model.scales, model.quats, model.opacities, model.sh):
        assert torch.isfinite(tensor).all()
    assert (model.scales > 0).all() and (model.scales < 10).all()
    assert (model.opacities >= 0).all() and (model.opacities <= 1).all()
    torch.testing.assert_close(model.quats.norm(dim=1), torch.ones(count), atol=1e-5, rtol=0)
    colours = 0.5 + 0.28209479 * model.sh[:, 0]
    assert colours.min() > -1.0 and colours.max() < 2.0  # SH DC may leave 0..1 a little
    extent = model.positions.amax(0) - model.positions.amin(0)
    assert (extent > 0.5).all() and (extent < 10).all()  # a person-sized object in scene units


def test_spz_is_converted_to_rdf(splat_dir) -> None:
    model = load_splat(splat_dir / "biker.spz")
    assert model.frame.convention == "RDF" and model.frame.up == "-y"
    # the biker stands on y = 0 with the head towards -y (RDF: y points down)
    assert float(model.positions[:, 1].max()) <= 1e-3
    assert float(model.positions[:, 1].min()) < -3.0


def test_spz_and_compressed_ply_decode_to_the_same_splats(splat_dir) -> None:
    spz = load_splat(splat_dir / "biker.spz")
    ply = load_splat(splat_dir / "biker.compressed.ply")
    rng = np.random.default_rng(1)
    queries = torch.as_tensor(rng.choice(ply.num_splats, 600, replace=False))
    ply_rgb = 0.5 + 0.28209479 * ply.sh[:, 0]
    spz_rgb = 0.5 + 0.28209479 * spz.sh[:, 0]
    nearest = []
    for chunk in queries.split(150):
        # a few splats sit on top of each other: among the 8 nearest centres take the best match
        candidates = torch.cdist(ply.positions[chunk], spz.positions).topk(8, largest=False).indices
        mismatch = ((ply_rgb[chunk, None] - spz_rgb[candidates]).abs().sum(-1)
                    + (ply.opacities[chunk, None] - spz.opacities[candidates]).abs())
        nearest.append(candidates.gather(1, mismatch.argmin(dim=1, keepdim=True)).squeeze(1))
    nearest = torch.cat(nearest)
    # positions: 12 fractional bits (spz) vs 11/10 bits of a 256-splat chunk range (ply)
    gap = (ply.positions[queries] - spz.positions[nearest]).norm(dim=1)
    assert float(gap.max()) < 2e-3
    # opacity: one byte in both
    assert float((ply.opacities[queries] - spz.opacities[nearest]).abs().max()) <= 1.5 / 255
    # colour: one byte each (spz scale 0.15, ply over the chunk's colour range)
    assert float((ply_rgb[queries] - spz_rgb[nearest]).abs().max()) < 0.03
    # log scale: 1/16 steps over [-10, 5.94] (spz) vs 11/10 bits of the chunk range (ply)
    ply_log = ply.scales[queries].log().clamp(-10.0, 255 / 16 - 10.0)
    assert float((ply_log - spz.scales[nearest].log()).abs().max()) < 0.07
    # rotations: same rotation up to sign
    dots = (ply.quats[queries] * spz.quats[nearest]).sum(dim=1).abs()
    assert float(dots.min()) > 0.995


def test_registry_loads_a_scene_asset(splat_dir) -> None:
    asset = load_asset(splat_dir / "guitar.compressed.ply")
    assert isinstance(asset, SceneAsset)
    assert asset.kind == "splat" and asset.supports_rays is False
    lo, hi = asset.bounds()
    assert np.all(lo < hi)
    assert len(asset.content_hash()) == 64
