"""`main.py render`: one image of an asset through a JSON camera."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli import main
from render.camera_poses import look_at_camera


def _camera_json(width: int, height: int) -> str:
    # biker.spz: RDF frame, up is -y; look at the rider from 4 units away
    cam = look_at_camera(np.array([0.0, -2.5, -4.0]), np.array([0.0, -1.6, 0.0]), np.array([0.0, -1.0, 0.0]),
                         width=width, height=height, vertical_fov_deg=50)
    return json.dumps({"world_to_camera": cam.world_to_camera.tolist(), "fx": cam.fx, "fy": cam.fy,
                       "cx": cam.cx, "cy": cam.cy})


def test_render_png_and_depth(tmp_path, shared_data) -> None:
    cv2 = pytest.importorskip("cv2", reason="OpenCV writes the PNG")
    out, depth = tmp_path / "biker.png", tmp_path / "biker_depth.npy"
    code = main(["render", str(shared_data / "splats" / "biker.spz"), "--camera", _camera_json(160, 90),
                 "--width", "160", "--height", "90", "-o", str(out), "--depth", str(depth),
                 "--background", "0,0,1"])
    assert code == 0
    image = cv2.imread(str(out))[..., ::-1]
    assert image.shape == (90, 160, 3)
    assert tuple(image[0, 0]) == (0, 0, 255)  # the corner shows the blue background
    d = np.load(depth)
    covered = d > 0
    assert 0.05 < covered.mean() < 0.9
    assert 2.0 < np.median(d[covered]) < 6.0  # the rider stands about 4 units away


def test_render_rejects_bad_camera(tmp_path, capsys) -> None:
    args = ["render", "procedural:demo", "--width", "32", "--height", "32", "-o", str(tmp_path / "x.png")]
    assert main([*args, "--camera", "{not json"]) == 2
    assert main([*args, "--camera", json.dumps({"world_to_camera": [[1, 0], [0, 1]], "fx": 1, "fy": 1,
                                                "cx": 0, "cy": 0})]) == 2
    assert main([*args, "--camera", json.dumps({"fx": 1})]) == 2
    assert "lacks world_to_camera" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_render_reports_unreadable_asset(tmp_path, capsys) -> None:
    code = main(["render", str(tmp_path / "none.spz"), "--camera", _camera_json(32, 32), "--width", "32",
                 "--height", "32", "-o", str(tmp_path / "x.png")])
    assert code == 1
    assert "none.spz: cannot read file" in capsys.readouterr().err
