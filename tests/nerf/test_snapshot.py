"""instant-ngp snapshot import/export and our .nerf format: layouts, conventions, round trips."""

from __future__ import annotations

import gzip
from pathlib import Path

import msgpack
import numpy as np
import pytest
import torch

from render.assets import AssetError, PinholeCamera, SceneAsset, load_asset
from render.nerf.asset import NerfAsset
from render.nerf.conventions import (
    asset_to_field_matrix,
    box_from_ngp,
    box_to_ngp,
    nerf_matrix_to_ngp,
    ngp_matrix_to_nerf,
)
from render.nerf.model_components.renderers import TorchBackend
from render.nerf.snapshot import load_model, save_model
from tests.nerf.helpers import model_with_grid, random_field, small_config
from vpstage.geometry import OrientedBox, look_at_rotation

FOX_LIKE_FRAME = {"file_path": "images/0001.jpg", "fl_x": 40.0, "fl_y": 41.0, "cx": 16.0, "cy": 15.0, "w": 32,
                  "h": 30, "k1": 0.05, "k2": -0.08, "p1": -0.001, "p2": 0.0002}


def snapshot_model(grid_res: int = 128, fp16: bool = True):
    field = random_field(small_config(), seed=3, grid_range=0.5, fp16=fp16)
    rng = torch.Generator().manual_seed(4)
    occupied = torch.rand(2, grid_res, grid_res, grid_res, generator=rng) < 0.3
    model = model_with_grid(field, occupied, n_cascades=2, resolution=grid_res, aabb_scale=2.0, scale=0.33,
                            cone_angle=1 / 256, min_step=3**0.5 / 1024)
    model.grid.density.copy_(model.grid.density.half().float())
    frame = dict(FOX_LIKE_FRAME, transform_matrix=np.array(
        [[0.89, 0.09, 0.44, 3.17], [0.45, -0.04, -0.89, -5.48], [-0.06, 1.0, -0.07, -0.98], [0, 0, 0, 1.0]]).tolist())
    model.metadata["frames"] = [frame]
    return model


def camera_looking_at_origin(eye: np.ndarray, size: int) -> PinholeCamera:
    rot = look_at_rotation(eye, np.zeros(3))
    w2c = np.eye(4)
    w2c[:3, :3] = rot.T
    w2c[:3, 3] = -rot.T @ eye
    return PinholeCamera(world_to_camera=w2c, fx=2.0 * size, fy=2.0 * size, cx=size / 2, cy=size / 2, width=size,
                         height=size)


def render(asset: NerfAsset, camera: PinholeCamera):
    return asset.with_backend("torch").render_pinhole(camera, background=(0.2, 0.3, 0.4))


def test_round_trip_gives_identical_renders(tmp_path: Path) -> None:
    model = snapshot_model()
    camera = camera_looking_at_origin(np.array([2.0, -3.0, 1.0]), size=10)
    original = render(NerfAsset(model, "orig"), camera)
    assert float(original.alpha.mean()) > 0.05  # something is visible
    for suffix in (".ingp", ".msgpack", ".nerf"):
        path = tmp_path / f"scene{suffix}"
        save_model(model, path)
        loaded = load_asset(path)
        assert isinstance(loaded, SceneAsset) and isinstance(loaded, NerfAsset)
        again = render(loaded, camera)
        for a, b in ((original.rgb, again.rgb), (original.alpha, again.alpha), (original.depth, again.depth)):
            assert torch.equal(a, b), suffix
        assert loaded.content_hash() == NerfAsset(model, "orig").content_hash()


def test_ingp_is_gzip_and_msgpack_is_raw(tmp_path: Path) -> None:
    model = snapshot_model()
    save_model(model, tmp_path / "a.ingp")
    save_model(model, tmp_path / "a.msgpack")
    gz, raw = (tmp_path / "a.ingp").read_bytes(), (tmp_path / "a.msgpack").read_bytes()
    assert gz[:2] == b"\x1f\x8b"
    assert msgpack.unpackb(gzip.decompress(gz)) == msgpack.unpackb(raw)


def test_snapshot_layout(tmp_path: Path) -> None:
    model = snapshot_model()
    save_model(model, tmp_path / "a.msgpack")
    doc = msgpack.unpackb((tmp_path / "a.msgpack").read_bytes())
    snap = doc["snapshot"]
    assert snap["version"] == 1 and snap["mode"] == "Nerf" and snap["params_type"] == "__half"
    params = np.frombuffer(snap["params_binary"], dtype=np.float16)
    assert params.size == snap["n_params"] == model.field.n_params
    w0 = model.field.density_mlp.weights[0].detach().numpy()
    assert params[3 * w0.shape[1] + 5] == np.float16(w0[3, 5])  # density MLP first, row-major
    grid = np.frombuffer(snap["density_grid_binary"], dtype=np.float16)
    assert snap["density_grid_size"] == 128 and grid.size == 2 * 128**3
    assert doc["encoding"]["otype"] == "HashGrid" and doc["encoding"]["n_levels"] == 8
    assert doc["network"]["n_hidden_layers"] == 1 and doc["rgb_network"]["n_hidden_layers"] == 2
    assert snap["aabb"] == {"min": [-0.5] * 3, "max": [1.5] * 3}
    dataset = snap["nerf"]["dataset"]
    assert dataset["scale"] == pytest.approx(0.33) and dataset["offset"] == pytest.approx([0.5, 0.5, 0.5])
    # camera matrix: OpenGL -> flip y/z columns, scale + offset the translation, cycle the rows
    c2w = np.asarray(model.metadata["frames"][0]["transform_matrix"])
    expected = c2w[:3].copy()
    expected[:, 1:3] *= -1
    expected[:, 3] = expected[:, 3] * 0.33 + 0.5
    expected = expected[[1, 2, 0]]
    np.testing.assert_allclose(np.asarray(dataset["xforms"][0]["start"]), expected, atol=1e-12)
    assert dataset["metadata"][0]["principal_point"] == pytest.approx([0.5, 0.5])


def test_axis_cycle_and_scale_convention() -> None:
    m = asset_to_field_matrix(0.5, (0.5, 0.5, 0.5))
    p = m @ np.array([1.0, 2.0, 3.0, 1.0])
    np.testing.assert_allclose(p[:3], [1.5, 2.0, 1.0])  # (x,y,z)*0.5+0.5 = (1, 1.5, 2), cycled to (y, z, x)
    c2w = np.eye(4)
    c2w[:3, 3] = [1.0, 2.0, 3.0]
    back = ngp_matrix_to_nerf(nerf_matrix_to_ngp(c2w, m), m)
    np.testing.assert_allclose(back, c2w, atol=1e-12)


def test_render_box_round_trip(tmp_path: Path) -> None:
    model = snapshot_model()
    rot = look_at_rotation(np.array([1.0, 2.0, 0.5]), np.zeros(3))
    model.render_box = OrientedBox(np.array([0.1, -0.2, 0.3]), rot, np.array([0.8, 0.5, 1.0]))
    save_model(model, tmp_path / "a.ingp")
    box = load_model(tmp_path / "a.ingp").render_box
    assert box is not None
    np.testing.assert_allclose(box.corners(), model.render_box.corners(), atol=1e-9)
    ngp_box = model.box_to_field(model.render_box)
    lo, hi, to_local = box_to_ngp(ngp_box)
    np.testing.assert_allclose(box_from_ngp(lo, hi, to_local).corners(), ngp_box.corners(), atol=1e-12)


def test_import_of_minimal_instant_ngp_document(tmp_path: Path) -> None:
    """A document with only what instant-ngp writes by default (no per_level_scale, float params)."""
    model = snapshot_model(fp16=False)
    field = model.field
    g = field.config.grid
    doc = {
        "encoding": {"otype": "HashGrid", "n_levels": g.n_levels, "n_features_per_level": g.n_features_per_level,
                     "log2_hashmap_size": g.log2_hashmap_size, "base_resolution": g.base_resolution,
                     "per_level_scale": g.per_level_scale},
        "network": {"otype": "FullyFusedMLP", "activation": "ReLU", "output_activation": "None",
                    "n_neurons": 32, "n_hidden_layers": 1},
        "dir_encoding": {"otype": "SphericalHarmonics", "degree": 4},
        "rgb_network": {"otype": "FullyFusedMLP", "activation": "ReLU", "output_activation": "None",
                        "n_neurons": 32, "n_hidden_layers": 2},
        "snapshot": {"version": 1, "mode": "Nerf", "params_type": "float",
                     "params_binary": field.flat_params().numpy().tobytes(),
                     "density_grid_size": 128, "density_grid_binary": model.grid.density.half().numpy().tobytes(),
                     "nerf": {"aabb_scale": 2, "dataset": {"scale": 0.33, "offset": [0.5, 0.5, 0.5]}}},
    }
    (tmp_path / "min.msgpack").write_bytes(msgpack.packb(doc))
    loaded = load_model(tmp_path / "min.msgpack")
    assert torch.equal(loaded.field.flat_params(), field.flat_params())
    np.testing.assert_allclose(loaded.aabb_min, [-0.5] * 3)
    np.testing.assert_allclose(loaded.asset_to_field, model.asset_to_field)
    assert loaded.render_box is None and loaded.cone_angle == pytest.approx(1 / 256)
    x = torch.rand(64, 3)
    d = torch.nn.functional.normalize(torch.randn(64, 3), dim=-1)
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(loaded.field(x, d), field(x, d), strict=True))


def test_broken_files_raise_asset_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ingp"
    bad.write_bytes(b"\x1f\x8bnot really gzip")
    with pytest.raises(AssetError, match=r"bad\.ingp"):
        load_asset(bad)
    model = snapshot_model()
    save_model(model, tmp_path / "ok.msgpack")
    doc = msgpack.unpackb((tmp_path / "ok.msgpack").read_bytes())
    doc["snapshot"]["params_binary"] = doc["snapshot"]["params_binary"][:-20]
    doc["snapshot"]["n_params"] -= 10
    (tmp_path / "short.msgpack").write_bytes(msgpack.packb(doc))
    with pytest.raises(AssetError, match=r"short\.msgpack: expected \d+ parameters"):
        load_asset(tmp_path / "short.msgpack")
    (tmp_path / "empty.nerf").mkdir()
    with pytest.raises(AssetError, match=r"nerf\.json"):
        load_asset(tmp_path / "empty.nerf")


def test_nerf_directory_is_replaced_atomically(tmp_path: Path) -> None:
    model = snapshot_model(grid_res=16)
    target = tmp_path / "scene.nerf"
    save_model(model, target)
    model.metadata["note"] = "second"
    save_model(model, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene.nerf"]
    assert sorted(p.name for p in target.iterdir()) == ["nerf.json", "weights.safetensors"]
    assert load_model(target).metadata["note"] == "second"


def test_snapshot_export_needs_instant_ngp_grid_and_steps(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="128"):
        save_model(snapshot_model(grid_res=16), tmp_path / "a.ingp")
    model = snapshot_model()
    model.grid.min_step = 3**0.5 / 128
    with pytest.raises(AssetError, match="1024"):
        save_model(model, tmp_path / "a.ingp")


def test_torch_backend_used_on_cpu() -> None:
    asset = NerfAsset(snapshot_model(grid_res=16), "a")
    assert isinstance(asset.backend, TorchBackend)
    with pytest.raises(RuntimeError, match="Triton backend unavailable"):
        _ = asset.with_backend("triton").backend
