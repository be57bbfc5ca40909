"""transforms.json loading (the real fox dataset, parse only) and dataset cameras."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from render.nerf.train.camera_rays import FrameCameras
from render.nerf.train.dataset import DatasetError, DatasetWarning, distort, load_image, load_transforms, undistort
from tests.nerf.synthetic import write_scene


def test_fox_skips_missing_images_with_a_warning(shared_data: Path) -> None:
    fox = shared_data / "nerf" / "fox"
    with pytest.warns(DatasetWarning, match="skipped 17 of 67 frames"):
        dataset = load_transforms(fox / "transforms.json")
    assert len(dataset.frames) == 50 and len(dataset.missing) == 17
    assert all(f.image_path.is_file() for f in dataset.frames)
    assert dataset.aabb_scale == 4 and dataset.scale == pytest.approx(0.33)
    assert dataset.offset == (0.5, 0.5, 0.5)
    frame = dataset.frames[0]
    assert (frame.w, frame.h) == (1080, 1920)
    assert (frame.fl_x, frame.fl_y, frame.cx, frame.cy) == (1375.52, 1374.49, 554.558, 965.268)
    assert frame.distortion == pytest.approx((0.0578421, -0.0805099, -0.000980296, 0.00015575))
    assert frame.file_path == "images/0001.jpg"
    np.testing.assert_allclose(frame.c2w[0, 3], 3.168359405609479)


def test_fox_cameras_look_at_the_scene_centre(shared_data: Path) -> None:
    with pytest.warns(DatasetWarning):
        dataset = load_transforms(shared_data / "nerf" / "fox")
    cameras = FrameCameras(dataset.frames[:5], "cpu")
    origins, dirs = cameras.rays(torch.arange(5), cameras.intrinsics[:, 2], cameras.intrinsics[:, 3])
    # the principal ray points roughly at the origin (colmap2nerf centres the cameras' focus)
    to_center = -origins / origins.norm(dim=-1, keepdim=True)
    assert ((dirs * to_center).sum(-1) > 0.9).all()
    # and is the OpenCV +z axis: OpenGL -z of transform_matrix
    gl_forward = -torch.tensor(np.stack([f.c2w[:3, 2] for f in dataset.frames[:5]]), dtype=torch.float32)
    assert torch.allclose(dirs, gl_forward, atol=1e-3)


def test_undistort_inverts_opencv_model() -> None:
    dist = torch.tensor([0.0578421, -0.0805099, -0.000980296, 0.00015575])
    x, y = torch.meshgrid(torch.linspace(-0.45, 0.45, 9), torch.linspace(-0.75, 0.75, 9), indexing="ij")
    xd, yd = distort(x, y, dist)
    xu, yu = undistort(xd, yd, dist)
    assert torch.allclose(xu, x, atol=1e-5) and torch.allclose(yu, y, atol=1e-5)


def test_synthetic_scene_images_have_alpha(tmp_path: Path) -> None:
    with pytest.warns(DatasetWarning, match="skipped 2 of 6"):
        dataset = load_transforms(write_scene(tmp_path, n_views=6, size=16, missing=2))
    image = load_image(dataset.frames[0])
    assert image.shape == (16, 16, 4) and 0 < image[..., 3].mean() < 1


def test_bad_files_name_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "transforms.json"
    path.write_text('{"frames": [\n  {"file_path": "a.png",}\n]}')
    with pytest.raises(DatasetError, match=r"transforms.json:2: invalid JSON"):
        load_transforms(path)
    write_scene(tmp_path, n_views=2, size=8)
    doc = json.loads(path.read_text())
    doc["fl_x"] = "wide"
    path.write_text(json.dumps(doc))
    with pytest.raises(DatasetError, match="'fl_x' must be a finite number"):
        load_transforms(tmp_path)
    doc["fl_x"], doc["aabb_scale"] = 10.0, 3
    path.write_text(json.dumps(doc))
    with pytest.raises(DatasetError, match="aabb_scale must be a power of two"):
        load_transforms(tmp_path)
