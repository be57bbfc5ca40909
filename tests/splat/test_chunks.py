"""Spatial chunks and compaction (torch reference): the index partitions the splats, its boxes hold
their supports, culling never drops a splat the projection would draw, and compacted renders give
the same pixels as uncompacted ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from render.assets import PinholeCamera
from render.camera_poses import look_at_camera
from render.splat import rasterize as raster_api
from render.splat.chunk_culling import MOSTLY_VISIBLE, select_chunks, visible_chunks
from render.splat.chunks import SplatChunks, build_chunks, chunk_size_for, chunk_slots, chunks_for
from render.splat.model import SplatModel
from render.splat.project_torch import project_splats
from render.splat.raster_inputs import RasterCamera, crop_mask, support_radius
from render.splat.rasterize import rasterize_splats
from tests.splat.test_rasterize import camera, random_scene
from vpstage.geometry import OrientedBox, quat_to_matrix


def world_scene(n: int, seed: int) -> SplatModel:
    """Splats in a 20 m box around the origin: mostly small, some large, a few huge (a sky), some
    faint (below 1/255: never drawn), in every direction from a camera near the middle."""
    rng = np.random.default_rng(seed)
    positions = rng.uniform(-10.0, 10.0, (n, 3))
    scales = np.exp(rng.uniform(-4.5, -1.0, (n, 3)))
    scales[: n // 20] *= 30.0
    scales[n // 20: n // 18] *= 400.0
    opacities = rng.uniform(0.0, 1.0, n)
    opacities[: n // 50] = 0.002
    sh = rng.uniform(-1.0, 1.0, (n, 4, 3)) * [[1.5], [0.4], [0.4], [0.4]]
    return SplatModel.from_numpy(positions, scales, rng.normal(size=(n, 4)), opacities, sh)


def random_view(rng: np.random.Generator) -> tuple[PinholeCamera, tuple[int, int, int, int], OrientedBox | None]:
    """A camera somewhere in the scene looking anywhere (wide to long lenses), a window of it and a
    crop (none, a box, or a thin slab)."""
    width, height = 96, 64
    eye = rng.uniform(-6.0, 6.0, 3)
    target = eye + rng.normal(size=3)
    up = rng.normal(size=3)
    cam = look_at_camera(eye, target, up, width=width, height=height, vertical_fov_deg=float(rng.uniform(15, 110)))
    x0, y0 = int(rng.integers(0, width - 8)), int(rng.integers(0, height - 8))
    rect = (x0, y0, int(rng.integers(x0 + 1, width + 1)), int(rng.integers(y0 + 1, height + 1)))
    kind = rng.integers(0, 3)
    if kind == 0:
        return cam, rect, None
    half = rng.uniform(0.5, 6.0, 3) if kind == 1 else np.array([rng.uniform(0.01, 0.2), 8.0, 8.0])
    rotation = quat_to_matrix(_unit(rng.normal(size=4)))
    return cam, rect, OrientedBox(eye + rng.normal(size=3) * 3.0, rotation, half)


def _unit(v: np.ndarray) -> np.ndarray:
    return np.asarray(v / np.linalg.norm(v), dtype=np.float64)


def drawn_ids(model: SplatModel, cam: RasterCamera, crop: OrientedBox | None) -> set[int]:
    """Splats the projection keeps for this window (and, with a crop, whose support reaches it)."""
    proj = project_splats(model.positions, model.quats, model.scales, model.opacities, model.sh, cam)
    ids = proj.ids
    if crop is not None:
        ids = ids[crop_mask(model.positions, crop, support_radius(model.scales, model.opacities))[ids]]
    return set(ids.tolist())


# ---------------------------------------------------------------------------------------- the index
@pytest.mark.parametrize(("n", "size"), [(1000, 16), (777, 64), (5, 8), (64, 64)])
def test_every_splat_is_in_exactly_one_chunk(n: int, size: int) -> None:
    model = world_scene(max(n, 40), seed=n)
    model = model.subset(torch.arange(n))
    chunks = build_chunks(model.positions, model.scales, model.opacities, size)
    perm = chunks.perm.view(chunks.num_chunks, size)
    assert chunks.num_chunks == math.ceil(n / size) and chunks.chunk_size == size
    real = perm[perm >= 0]
    assert sorted(real.tolist()) == list(range(n))  # each splat once
    assert (perm[:-1] >= 0).all() and chunks.counts.sum() == n  # padding only at the end of the last chunk
    np.testing.assert_array_equal(chunks.counts, (perm >= 0).sum(dim=1).numpy())
    last = perm[-1].tolist()
    assert last == sorted(last, key=lambda i: i < 0)


def test_chunk_boxes_hold_their_splats_centres_and_support() -> None:
    model = world_scene(2000, seed=1)
    chunks = build_chunks(model.positions, model.scales, model.opacities, 32)
    radii = support_radius(model.scales, model.opacities).double()
    lo, hi = chunks.support_bounds()
    for c in range(chunks.num_chunks):
        ids = chunks.perm[c * 32:(c + 1) * 32]
        ids = ids[ids >= 0].long()
        centres = model.positions[ids].double().numpy()
        assert (centres >= chunks.lo[c]).all() and (centres <= chunks.hi[c]).all()
        reach = radii[ids].numpy()[:, None]
        assert (centres - reach >= lo[c]).all() and (centres + reach <= hi[c]).all()
        assert chunks.radius[c] >= reach.max()


def test_chunks_are_spatially_compact() -> None:
    """Morton order: a chunk of 1 % of a uniform scene spans far less than the scene."""
    model = world_scene(6400, seed=2)
    chunks = build_chunks(model.positions, model.scales, model.opacities, 64)
    extent = (chunks.hi - chunks.lo).max(axis=1)
    assert np.median(extent) < 0.5 * 20.0


def test_chunk_size_follows_the_splat_count_and_device() -> None:
    assert chunk_size_for(300_000, "cuda") == 512 and chunk_size_for(3_000_000, "cuda") == 4096
    assert chunk_size_for(300_000, "cpu") == 64 and chunk_size_for(100, "cpu") == 32


def test_chunk_slots_round_up_in_quarter_steps_of_powers_of_two() -> None:
    assert [chunk_slots(n, 1000) for n in (0, 1, 4, 5, 8, 9, 11, 17, 33, 100)] == [0, 4, 4, 5, 8, 10, 12, 20, 40, 112]
    assert chunk_slots(900, 950) == 950 and chunk_slots(2, 3) == 3  # never more than the index holds
    for live in range(1, 3000):
        slots = chunk_slots(live, 10**6)
        assert live <= slots <= max(4, live * 1.25)


def test_index_is_cached_per_model_and_rebuilt_after_an_in_place_edit() -> None:
    model = world_scene(500, seed=3)
    first = chunks_for(model.positions, model.scales, model.opacities)
    assert chunks_for(model.positions, model.scales, model.opacities) is first
    model.positions[0] += 100.0  # moved in place: the old boxes would be wrong
    assert chunks_for(model.positions, model.scales, model.opacities) is not first


def test_a_splat_with_a_non_finite_centre_keeps_its_chunk() -> None:
    model = world_scene(64, seed=4)
    model.positions[3, 0] = float("nan")
    chunks = build_chunks(model.positions, model.scales, model.opacities, 8)
    cam = RasterCamera.from_pinhole(camera(32, 32), None, "cpu")
    away = OrientedBox(np.array([500.0, 0.0, 0.0]), np.eye(3), np.ones(3))
    holder = int((chunks.perm == 3).nonzero()[0, 0]) // 8
    assert holder in visible_chunks(chunks, cam, away).tolist()


# ---------------------------------------------------------------------------------------- culling
def test_culling_never_drops_a_splat_the_projection_draws() -> None:
    """Property over random cameras (inside the scene, any direction, 15-110 degree lenses), windows
    and crops: every splat the projection keeps lies in a visible chunk; and culling culls."""
    model = world_scene(3000, seed=5)
    chunks = build_chunks(model.positions, model.scales, model.opacities, 16)
    rng = np.random.default_rng(6)
    kept_fractions = []
    for _ in range(40):
        pinhole, rect, crop = random_view(rng)
        cam = RasterCamera.from_pinhole(pinhole, rect, "cpu")
        visible = visible_chunks(chunks, cam, crop)
        candidates = set(chunks.splat_ids(visible).tolist())
        missing = drawn_ids(model, cam, crop) - candidates
        assert not missing, f"culled splats the projection draws: {sorted(missing)[:10]}"
        kept_fractions.append(len(candidates) / model.num_splats)
    assert np.median(kept_fractions) < 0.5 and min(kept_fractions) < 0.15


def test_culling_one_splat_per_chunk_keeps_every_drawn_splat() -> None:
    """Chunks of one splat test the plane bounds themselves (no slack from a chunk's other splats):
    large splats beyond the edges of wide lenses, whose projected extent grows with the ray's slope."""
    model = world_scene(1500, seed=13)
    chunks = build_chunks(model.positions, model.scales, model.opacities, 1)
    rng = np.random.default_rng(14)
    for _ in range(25):
        pinhole, rect, crop = random_view(rng)
        cam = RasterCamera.from_pinhole(pinhole, rect, "cpu")
        candidates = set(chunks.splat_ids(visible_chunks(chunks, cam, crop)).tolist())
        assert drawn_ids(model, cam, crop) <= candidates


def test_a_splat_the_low_pass_spreads_into_the_window_is_kept() -> None:
    """Tiny splats centred up to 1.3 px outside the window still touch its edge pixel centres (the
    0.3 px^2 dilation reaches 1.82 px); their chunks are kept, those 4 px or more out are culled."""
    offsets_px = np.array([0.5, 1.2, 1.7, 2.5, 4.0, 8.0])
    f, z = 100.0, 5.0
    x_image = 40.0 + offsets_px  # the window's right edge is at x = 40
    positions = np.stack([(x_image - 32.0) * z / f, np.zeros(6), np.full(6, z)], axis=1)
    model = SplatModel.from_numpy(positions, np.full((6, 3), 1e-5), np.tile([1.0, 0, 0, 0], (6, 1)),
                                  np.full(6, 0.99), np.zeros((6, 1, 3)))
    chunks = build_chunks(model.positions, model.scales, model.opacities, 1)
    cam = RasterCamera.from_pinhole(camera(64, 48, f=f), (0, 0, 40, 48), "cpu")
    drawn = drawn_ids(model, cam, None)
    kept = set(chunks.splat_ids(visible_chunks(chunks, cam, None)).tolist())
    assert drawn == {0, 1} and drawn <= kept
    assert {4, 5}.isdisjoint(kept)


def test_culling_follows_the_window_edges_closely() -> None:
    """Splats on a wall facing the camera: a window's chunks hold little beyond its own splats."""
    rng = np.random.default_rng(7)
    n = 4096
    positions = np.stack([rng.uniform(-4, 4, n), rng.uniform(-3, 3, n), np.full(n, 5.0)], axis=1)
    model = SplatModel.from_numpy(positions, np.full((n, 3), 0.01), np.tile([1.0, 0, 0, 0], (n, 1)),
                                  np.full(n, 0.9), np.zeros((n, 1, 3)))
    chunks = build_chunks(model.positions, model.scales, model.opacities, 16)
    cam = RasterCamera.from_pinhole(camera(160, 120, f=20.0), (0, 0, 20, 120), "cpu")  # the left eighth
    candidates = chunks.splat_count(visible_chunks(chunks, cam, None))
    assert len(drawn_ids(model, cam, None)) <= candidates < 0.25 * n


# ---------------------------------------------------------------------------------------- pixels
def _same_pixels(a, b) -> None:  # type: ignore[no-untyped-def]
    torch.testing.assert_close(a.rgb, b.rgb, atol=1e-6, rtol=0)
    torch.testing.assert_close(a.alpha, b.alpha, atol=1e-6, rtol=0)
    torch.testing.assert_close(a.depth, b.depth, atol=1e-5, rtol=1e-6)


CROPS = {
    "none": None,
    "box": OrientedBox(np.array([0.3, -0.2, 5.5]), quat_to_matrix(np.array([0.9, 0.1, 0.3, -0.2])),
                       np.array([1.2, 0.8, 1.5])),
    "sliver": OrientedBox(np.array([0.0, -1.2, 5.0]), np.eye(3), np.array([3.0, 0.08, 4.0])),
    "nothing": OrientedBox(np.array([0.0, 0.0, -40.0]), np.eye(3), np.array([1.0, 1.0, 1.0])),
}


@pytest.mark.parametrize(("crop", "rect"), [("none", None), ("box", None), ("box", (5, 2, 27, 44)),
                                          ("sliver", (0, 40, 64, 44)), ("nothing", None)])
def test_compacted_render_gives_the_same_pixels(crop: str, rect: tuple[int, int, int, int] | None) -> None:
    model = random_scene(400, seed=8, degree=1)
    chunks = build_chunks(model.positions, model.scales, model.opacities, 8)
    kwargs = {"rect": rect, "crop": CROPS[crop], "background": (0.1, 0.2, 0.3)}
    compacted = rasterize_splats(model, camera(64, 48, f=60.0), chunks=chunks, **kwargs)
    plain = rasterize_splats(model, camera(64, 48, f=60.0), chunks="off", **kwargs)
    _same_pixels(compacted, plain)
    assert compacted.stats["candidates"] <= model.num_splats and "candidates" not in plain.stats
    if crop == "nothing":
        assert compacted.stats["candidates"] == 0 and float(plain.alpha.max()) == 0.0


def test_compacted_render_gives_the_same_pixels_from_random_cameras() -> None:
    model = world_scene(1500, seed=9)
    chunks = build_chunks(model.positions, model.scales, model.opacities, 16)
    rng = np.random.default_rng(10)
    for _ in range(4):
        pinhole, rect, crop = random_view(rng)
        compacted = rasterize_splats(model, pinhole, rect=rect, crop=crop, chunks=chunks)
        _same_pixels(compacted, rasterize_splats(model, pinhole, rect=rect, crop=crop, chunks="off"))


def test_auto_chunks_compact_with_the_cached_index_only_when_compaction_is_on(monkeypatch: pytest.MonkeyPatch) -> None:
    model = random_scene(300, seed=11)
    assert "candidates" not in rasterize_splats(model, camera(), rect=(0, 0, 16, 16)).stats  # off by default
    monkeypatch.setattr(raster_api, "COMPACT", True)
    out = rasterize_splats(model, camera(), rect=(0, 0, 16, 16))
    assert "candidates" in out.stats
    assert isinstance(chunks_for(model.positions, model.scales, model.opacities), SplatChunks)


def test_a_frame_that_sees_almost_every_splat_runs_uncompacted() -> None:
    model = random_scene(400, seed=15)
    chunks = build_chunks(model.positions, model.scales, model.opacities, 8)
    whole = RasterCamera.from_pinhole(camera(64, 48, f=30.0), None, "cpu")  # everything in view
    assert chunks.splat_count(visible_chunks(chunks, whole, None)) > MOSTLY_VISIBLE * model.num_splats
    assert select_chunks(chunks, whole, None) is None
    corner = RasterCamera.from_pinhole(camera(64, 48, f=30.0), (0, 0, 8, 8), "cpu")
    assert select_chunks(chunks, corner, None) is not None
    out = rasterize_splats(model, camera(64, 48, f=30.0), chunks=chunks)
    assert out.stats["candidates"] == model.num_splats


def test_an_index_of_another_model_is_refused() -> None:
    model = random_scene(100, seed=12)
    other = build_chunks(model.positions[:50], model.scales[:50], model.opacities[:50], 8)
    with pytest.raises(ValueError, match="chunk index holds 50 splats"):
        rasterize_splats(model, camera(), chunks=other)
