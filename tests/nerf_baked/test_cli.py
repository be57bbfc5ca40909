"""``main.py bake`` end to end at tiny size, then ``render`` and ``preview`` of the baked file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli import main
from render.assets import load_asset
from render.nerf.baked.asset import BakedNerfAsset
from tests.nerf_baked.conftest import TinyNerf
from tests.nerf_baked.test_composition import camera

BAKE_ARGS = ["--device", "cpu", "--steps", "30", "--resolution", "32", "--batch-rays", "512", "--pool-rays", "2048",
             "--eval-views", "1", "--eval-size", "24x24", "--progress-every", "10"]


def test_bake_command_end_to_end(tiny_nerf: TinyNerf, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "spheres.bnerf"
    code = main(["bake", str(tiny_nerf.path), "-o", str(out), *BAKE_ARGS, "--dataset", str(tiny_nerf.dataset),
                 "--holdout", "8"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "step     30/30" in printed and "wrote" in printed
    assert re.search(r"baked 30 steps in [\d.]+ s \(texture [\d.]+ s, target rays [\d.]+ s, distillation", printed)
    vs_source = re.search(r"held-out vs source \(1 views at 24x24\): PSNR ([\d.]+) dB, SSIM ([\d.]+)", printed)
    assert vs_source is not None, printed
    assert float(vs_source.group(1)) > 18.0  # 30 steps: well short of the library test's bound, far from noise
    vs_photos = re.search(r"held-out vs photos \(3 frames\): baked PSNR ([\d.]+) dB", printed)
    assert vs_photos is not None and float(vs_photos.group(1)) > 12.0, printed
    asset = load_asset(out)
    assert isinstance(asset, BakedNerfAsset) and asset.model.metadata["bake"]["steps"] == 30

    cam = camera()
    png = tmp_path / "front.png"
    spec = {"world_to_camera": cam.world_to_camera.tolist(), "fx": cam.fx, "fy": cam.fy, "cx": cam.cx, "cy": cam.cy}
    assert main(["render", str(out), "--camera", json.dumps(spec), "--width", "32", "--height", "32",
                 "-o", str(png), "--depth", str(tmp_path / "front.npy")]) == 0
    image = cv2.imread(str(png))
    assert image is not None and image.shape == (32, 32, 3) and int(image[16, 16].max()) > 60
    depth = np.load(tmp_path / "front.npy")
    assert 1.8 < float(depth[16, 16]) < 2.4 and float(depth[0, 0]) == 0.0
    video = tmp_path / "orbit.mp4"
    assert main(["preview", str(out), "-o", str(video), "--size", "32x18", "--seconds", "5", "--fps", "1",
                 "--up", "z"]) == 0
    assert video.is_file() and video.stat().st_size > 0


def test_bake_command_refuses_bad_arguments(tiny_nerf: TinyNerf, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bake", str(tiny_nerf.path), "-o", str(tmp_path / "x.nerf"), "--device", "cpu"]) == 2
    assert "output must end in .bnerf" in capsys.readouterr().err
    assert main(["bake", str(tmp_path / "none.nerf"), "-o", str(tmp_path / "x.bnerf"), "--device", "cpu"]) == 2
    assert "none.nerf" in capsys.readouterr().err
    assert main(["bake", str(tiny_nerf.path), "-o", str(tmp_path / "x.bnerf"), "--device", "cpu",
                 "--eval-size", "big"]) == 2
    assert "--eval-size" in capsys.readouterr().err
    assert not (tmp_path / "x.bnerf").exists()
