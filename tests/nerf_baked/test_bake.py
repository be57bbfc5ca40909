"""Baking the tiny NeRF: the baked render reproduces the source on views it was not distilled on.

Bound: 30 dB mean PSNR (and 0.9 SSIM) against the source over 4 held-out views around the
spheres, both over black and over white (so colour and opacity are both right). The bake reaches
33-38 dB (mean about 36) here; a field that learned nothing (the same texture, a fresh field)
scores about 19 dB and rendering nothing about 15 dB, so the bound (and the 10 dB margin over the
untrained field) fails any broken distillation, hit point or compositing while leaving room for
seeds and platforms. Depth: the median gap between the baked hit point and the source's expected
depth is about 0.02 (the texture cell is 0.03); the bound is 0.05 asset units (9% of the large
sphere's radius).
"""

from __future__ import annotations

import dataclasses

import torch

from render.nerf.asset import NerfAsset
from render.nerf.baked.asset import BakedNerfAsset
from render.nerf.baked.bake.distill import BakeResult
from render.nerf.baked.bake.evaluation import held_out_cameras, mean, score_views
from render.nerf.baked.bake.metrics import psnr
from render.nerf.baked.bake.views import ViewSphere, training_frames
from render.nerf.baked.field import BakedField
from render.nerf.model import NerfModel
from tests.nerf_baked.conftest import small_network

PSNR_FLOOR_DB = 30.0
SSIM_FLOOR = 0.9
MARGIN_OVER_UNTRAINED_DB = 10.0
DEPTH_TOLERANCE = 0.05


def test_baked_render_matches_the_source_on_held_out_views(tiny_bake: BakeResult, source: NerfModel) -> None:
    baked = BakedNerfAsset(tiny_bake.model, "baked")
    reference = NerfAsset(source, "source", "torch")
    views = ViewSphere.around(*baked.bounds(), training_frames(source.metadata))
    cameras = held_out_cameras(views, 4, 32, 32, seed=0)
    scores = score_views(reference, baked, cameras)
    assert mean([s.psnr for s in scores]) >= PSNR_FLOOR_DB, scores
    assert mean([s.ssim for s in scores]) >= SSIM_FLOOR, scores
    assert all(s.depth_gap <= DEPTH_TOLERANCE for s in scores), scores
    over_white = [psnr(baked.render_pinhole(c, background=(1.0, 1.0, 1.0)).rgb,
                       reference.render_pinhole(c, background=(1.0, 1.0, 1.0)).rgb) for c in cameras]
    assert mean(over_white) >= PSNR_FLOOR_DB, over_white
    fresh = BakedField(small_network(), torch.Generator().manual_seed(1))
    untrained = dataclasses.replace(tiny_bake.model, field=fresh)
    baseline = score_views(reference, BakedNerfAsset(untrained, "untrained"), cameras)
    assert mean([s.psnr for s in scores]) >= mean([s.psnr for s in baseline]) + MARGIN_OVER_UNTRAINED_DB


def test_bake_reports_its_stages_and_keeps_the_source_cameras(tiny_bake: BakeResult, source: NerfModel) -> None:
    assert tiny_bake.steps == 120
    assert set(tiny_bake.seconds) == {"texture", "pool", "distil", "total"}
    texture = tiny_bake.model.texture
    assert texture.n_bricks > 0
    assert float(texture.cells.float().mean()) < 0.7, float(texture.cells.float().mean())  # empty cells are known
    assert tiny_bake.pool.missed_opaque <= 0.02 * tiny_bake.pool.rays  # the texture keeps the surfaces
    assert tiny_bake.model.metadata["frames"] == source.metadata["frames"]
    assert tiny_bake.model.metadata["source_hash"] == source.content_hash()

