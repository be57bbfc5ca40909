"""Training on a small analytic scene (CPU, seconds) and the ``train`` command.

Threshold: held-out views must reach 22 dB PSNR and beat the empty-scene render (the
background alone) by 10 dB. A field that learned nothing renders the background (about 10 dB
on these views); the configuration below reaches about 26 dB in 250 steps, so 22 dB leaves room
for seed and platform differences while still failing any broken gradient, marcher or grid
update.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from cli import main
from render.assets import load_asset
from render.nerf.asset import NerfAsset
from render.nerf.model_components.renderers import TorchBackend
from render.nerf.train.dataset import load_image, load_transforms
from render.nerf.train.evaluation import evaluate_frames, ssim
from render.nerf.train.trainer import NerfTrainer, TrainConfig, TrainProgress
from tests.nerf.helpers import small_config
from tests.nerf.synthetic import write_scene

PSNR_FLOOR_DB = 22.0
MARGIN_OVER_EMPTY_DB = 10.0


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Small tensors: one intra-op thread avoids oversubscribing a shared 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_config(steps: int) -> TrainConfig:
    return TrainConfig(steps=steps, field=small_config(log2_size=14, base=8, width=32), batch_samples=1 << 12,
                       initial_rays=256, min_rays=64, grid_resolution=32, min_step=math.sqrt(3) / 128,
                       holdout_every=6, grid_warmup_steps=32, seed=0)


def empty_psnr(frames: list) -> float:
    """PSNR of rendering nothing (black) against the held-out images over black."""
    values = []
    for frame in frames:
        image = torch.from_numpy(load_image(frame))
        expected = image[..., :3] * image[..., 3:]
        values.append(-10 * math.log10(float((expected**2).mean())))
    return sum(values) / len(values)


@pytest.mark.slow
def test_synthetic_scene_trains_to_psnr_floor(tmp_path: Path, one_thread: None) -> None:
    dataset = load_transforms(write_scene(tmp_path / "scene", n_views=24, size=32))
    trainer = NerfTrainer(dataset, tiny_config(250))
    seen: list[TrainProgress] = []
    result = trainer.train(seen.append, progress_every=50)
    assert [p.step for p in seen] == [50, 100, 150, 200, 250]
    assert seen[-1].occupancy < 0.5  # the grid learned where the empty space is
    scores = evaluate_frames(result.model, result.test_frames, TorchBackend())
    mean = sum(s.psnr for s in scores) / len(scores)
    assert len(scores) == 4
    assert mean >= PSNR_FLOOR_DB
    assert mean >= empty_psnr(result.test_frames) + MARGIN_OVER_EMPTY_DB
    # the saved asset renders the same held-out views equally well (asset frame = dataset frame)
    save = tmp_path / "scene.nerf"
    from render.nerf.snapshot import save_model

    save_model(result.model, save)
    loaded = load_asset(save)
    assert isinstance(loaded, NerfAsset)
    again = evaluate_frames(loaded.model, result.test_frames, TorchBackend())
    assert [round(s.psnr, 4) for s in again] == [round(s.psnr, 4) for s in scores]
    assert loaded.model.metadata["training_step"] == 250


def test_train_command_writes_asset_and_reports_progress(tmp_path: Path, one_thread: None,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    write_scene(tmp_path / "scene", n_views=6, size=16, missing=1)
    out = tmp_path / "out.nerf"
    code = main(["-v", "train", str(tmp_path / "scene"), "-o", str(out), "--steps", "6", "--device", "cpu",
                 "--progress-every", "2", "--grid-resolution", "16", "--holdout", "3"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "warning:" in captured.err and "missing" in captured.err
    # on a CPU the cpu preset is chosen and said; the grid resolution given overrides it
    assert "cpu preset: " in captured.out and "occupancy grid 16^3" in captured.out
    step_lines = [line for line in captured.out.splitlines() if line.startswith("step ")]
    assert [line.split()[1] for line in step_lines] == ["2/6", "4/6", "6/6"] and f"wrote {out}" in captured.out
    assert all(" loss " in line and " dB " in line and " ETA " in line for line in step_lines)
    # stderr is no terminal: progress as INFO lines (-v), the first report and the last; the first
    # has no rate yet but already the time left (the trainer's estimate)
    lines = [line for line in captured.err.splitlines() if line.startswith("INFO cli.progress: ")]
    assert lines[0].startswith("INFO cli.progress: train: step 2/6 (33 %), loss ") and lines[0].endswith(" left")
    assert ", PSNR " in lines[0] and " dB, about " in lines[0]
    assert lines[1].startswith("INFO cli.progress: train: step 6/6 (100 %), loss ")
    assert lines[1].endswith(("s a step", "steps/s"))  # the rate
    assert lines[2].startswith("INFO cli.progress: held-out PSNR: frame 1/2 (50 %)")
    assert lines[3].startswith("INFO cli.progress: held-out PSNR: frame 2/2 (100 %)")
    assert "mean held-out PSNR" in captured.out
    assert (out / "nerf.json").is_file() and (out / "weights.safetensors").is_file()


def test_progress_counts_up_to_the_total_and_marks_the_last(tmp_path: Path, one_thread: None) -> None:
    dataset = load_transforms(write_scene(tmp_path / "scene", n_views=4, size=8))
    config = tiny_config(7)
    config.grid_resolution, config.holdout_every = 16, 0
    seen: list[TrainProgress] = []
    NerfTrainer(dataset, config).train(seen.append, progress_every=3)
    assert [(p.step, p.steps, p.last) for p in seen] == [(3, 7, False), (6, 7, False), (7, 7, True)]
    assert all(math.isfinite(p.loss) and p.batch_psnr > 0 for p in seen)
    assert seen[0].elapsed_s <= seen[1].elapsed_s <= seen[2].elapsed_s


def test_train_command_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_scene(tmp_path / "scene", n_views=2, size=8)
    assert main(["train", str(tmp_path / "scene"), "-o", str(tmp_path / "x.ply"), "--device", "cpu"]) == 2
    assert "must end in .nerf" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "nothing"), "-o", str(tmp_path / "x.nerf"), "--device", "cpu"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_training_steps_with_and_without_compaction(tmp_path: Path, one_thread: None) -> None:
    dataset = load_transforms(write_scene(tmp_path / "scene", n_views=4, size=8))
    config = tiny_config(3)
    config.grid_resolution, config.holdout_every = 16, 0
    for compact in (False, True):
        config.compact_rays = compact
        trainer = NerfTrainer(dataset, config)
        trainer.update_occupancy()
        step = trainer.train_step()
        assert 0 < step.samples <= step.marched and math.isfinite(float(step.loss))
        assert trainer.model.field.grid_table.grad is not None


def test_ssim_is_one_for_equal_images_and_the_luminance_term_for_flat_ones() -> None:
    image = torch.rand(24, 20, 3, generator=torch.Generator().manual_seed(1))
    assert ssim(image, image) == pytest.approx(1.0)
    noisy = (image + 0.1 * torch.randn(24, 20, 3, generator=torch.Generator().manual_seed(2))).clamp(0, 1)
    assert 0.3 < ssim(image, noisy) < 0.99
    # flat images: no variance, so SSIM is the luminance term (2 a b + C1) / (a^2 + b^2 + C1)
    c1 = 0.01**2
    flat = ssim(torch.full((16, 16, 3), 0.2), torch.full((16, 16, 3), 0.6))
    assert flat == pytest.approx((2 * 0.2 * 0.6 + c1) / (0.2**2 + 0.6**2 + c1), rel=1e-6)
