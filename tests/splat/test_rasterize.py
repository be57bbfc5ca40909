"""The torch reference rasterizer on analytic cases, culling, windows and the compositing rule."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from render.assets import PinholeCamera
from render.splat.model import SH_C0, SplatModel
from render.splat.project_torch import project_splats
from render.splat.raster_inputs import RasterCamera, crop_mask, support_radius
from render.splat.rasterize import rasterize_splats
from render.splat.rasterize_torch import rasterize_torch
from render.splat.sh import sh_basis
from vpstage.geometry import OrientedBox, quat_to_matrix


def camera(width: int = 64, height: int = 48, f: float = 100.0) -> PinholeCamera:
    """At the origin looking along +z (asset frame = OpenCV camera frame)."""
    return PinholeCamera(world_to_camera=np.eye(4), fx=f, fy=f, cx=width / 2, cy=height / 2, width=width, height=height)


def splats(positions, scales, opacities, colours, quats=None) -> SplatModel:  # type: ignore[no-untyped-def]
    positions = np.asarray(positions, dtype=np.float32).reshape(-1, 3)
    n = positions.shape[0]
    scales = np.broadcast_to(np.asarray(scales, dtype=np.float32).reshape(-1, 1 if np.ndim(scales) < 2 else 3),
                             (n, 3))
    quats = np.tile([1.0, 0, 0, 0], (n, 1)) if quats is None else quats
    dc = (np.asarray(colours, dtype=np.float32).reshape(n, 3) - 0.5) / SH_C0
    return SplatModel.from_numpy(positions, scales, quats, np.asarray(opacities, dtype=np.float32).reshape(n),
                                 dc[:, None, :])


def random_scene(n: int = 150, seed: int = 0, degree: int = 0) -> SplatModel:
    rng = np.random.default_rng(seed)
    positions = np.stack([rng.uniform(-2, 2, n), rng.uniform(-1.5, 1.5, n), rng.uniform(3, 8, n)], axis=1)
    quats = rng.normal(size=(n, 4))
    k = (degree + 1) ** 2
    sh = np.concatenate([rng.uniform(-1.5, 1.5, (n, 1, 3)), rng.uniform(-0.5, 0.5, (n, k - 1, 3))], axis=1)
    return SplatModel.from_numpy(positions, np.exp(rng.uniform(-4, -1.2, (n, 3))), quats,
                                 rng.uniform(0.05, 1.0, n), sh)


@pytest.mark.parametrize("centre", [(0.0, 0.0, 5.0), (0.4, -0.2, 5.0)])
def test_single_isotropic_gaussian_matches_closed_form(centre) -> None:  # type: ignore[no-untyped-def]
    x, y, z = centre
    s, f, opacity, colour = 0.1, 100.0, 0.8, np.array([1.0, 0.5, 0.25])
    out = rasterize_splats(splats([centre], s, [opacity], [colour]), camera(f=f))
    a, b = x / z, y / z
    cov = (f * s / z) ** 2 * np.array([[1 + a * a, a * b], [a * b, 1 + b * b]]) + 0.3 * np.eye(2)
    u, v = np.meshgrid(np.arange(64) + 0.5, np.arange(48) + 0.5)
    d = np.stack([u - (f * a + 32), v - (f * b + 24)], axis=-1)
    sigma = 0.5 * np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d)
    alpha = np.minimum(0.99, opacity * np.exp(-sigma))
    alpha = np.where(alpha >= 1 / 255, alpha, 0.0)
    np.testing.assert_allclose(out.alpha.numpy(), alpha, atol=2e-6)
    np.testing.assert_allclose(out.rgb.numpy(), alpha[..., None] * colour, atol=2e-6)
    np.testing.assert_allclose(out.depth.numpy(), np.where(alpha > 0, z, 0.0), rtol=1e-5)


def test_near_splat_occludes_far_one_in_any_input_order() -> None:
    near = ([0.0, 0.0, 3.0], 0.3, 1.0, [1.0, 0.0, 0.0])
    far = ([0.0, 0.0, 6.0], 0.6, 0.5, [0.0, 1.0, 0.0])
    images = []
    for first, second in ((near, far), (far, near)):
        model = splats([first[0], second[0]], [[first[1]] * 3, [second[1]] * 3], [first[2], second[2]],
                       [first[3], second[3]])
        images.append(rasterize_splats(model, camera()).rgb)
    torch.testing.assert_close(images[0], images[1])
    centre = images[0][24, 32]
    # the near splat's alpha is clamped to 0.99; the far one gets the remaining 1 % times ~0.5
    assert centre[0] == pytest.approx(0.99, abs=1e-3)
    assert 0.003 < float(centre[1]) < 0.006
    assert float(images[0][24, 32, 2]) == 0.0


def test_crop_box_removes_exactly_the_splats_whose_support_is_outside() -> None:
    model = random_scene(300, seed=2)
    rotation = quat_to_matrix(np.array([0.9, 0.1, 0.3, -0.2]))
    box = OrientedBox(np.array([0.3, -0.2, 5.5]), rotation, np.array([1.2, 0.8, 1.5]))
    radii = support_radius(model.scales, model.opacities)
    inside = crop_mask(model.positions, box, radii)
    # independently: alpha = o exp(-d^2 / 2) reaches 1/255 out to d = sqrt(2 ln(255 o)) scales
    scales, opacities = model.scales.double().numpy(), model.opacities.double().numpy()
    reach = scales.max(axis=1) * np.sqrt(2.0 * np.log(np.maximum(255.0 * opacities, 1.0)))
    local = np.abs((model.positions.double().numpy() - box.center) @ box.rotation)
    np.testing.assert_array_equal(inside.numpy(), (local <= box.half_extents + reach[:, None]).all(axis=1))
    centres_in = crop_mask(model.positions, box)
    np.testing.assert_array_equal(centres_in.numpy(), box.contains(model.positions.double().numpy()))
    assert 0 < int(centres_in.sum()) < int(inside.sum()) < model.num_splats
    cropped = rasterize_splats(model, camera(), crop=box)
    manual = rasterize_splats(model.subset(inside), camera())
    torch.testing.assert_close(cropped.rgb, manual.rgb)
    torch.testing.assert_close(cropped.depth, manual.depth)
    full = rasterize_splats(model, camera())
    assert float((full.alpha - cropped.alpha).abs().max()) > 0.1


def test_splat_centred_outside_the_crop_but_reaching_into_it_is_kept() -> None:
    """No seam where two DoD crops meet: a wide splat whose centre is just outside still draws."""
    box = OrientedBox(np.array([0.0, 0.0, 5.0]), np.eye(3), np.array([0.5, 0.5, 0.5]))
    wide = splats([(0.6, 0.0, 5.0)], 0.2, [0.9], [np.array([1.0, 1.0, 1.0])])
    narrow = splats([(0.6, 0.0, 5.0)], 0.01, [0.9], [np.array([1.0, 1.0, 1.0])])
    assert float(rasterize_splats(wide, camera(), crop=box).alpha.max()) > 0.5
    assert float(rasterize_splats(narrow, camera(), crop=box).alpha.max()) == 0.0


def test_window_render_equals_the_same_region_of_the_full_render() -> None:
    model = random_scene(200, seed=3, degree=2)
    cam = camera(96, 64, f=80.0)
    full = rasterize_splats(model, cam, background=(0.1, 0.2, 0.3))
    rect = (13, 7, 77, 51)
    part = rasterize_splats(model, cam, rect=rect, background=(0.1, 0.2, 0.3))
    assert part.rgb.shape == (44, 64, 3)
    region = (slice(7, 51), slice(13, 77))
    torch.testing.assert_close(part.rgb, full.rgb[region], atol=1e-5, rtol=0)
    torch.testing.assert_close(part.alpha, full.alpha[region], atol=1e-5, rtol=0)
    torch.testing.assert_close(part.depth, full.depth[region], atol=1e-4, rtol=1e-5)


def test_tile_size_does_not_change_the_image() -> None:
    model = random_scene(200, seed=4, degree=1)
    base = RasterCamera.from_pinhole(camera(70, 50), None, "cpu")
    bg = (0.0, 0.0, 0.0)
    images = [rasterize_torch(model.positions, model.quats, model.scales, model.opacities, model.sh,
                              dataclasses.replace(base, tile_size=size), bg).rgb for size in (3, 4, 16)]
    torch.testing.assert_close(images[0], images[2], atol=1e-5, rtol=0)
    torch.testing.assert_close(images[1], images[2], atol=1e-5, rtol=0)


def _sequential_reference(model: SplatModel, cam: PinholeCamera) -> np.ndarray:
    """Per-pixel loop over depth-sorted splats: the textbook 3DGS blending rule."""
    proj = project_splats(model.positions, model.quats, model.scales, model.opacities, model.sh,
                          RasterCamera.from_pinhole(cam, None, "cpu"))
    order = np.argsort(proj.depths.numpy(), kind="stable")
    mean, conic = proj.means2d.numpy()[order], proj.conics.numpy()[order]
    opac, colour = proj.opacities.numpy()[order], proj.colors.numpy()[order]
    image = np.zeros((cam.height, cam.width, 3))
    for i in range(cam.height):
        for j in range(cam.width):
            t, rgb = 1.0, np.zeros(3)
            for g in range(len(order)):
                dx, dy = j + 0.5 - mean[g, 0], i + 0.5 - mean[g, 1]
                sigma = 0.5 * (conic[g, 0] * dx * dx + conic[g, 2] * dy * dy) + conic[g, 1] * dx * dy
                alpha = min(0.99, opac[g] * math.exp(-sigma))
                if sigma < 0 or alpha < 1 / 255:
                    continue
                if t * (1 - alpha) < 1e-4:
                    break
                rgb += colour[g] * alpha * t
                t *= 1 - alpha
            image[i, j] = rgb
    return image


def test_compositing_follows_the_sequential_rule() -> None:
    model = random_scene(40, seed=5)
    model.opacities[:] = torch.where(model.opacities > 0.5, torch.ones(()), model.opacities)  # hit the 0.99 clamp
    cam = camera(24, 18, f=30.0)
    out = rasterize_splats(model, cam)
    np.testing.assert_allclose(out.rgb.numpy(), np.clip(_sequential_reference(model, cam), 0, 1), atol=1e-5)


def test_splats_behind_the_camera_or_off_screen_are_culled() -> None:
    model = splats([[0, 0, -5.0], [50.0, 0, 5.0], [0, 0, 5.0]], 0.1, [1, 1, 1], [[1, 1, 1]] * 3)
    proj = project_splats(model.positions, model.quats, model.scales, model.opacities, model.sh,
                          RasterCamera.from_pinhole(camera(), None, "cpu"))
    assert proj.ids.tolist() == [2]


def test_view_dependent_colour() -> None:
    model = splats([[0.0, 0.0, 0.0]], 0.2, [1.0], [[0.5, 0.5, 0.5]])
    sh = torch.zeros(1, 4, 3)
    sh[0, 0] = 0.0
    sh[0, 3] = 0.5  # degree-1 x term: -C1 * x * coefficient
    model = dataclasses.replace(model, sh=sh)
    colours = []
    for side in (1.0, -1.0):  # camera on +x then -x, looking at the origin
        eye = np.array([4.0 * side, 0.0, 0.0])
        from render.camera_poses import look_at_camera

        cam = look_at_camera(eye, np.zeros(3), np.array([0.0, 0.0, 1.0]), width=32, height=32, vertical_fov_deg=30)
        colours.append(float(rasterize_splats(model, cam).rgb[16, 16, 0]))
    # viewing direction (splat - camera) is -x from +x: colour 0.5 + C1 * 0.5 > 0.5, and the reverse
    assert colours[0] > 0.6 > 0.4 > colours[1]


def test_sh_basis_is_orthonormal() -> None:
    dirs = torch.nn.functional.normalize(torch.randn(400_000, 3, generator=torch.Generator().manual_seed(0),
                                                     dtype=torch.float64), dim=1)
    basis = sh_basis(dirs, 3)
    gram = basis.T @ basis * (4 * math.pi / dirs.shape[0])
    torch.testing.assert_close(gram, torch.eye(16, dtype=torch.float64), atol=0.02, rtol=0)


def test_background_fills_uncovered_pixels() -> None:
    model = splats([[0.0, 0.0, 5.0]], 0.05, [1.0], [[1.0, 1.0, 1.0]])
    out = rasterize_splats(model, camera(), background=(0.2, 0.4, 0.6))
    torch.testing.assert_close(out.rgb[0, 0], torch.tensor([0.2, 0.4, 0.6]))
    assert float(out.alpha[0, 0]) == 0.0 and float(out.depth[0, 0]) == 0.0
