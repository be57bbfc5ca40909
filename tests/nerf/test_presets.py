"""Training presets: the CPU-sized network and grid on a CPU, instant-ngp's elsewhere, overrides."""

from __future__ import annotations

import argparse
import math

import pytest

from cli.train_commands import _train_config
from render.nerf.config import FieldConfig
from render.nerf.train.presets import CPU_PRESET, preset_for
from render.nerf.train.trainer import TrainConfig


def test_cpu_preset_is_chosen_on_a_cpu_and_instant_ngps_elsewhere() -> None:
    cpu = TrainConfig.for_device("cpu")
    grid = cpu.field.grid
    assert (grid.n_levels, grid.n_features_per_level, grid.log2_hashmap_size) == (8, 2, 15)
    assert (cpu.field.n_neurons, cpu.grid_resolution, cpu.batch_samples) == (32, 32, 1 << 14)
    assert cpu.min_step == pytest.approx(math.sqrt(3) / 256)
    gpu = TrainConfig.for_device("cuda")
    assert gpu.field == FieldConfig() and gpu.grid_resolution == 128 and gpu.batch_samples == 1 << 18
    assert gpu.min_step == pytest.approx(math.sqrt(3) / 1024)
    assert preset_for("ngp", "cpu").name == "ngp" and preset_for("auto", "cuda:1").name == "ngp"


def test_overrides_replace_single_settings() -> None:
    config = TrainConfig.for_device("cpu", grid_resolution=64, log2_hashmap_size=17, batch_samples=4096)
    assert config.grid_resolution == 64 and config.min_step == pytest.approx(math.sqrt(3) / 512)
    assert config.field.grid.log2_hashmap_size == 17 and config.batch_samples == 4096
    assert config.field.grid.n_levels == CPU_PRESET.field.grid.n_levels


def cli_args(output: str, **extra: object) -> argparse.Namespace:
    values = {"output": output, "export": None, "device": "cpu", "preset": "auto", "grid_resolution": None,
              "hash_log2_size": None, "batch_samples": None, "steps": 10, "downscale": 1, "holdout": 0,
              "time_limit": 5.0, "seed": 0, **extra}
    return argparse.Namespace(**values)


def test_train_command_says_what_it_chose_and_keeps_snapshots_loadable(capsys: pytest.CaptureFixture[str]) -> None:
    config = _train_config(cli_args("a.nerf"))
    assert config is not None and config.grid_resolution == 32 and config.time_limit_s == 5.0
    assert "cpu preset: hash grid 8 levels x 2 features, 2^15 entries" in capsys.readouterr().out
    # instant-ngp snapshots need its 128^3 grid (and its step)
    snapshot = _train_config(cli_args("a.ingp"))
    assert snapshot is not None and snapshot.grid_resolution == 128
    assert snapshot.min_step == pytest.approx(math.sqrt(3) / 1024)
    assert _train_config(cli_args("a.nerf", grid_resolution=24)) is None
    assert "power of two" in capsys.readouterr().err
