"""The .bnerf file: a save/load round trip renders identically; malformed files fail clearly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load, save

from render.assets import AssetError, PinholeCamera, load_asset
from render.nerf.baked.asset import BakedNerfAsset
from render.nerf.baked.bake.distill import BakeResult
from render.nerf.baked.baked_format import HEADER_KEY, baked_file_bytes, save_baked
from vpstage.geometry.rotations import look_at_rotation

Tensors = dict[str, torch.Tensor]


def front_camera(size: int = 24) -> PinholeCamera:
    eye = np.array([0.3, -2.4, 0.5])
    c2w = np.eye(4)
    c2w[:3, :3] = look_at_rotation(eye, np.zeros(3))
    c2w[:3, 3] = eye
    return PinholeCamera(world_to_camera=np.linalg.inv(c2w), fx=size, fy=size, cx=size / 2, cy=size / 2,
                         width=size, height=size)


def test_round_trip_renders_identically(tiny_bake: BakeResult, tmp_path: Path) -> None:
    path = tmp_path / "spheres.bnerf"
    save_baked(tiny_bake.model, path)
    save_baked(tiny_bake.model, path)  # overwriting is fine, and leaves no temporary files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spheres.bnerf"]
    loaded = load_asset(path)
    assert isinstance(loaded, BakedNerfAsset) and loaded.kind == "baked-nerf" and loaded.name == "spheres"
    original = BakedNerfAsset(tiny_bake.model, "original")
    camera = front_camera()
    a, b = original.render_pinhole(camera), loaded.render_pinhole(camera)
    assert float(a.alpha.max()) > 0.9  # the spheres are in view
    assert torch.equal(a.rgb, b.rgb) and torch.equal(a.alpha, b.alpha) and torch.equal(a.depth, b.depth)
    assert loaded.content_hash() == original.content_hash()
    assert loaded.model.metadata["bake"]["steps"] == tiny_bake.steps
    assert np.allclose(loaded.bounds(), original.bounds())


def _rewrite(data: bytes, edit: Callable[[dict[str, Any], Tensors], None]) -> bytes:
    length = int.from_bytes(data[:8], "little")
    header = json.loads(json.loads(data[8:8 + length])["__metadata__"][HEADER_KEY])
    tensors = load(data)
    edit(header, tensors)
    return save(tensors, metadata={HEADER_KEY: json.dumps(header)})


def _drop_tensor(name: str) -> Callable[[dict[str, Any], Tensors], None]:
    def edit(_header: dict[str, Any], tensors: Tensors) -> None:
        del tensors[name]
    return edit


def _set_header(path: str, value: Any) -> Callable[[dict[str, Any], Tensors], None]:
    def edit(header: dict[str, Any], _t: Tensors) -> None:
        *parents, last = path.split(".")
        node = header
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return edit


def _nan_brick(_h: dict[str, Any], t: Tensors) -> None:
    t["density_bricks"] = t["density_bricks"].clone()
    t["density_bricks"][0, 0, 0, 0] = float("nan")


CASES: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("empty", lambda d: b"", "too short"),
    ("not safetensors", lambda d: b"\xff" * 64, "runs past the end"),
    ("no header", lambda d: save({"x": torch.zeros(2)}), "no JSON header"),
    ("other format", lambda d: _rewrite(d, _set_header("format", "vpstage-nerf")), "not a vpstage-baked-nerf file"),
    ("newer version", lambda d: _rewrite(d, _set_header("version", 99)), "version 99 is not supported"),
    ("missing field", lambda d: _rewrite(d, _set_header("texture.brick_size", None)), "'texture.brick_size'"),
    ("bad origin", lambda d: _rewrite(d, _set_header("texture.origin", [0, 1])), "'texture.origin'"),
    ("missing tensor", lambda d: _rewrite(d, _drop_tensor("density_bricks")), "'density_bricks' is missing"),
    ("wrong count", lambda d: _rewrite(d, _set_header("texture.n_bricks", 1)), "'texture.n_bricks'"),
    ("wrong table", lambda d: _rewrite(d, lambda h, t: t.update(diffuse_table=torch.zeros(3, 2))), "'diffuse_table'"),
    ("non-finite", lambda d: _rewrite(d, _nan_brick), "non-finite"),
    ("truncated", lambda d: d[: len(d) - 1000], "corrupt tensor data"),
]


@pytest.mark.parametrize(("label", "corrupt", "expected"), CASES, ids=[c[0] for c in CASES])
def test_malformed_files_name_the_file_and_the_field(tiny_bake: BakeResult, tmp_path: Path, label: str,
                                                     corrupt: Callable[[bytes], bytes], expected: str) -> None:
    path = tmp_path / "bad.bnerf"
    path.write_bytes(corrupt(baked_file_bytes(tiny_bake.model)))
    with pytest.raises(AssetError) as info:
        load_asset(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert expected in message, message


def test_a_missing_file_is_an_asset_error(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="cannot read"):
        load_asset(tmp_path / "nothing.bnerf")
