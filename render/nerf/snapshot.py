"""Loading NeRF assets by file type (the entry point registered in render/assets.py LOADERS).

* ``.ingp`` / ``.msgpack``: instant-ngp snapshots (render/nerf/ngp_snapshot.py);
* ``.nerf``: our own directory format (render/nerf/nerf_format.py).
"""

from __future__ import annotations

from pathlib import Path

from render.assets import AssetError
from render.nerf.asset import NerfAsset
from render.nerf.model import NerfModel
from render.nerf.nerf_format import load_nerf, save_nerf
from render.nerf.ngp_snapshot import load_snapshot, save_snapshot


def load_model(path: str | Path) -> NerfModel:
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".ingp", ".msgpack"):
        return load_snapshot(p)
    if suffix == ".nerf":
        return load_nerf(p)
    raise AssetError(f"{p}: unknown NeRF file type {suffix!r} (known: .ingp, .msgpack, .nerf)")


def save_model(model: NerfModel, path: str | Path) -> None:
    """Save by suffix: ``.nerf`` (our format), ``.ingp`` or ``.msgpack`` (instant-ngp snapshot)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".ingp", ".msgpack"):
        save_snapshot(model, p)
    elif suffix == ".nerf":
        save_nerf(model, p)
    else:
        raise AssetError(f"{p}: cannot save a NeRF as {suffix!r} (use .nerf, .ingp or .msgpack)")


def load_nerf_asset(path: str, device: str = "cpu") -> NerfAsset:
    """Loader for render.assets.load_asset: the asset on ``device`` with the automatic backend."""
    model = load_model(path)
    try:
        model.to(device)
    except (RuntimeError, AssertionError) as exc:
        raise AssetError(f"{path}: cannot move the NeRF to device {device!r}: {exc}") from exc
    return NerfAsset(model, Path(path).stem)
