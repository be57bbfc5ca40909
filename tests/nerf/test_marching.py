"""Marching: empty cells are skipped, crop boxes are respected; rendering contracts of NerfAsset."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from render.assets import PinholeCamera
from render.nerf.asset import NerfAsset, crop_window
from render.nerf.model_components.marching import MarchParams, cascade_at, clip_rays, march
from render.nerf.model_components.occupancy import OccupancyGrid, morton3d
from render.nerf.model_components.renderers import RoundSchedule, TorchBackend
from tests.nerf.helpers import model_with_grid, random_field, small_config
from vpstage.geometry import OrientedBox, look_at_rotation

RES = 16


def slab_grid() -> torch.Tensor:
    """Occupied only where 6 <= x < 10 (cells of the one cascade; [z, y, x])."""
    occ = torch.zeros(1, RES, RES, RES, dtype=torch.bool)
    occ[0, :, :, 6:10] = True
    return occ


def rays_along_x(n: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    origins = torch.cat([torch.full((n, 1), -0.5), 0.1 + 0.8 * torch.rand(n, 2, generator=g)], dim=1)
    dirs = torch.tensor([[1.0, 0.0, 0.0]]).repeat(n, 1) + 0.05 * torch.randn(n, 3, generator=g)
    return origins, dirs / dirs.norm(dim=-1, keepdim=True)


def test_morton_code_interleaves_x_lowest() -> None:
    assert int(morton3d(torch.tensor(1), torch.tensor(0), torch.tensor(0))) == 1
    assert int(morton3d(torch.tensor(0), torch.tensor(1), torch.tensor(0))) == 2
    assert int(morton3d(torch.tensor(0), torch.tensor(0), torch.tensor(1))) == 4
    # x=3 (011), y=5 (101), z=6 (110): bits interleave as z2 y2 x2 z1 y1 x1 z0 y0 x0
    assert int(morton3d(torch.tensor(3), torch.tensor(5), torch.tensor(6))) == 0b110_101_011
    assert int(morton3d(torch.tensor(2), torch.tensor(0), torch.tensor(0))) == 8


def test_cascade_choice_is_mip_from_pos() -> None:
    p = torch.tensor([[0.5, 0.5, 0.9], [0.5, 0.5, 1.2], [0.5, 2.0, 0.5], [-3.0, 0.5, 0.5]])
    # |p - 0.5| < 0.5 -> 0, < 1 -> 1, < 2 -> 2 (clamped to the last cascade)
    assert cascade_at(p, 3).tolist() == [0, 1, 2, 2]


def test_coarser_cascades_include_finer_occupancy() -> None:
    grid = OccupancyGrid(2, RES)
    centers = grid.cell_centers(0)
    grid.density[0] = ((centers - 0.3).norm(dim=-1) < 0.05).float()
    grid.update_bitfield()
    inside = torch.tensor([[0.3, 0.3, 0.3]])
    assert bool(grid.lookup(inside, torch.tensor([0]))) and bool(grid.lookup(inside, torch.tensor([1])))
    assert not bool(grid.lookup(torch.tensor([[0.8, 0.8, 0.8]]), torch.tensor([1])))


def test_marching_emits_samples_only_in_occupied_cells() -> None:
    model = model_with_grid(random_field(small_config()), slab_grid(), resolution=RES)
    params = MarchParams.for_grid(1, RES, 0.0, min_step=1 / 256)
    o, d = rays_along_x()
    start, end = clip_rays(o, d, model.clip_boxes(None))
    sample_t, sample_dt, count, _ = march(o, d, start, end, model.grid, params, 1000)
    assert (count > 0).all()
    k = torch.arange(sample_t.shape[1])[None, :] < count[:, None]
    pos = o[:, None, :] + sample_t[..., None] * d[:, None, :]
    cells = torch.floor(pos[..., 0] * RES)
    assert ((cells[k] >= 6) & (cells[k] < 10)).all()
    # the slab is 4/16 thick along x: about 64 steps of 1/256 (rays tilt slightly)
    length_x = 4 / RES / d[:, 0]
    assert ((count.float() - length_x * 256).abs() <= 2).all()
    # skipping: far fewer marching events than fixed stepping through the whole cube would take
    assert float(sample_dt[k].min()) == pytest.approx(1 / 256)


def test_empty_grid_gives_no_samples_and_background() -> None:
    empty = torch.zeros(1, RES, RES, RES, dtype=torch.bool)
    asset = NerfAsset(model_with_grid(random_field(small_config()), empty, resolution=RES), "empty")
    o, d = rays_along_x()
    out = asset.render_rays(o, d, background=(0.1, 0.2, 0.3))
    assert asset.last_stats is not None and asset.last_stats.samples == 0
    assert torch.allclose(out.rgb, torch.tensor([0.1, 0.2, 0.3]).expand(8, 3))
    assert (out.alpha == 0).all() and (out.depth == 0).all()


def test_no_sample_outside_an_oriented_crop_box() -> None:
    model = model_with_grid(random_field(small_config()), resolution=RES)  # asset frame: cube around 0
    rot = look_at_rotation(np.array([1.0, 0.7, 0.4]), np.zeros(3))
    crop = OrientedBox(np.array([-0.05, 0.0, 0.05]), rot, np.array([0.2, 0.12, 0.25]))
    g = torch.Generator().manual_seed(1)
    o = torch.tensor([[0.0, 0.0, -1.5]]) + 0.1 * torch.randn(300, 3, generator=g)
    d = torch.tensor([[0.0, 0.0, 1.0]]) + 0.2 * torch.randn(300, 3, generator=g)
    d = d / d.norm(dim=-1, keepdim=True)
    o_f, d_f = model.rays_to_field(o, d)
    start, end = clip_rays(o_f, d_f, model.clip_boxes(crop))
    sample_t, _, count, _ = march(o_f, d_f, start, end, model.grid, model.march_params(), 2000)
    k = torch.arange(sample_t.shape[1])[None, :] < count[:, None]
    pos_field = (o_f[:, None, :] + sample_t[..., None] * d_f[:, None, :])[k].double().numpy()
    to_asset = np.linalg.inv(model.asset_to_field)
    pos = pos_field @ to_asset[:3, :3].T + to_asset[:3, 3]
    assert len(pos) > 1000
    assert crop.contains(pos, tol=1e-5).all()
    missed = start >= end
    assert missed.any() and (count[missed] == 0).all()
    asset = NerfAsset(model, "a")
    out = asset.render_rays(o, d, crop=crop, background=(1.0, 0.0, 0.0))
    assert (out.alpha[missed] == 0).all() and (out.alpha[~missed] > 0).any()
    assert torch.equal(out.rgb[missed], torch.tensor([1.0, 0.0, 0.0]).expand(int(missed.sum()), 3))


def test_opaque_field_terminates_early() -> None:
    field = random_field(small_config())
    with torch.no_grad():  # every feature 1, so density output 0 is the constant 8: exp(8) per unit length
        field.grid_table.fill_(1.0)
        field.density_mlp.weights[0].fill_(0.1)
        field.density_mlp.weights[-1][0, :] = 8.0 / (0.1 * 16 * field.config.n_neurons)
    model = model_with_grid(field, resolution=RES)  # asset frame: the cube [-0.5, 0.5]^3
    asset = NerfAsset(model, "opaque")
    g = torch.Generator().manual_seed(3)
    o = torch.cat([torch.full((8, 1), -1.0), 0.6 * torch.rand(8, 2, generator=g) - 0.3], dim=1)
    d = torch.tensor([[1.0, 0.0, 0.0]]) + 0.05 * torch.randn(8, 3, generator=g)
    d = d / d.norm(dim=-1, keepdim=True)
    out = asset.render_rays(o, d)
    assert torch.allclose(out.alpha, torch.ones(8))
    # the content starts at the cube face x = -0.5, half a unit from the origins
    assert ((out.depth - 0.5 / d[:, 0]).abs() < 0.05).all()
    assert asset.last_stats is not None and asset.last_stats.samples < 8 * 60


def camera(eye: np.ndarray, target: np.ndarray, size: tuple[int, int] = (20, 14)) -> PinholeCamera:
    rot = look_at_rotation(eye, target)
    w2c = np.eye(4)
    w2c[:3, :3] = rot.T
    w2c[:3, 3] = -rot.T @ eye
    return PinholeCamera(world_to_camera=w2c, fx=18.0, fy=18.0, cx=size[0] / 2, cy=size[1] / 2, width=size[0],
                         height=size[1])


def test_pinhole_rect_equals_window_of_full_render() -> None:
    model = model_with_grid(random_field(small_config(), grid_range=0.3), resolution=RES, scale=0.5)
    asset = NerfAsset(model, "a")
    cam = camera(np.array([1.5, -1.2, 0.8]), np.zeros(3))
    full = asset.render_pinhole(cam, background=(0.0, 0.5, 0.0))
    part = asset.render_pinhole(cam, rect=(5, 3, 17, 11), background=(0.0, 0.5, 0.0))
    assert part.rgb.shape == (8, 12, 3) and part.depth.shape == (8, 12)
    assert torch.allclose(part.rgb, full.rgb[3:11, 5:17], atol=1e-6)
    assert torch.allclose(part.alpha, full.alpha[3:11, 5:17], atol=1e-6)
    assert float(full.alpha.max()) > 0.2
    visible = full.alpha > 0
    assert (full.depth[visible] > 0).all() and (full.depth[~visible] == 0).all()


def test_crop_window_limits_rendered_pixels() -> None:
    cam = camera(np.array([0.0, -4.0, 0.0]), np.zeros(3), size=(40, 40))
    box = OrientedBox(np.zeros(3), np.eye(3), np.array([0.2, 0.2, 0.2]))
    window = crop_window(cam, (0, 0, 40, 40), box)
    assert window is not None
    x0, y0, x1, y1 = window
    assert 10 < x0 < 20 < x1 < 30 and 10 < y0 < 20 < y1 < 30
    assert crop_window(cam, (0, 0, 10, 10), box) is None


def test_pinhole_depth_is_camera_z() -> None:
    field = random_field(small_config())
    inner = torch.zeros(1, RES, RES, RES, dtype=torch.bool)
    inner[0, 3:13, 3:13, 3:13] = True  # keep samples away from the cube faces, where rounding decides
    model = model_with_grid(field, inner, resolution=RES, scale=0.5)
    asset = NerfAsset(model, "a")
    cam = camera(np.array([0.0, -3.0, 0.0]), np.zeros(3), size=(9, 9))
    out = asset.render_pinhole(cam)
    origins = torch.tensor(cam.camera_to_world()[:3, 3], dtype=torch.float32).expand(1, 3)
    c2w = torch.tensor(cam.camera_to_world(), dtype=torch.float32)
    pix = torch.tensor([(1 + 0.5 - 4.5) / 18.0, (7 + 0.5 - 4.5) / 18.0, 1.0])
    direction = c2w[:3, :3] @ pix
    ray = asset.render_rays(origins, (direction / direction.norm())[None])
    assert float(out.depth[7, 1]) == pytest.approx(float(ray.depth[0]) / float(direction.norm()), rel=1e-4)
    assert math.isfinite(float(out.depth.max()))


def test_backends_share_one_compositing_rule() -> None:
    """The reference compositor and a sequential loop agree, termination and renormalisation included."""
    from render.nerf.model_components.renderers import RayState, composite_reference

    g = torch.Generator().manual_seed(5)
    sigma = torch.rand(6, 7, generator=g) * 80
    rgb = torch.rand(6, 7, 3, generator=g)
    t = torch.cumsum(torch.full((6, 7), 0.01), 1)
    dt = torch.full((6, 7), 0.01)
    count = torch.tensor([7, 3, 0, 7, 5, 1])
    state = RayState.empty(6, torch.device("cpu"))
    composite_reference(state, torch.arange(6), sigma, rgb, t, dt, count, 0.05)
    for r in range(6):
        trans, acc = 1.0, torch.zeros(3)
        for k in range(int(count[r])):
            if trans < 0.05:
                break
            a = 1 - math.exp(-float(sigma[r, k]) * 0.01)
            acc += trans * a * rgb[r, k]
            trans *= 1 - a
        if trans < 0.05:
            acc, trans = acc / (1 - trans), 0.0
        assert torch.allclose(state.rgb[r], acc, atol=1e-5)
        assert float(state.transmittance[r]) == pytest.approx(trans, abs=1e-6)


def test_torch_backend_counts_samples() -> None:
    model = model_with_grid(random_field(small_config()), slab_grid(), resolution=RES)
    asset = NerfAsset(model, "a", backend="torch")
    assert isinstance(asset.backend, TorchBackend)
    # the slab 6/16 <= x_normalised < 10/16 is |y| <= 1/8 in the asset frame (axis cycle, offset 0.5)
    o = torch.tensor([[0.1, -1.0, 0.2], [-0.2, -1.0, 0.0], [0.3, -1.0, -0.3], [0.0, -1.0, 0.0]])
    d = torch.tensor([[0.0, 1.0, 0.0]]).repeat(4, 1)
    asset.render_rays(o, d)
    step = 3**0.5 / 128
    assert asset.last_stats is not None and 0 < asset.last_stats.samples <= 4 * math.ceil(0.25 / step + 1)


def test_round_schedule_ramps_up_and_caps() -> None:
    schedule = RoundSchedule(target=1 << 22, max_per_ray=32, min_per_ray=2)
    assert schedule.samples(2_000_000, 0) == 2
    assert [schedule.samples(1000, r) for r in range(7)] == [2, 4, 8, 16, 32, 32, 32]
    assert schedule.samples(300_000, 9) == 8  # about target / alive rays, a power of two
    assert RoundSchedule().max_per_ray == 32
