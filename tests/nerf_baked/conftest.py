"""A tiny NeRF trained once per session on the two-sphere scene, and one bake of it.

Sizes are chosen for a 2-core CI machine: 24 views of 32x32 pixels, 80 training steps of about
2,000 samples (the NeRF is a recognisable pair of spheres with soft edges, which is all the bake
needs), then a 120-step bake with a small field, a 48-cell texture and three pools of 4,096 rays.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from render.nerf.baked.bake.distill import BakeConfig, BakeResult, bake_nerf
from render.nerf.baked.bake.texture_build import TextureConfig
from render.nerf.baked.config import BakedFieldConfig, grid_for_finest
from render.nerf.model import NerfModel
from render.nerf.snapshot import load_model, save_model
from render.nerf.train.dataset import load_transforms
from render.nerf.train.trainer import NerfTrainer, TrainConfig
from tests.nerf.helpers import small_config
from tests.nerf.synthetic import write_scene

TRAIN_STEPS = 80


@dataclass(frozen=True)
class TinyNerf:
    path: Path
    """The trained NeRF saved as .nerf."""
    dataset: Path
    """Its transforms.json."""


def small_network() -> BakedFieldConfig:
    return BakedFieldConfig(diffuse_grid=grid_for_finest(4, 2, 12, 8, 96),
                            specular_grid=grid_for_finest(4, 2, 11, 8, 64),
                            n_neurons=16, specular_hidden_layers=1)


def tiny_bake_config(steps: int = 120) -> BakeConfig:
    return BakeConfig(steps=steps, texture=TextureConfig(resolution=48, brick_res=8), network=small_network(),
                      batch_rays=512, pool_rays=4096, refresh_every=40, seed=0)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Small tensors: one intra-op thread avoids oversubscribing a shared 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_nerf(tmp_path_factory: pytest.TempPathFactory) -> TinyNerf:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("baked")
    dataset = write_scene(root / "scene", n_views=24, size=32)
    config = TrainConfig(steps=TRAIN_STEPS, field=small_config(log2_size=14, base=8, width=32),
                         batch_samples=1 << 11, initial_rays=256, min_rays=64, grid_resolution=32,
                         min_step=math.sqrt(3) / 128, grid_warmup_steps=32, seed=0)
    result = NerfTrainer(load_transforms(dataset), config).train()
    save_model(result.model, root / "tiny.nerf")
    torch.set_num_threads(before)
    return TinyNerf(root / "tiny.nerf", dataset)


@pytest.fixture(scope="session")
def tiny_bake(tiny_nerf: TinyNerf) -> BakeResult:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    result = bake_nerf(load_model(tiny_nerf.path), tiny_bake_config())
    torch.set_num_threads(before)
    return result


@pytest.fixture
def source(tiny_nerf: TinyNerf) -> NerfModel:
    return load_model(tiny_nerf.path)
