# mypy: disable-error-code="no-untyped-def,untyped-decorator"
"""Triton kernels of the fast splat rasterizer (imported only by ``triton_rasterizer``).

Three kernels, each the fused counterpart of a stage of the torch reference. Camera, window,
crop box and background come from a float32 parameter block in device memory (layout: ``P_*``
below), so a frame needs no host values baked into its launches (CUDA-graph friendly):

* ``project_kernel`` — one program per BLOCK slots: crop-box (the splat's support reaching the
  box) and frustum culling, EWA projection with the 0.3 px^2 low-pass, conic, SH colour (degree
  from ``SH_COEFFS``), the exact opacity-aware pixel extent and its tile rectangle. Writes a
  packed row of 12 float32 per slot (mean x, mean y, conic a, b, c, opacity, r, g, b, depth,
  -, -), the tile rectangle (int32 x4), the tile count (0 when culled) and the depth sort key
  (+inf when culled). Slot i is splat i, or with ``COMPACT`` (``render.splat.chunks``) splat
  ``perm[chunks[i // CHUNK] * CHUNK + i % CHUNK]``: the frame's visible chunks, listed by the host
  in ``chunks`` (-1 past the last), so every later stage runs over those slots only; a slot with
  no splat behind it is culled.
* ``emit_pairs_kernel`` — one program per BLOCK splats in depth order: writes each splat's
  (tile key, splat id) pairs at its prefix-sum offset, so pairs come out in depth order; pairs at
  or beyond ``capacity`` are dropped (the caller checks the total and retries with more room).
* ``raster_kernel`` — one program per tile of the window, one lane per pixel: walks the tile's
  depth-sorted list front to back with the standard rule (alpha < 1/255 skipped, clamped to 0.99,
  stop before T < 1e-4), BATCH splats per step, and stops early once every pixel is saturated.
  Writes rgb over the background, alpha and normalised depth straight into the window images.

The constants must match ``render.splat.raster_inputs`` (checked by the parity tests).
"""

from __future__ import annotations

import triton
import triton.language as tl

FEATURES = 12  # floats per projected splat row
# Parameter block (float32): world->camera rotation (row-major) and translation, intrinsics, EWA
# clamp limits, camera centre, window (x0, y0, width, height), crop centre, crop rotation
# (row-major, columns = box axes), crop half extents, background RGB.
P_VIEW, P_TRANS, P_INTR, P_LIMITS, P_CAMPOS, P_WINDOW = 0, 9, 12, 16, 20, 23
P_CROP_C, P_CROP_R, P_CROP_H, P_BG, PARAM_COUNT = 27, 30, 39, 42, 48


@triton.jit
def project_kernel(
    means_ptr, quats_ptr, scales_ptr, opac_ptr, sh_ptr, n, prm, perm_ptr, chunks_ptr,
    feats_ptr, rect_ptr, count_ptr, key_ptr,
    SH_COEFFS: tl.constexpr, HAS_CROP: tl.constexpr, TILE: tl.constexpr, BLOCK: tl.constexpr,
    COMPACT: tl.constexpr = False, CHUNK: tl.constexpr = 1,
):
    w00, w01, w02 = tl.load(prm + 0), tl.load(prm + 1), tl.load(prm + 2)
    w10, w11, w12 = tl.load(prm + 3), tl.load(prm + 4), tl.load(prm + 5)
    w20, w21, w22 = tl.load(prm + 6), tl.load(prm + 7), tl.load(prm + 8)
    t0, t1, t2 = tl.load(prm + 9), tl.load(prm + 10), tl.load(prm + 11)
    fx, fy, cx, cy = tl.load(prm + 12), tl.load(prm + 13), tl.load(prm + 14), tl.load(prm + 15)
    lim_xp, lim_xn, lim_yp, lim_yn = tl.load(prm + 16), tl.load(prm + 17), tl.load(prm + 18), tl.load(prm + 19)
    cam_x, cam_y, cam_z = tl.load(prm + 20), tl.load(prm + 21), tl.load(prm + 22)
    win_x0, win_y0, win_w, win_h = tl.load(prm + 23), tl.load(prm + 24), tl.load(prm + 25), tl.load(prm + 26)
    slot = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    in_range = slot < n
    if COMPACT:  # the splat behind each slot of the frame's visible chunks (-1: none)
        chunk = tl.load(chunks_ptr + slot // CHUNK, mask=in_range, other=-1)
        has_chunk = in_range & (chunk >= 0)
        src = tl.load(perm_ptr + chunk * CHUNK + slot % CHUNK, mask=has_chunk, other=-1)
        live = has_chunk & (src >= 0)
        idx = tl.where(live, src, 0)
    else:
        live = in_range
        idx = slot
    px = tl.load(means_ptr + idx * 3 + 0, mask=live, other=0.0)
    py = tl.load(means_ptr + idx * 3 + 1, mask=live, other=0.0)
    pz = tl.load(means_ptr + idx * 3 + 2, mask=live, other=0.0)
    opacity = tl.load(opac_ptr + idx, mask=live, other=0.0)
    keep = live & (opacity >= 1.0 / 255.0)
    sx = tl.load(scales_ptr + idx * 3 + 0, mask=live, other=0.0)
    sy = tl.load(scales_ptr + idx * 3 + 1, mask=live, other=0.0)
    sz = tl.load(scales_ptr + idx * 3 + 2, mask=live, other=0.0)
    # squared Mahalanobis level at which alpha falls to 1/255
    level = 2.0 * tl.log(tl.maximum(opacity * 255.0, 1.0))
    if HAS_CROP:  # support reaches the oriented DoD box: |R^T (p - c)| <= half extents + radius
        r00, r01, r02 = tl.load(prm + 30), tl.load(prm + 31), tl.load(prm + 32)
        r10, r11, r12 = tl.load(prm + 33), tl.load(prm + 34), tl.load(prm + 35)
        r20, r21, r22 = tl.load(prm + 36), tl.load(prm + 37), tl.load(prm + 38)
        half_x, half_y, half_z = tl.load(prm + 39), tl.load(prm + 40), tl.load(prm + 41)
        dx0, dy0, dz0 = px - tl.load(prm + 27), py - tl.load(prm + 28), pz - tl.load(prm + 29)
        lx = dx0 * r00 + dy0 * r10 + dz0 * r20
        ly = dx0 * r01 + dy0 * r11 + dz0 * r21
        lz = dx0 * r02 + dy0 * r12 + dz0 * r22
        radius = tl.maximum(tl.maximum(sx, sy), sz) * tl.sqrt(level)
        keep = keep & (tl.abs(lx) <= half_x + radius) & (tl.abs(ly) <= half_y + radius)
        keep = keep & (tl.abs(lz) <= half_z + radius)
    # camera-space centre
    x = w00 * px + w01 * py + w02 * pz + t0
    y = w10 * px + w11 * py + w12 * pz + t1
    z = w20 * px + w21 * py + w22 * pz + t2
    keep = keep & (z > 0.01) & (z < 1e10)
    z = tl.where(keep, z, 1.0)
    # T = W R_q S (world covariance = M M^T with M = R_q S)
    qw = tl.load(quats_ptr + idx * 4 + 0, mask=live, other=1.0)
    qx = tl.load(quats_ptr + idx * 4 + 1, mask=live, other=0.0)
    qy = tl.load(quats_ptr + idx * 4 + 2, mask=live, other=0.0)
    qz = tl.load(quats_ptr + idx * 4 + 3, mask=live, other=0.0)
    m00 = (1.0 - 2.0 * (qy * qy + qz * qz)) * sx
    m01 = (2.0 * (qx * qy - qw * qz)) * sy
    m02 = (2.0 * (qx * qz + qw * qy)) * sz
    m10 = (2.0 * (qx * qy + qw * qz)) * sx
    m11 = (1.0 - 2.0 * (qx * qx + qz * qz)) * sy
    m12 = (2.0 * (qy * qz - qw * qx)) * sz
    m20 = (2.0 * (qx * qz - qw * qy)) * sx
    m21 = (2.0 * (qy * qz + qw * qx)) * sy
    m22 = (1.0 - 2.0 * (qx * qx + qy * qy)) * sz
    a00 = w00 * m00 + w01 * m10 + w02 * m20
    a01 = w00 * m01 + w01 * m11 + w02 * m21
    a02 = w00 * m02 + w01 * m12 + w02 * m22
    a10 = w10 * m00 + w11 * m10 + w12 * m20
    a11 = w10 * m01 + w11 * m11 + w12 * m21
    a12 = w10 * m02 + w11 * m12 + w12 * m22
    a20 = w20 * m00 + w21 * m10 + w22 * m20
    a21 = w20 * m01 + w21 * m11 + w22 * m21
    a22 = w20 * m02 + w21 * m12 + w22 * m22
    # EWA Jacobian at the clamped centre; U = J T; screen covariance = U U^T + 0.3 I
    tx = z * tl.minimum(tl.maximum(x / z, -lim_xn), lim_xp)
    ty = z * tl.minimum(tl.maximum(y / z, -lim_yn), lim_yp)
    jx, jy, jxz, jyz = fx / z, fy / z, -fx * tx / (z * z), -fy * ty / (z * z)
    u00, u01, u02 = jx * a00 + jxz * a20, jx * a01 + jxz * a21, jx * a02 + jxz * a22
    u10, u11, u12 = jy * a10 + jyz * a20, jy * a11 + jyz * a21, jy * a12 + jyz * a22
    ca = u00 * u00 + u01 * u01 + u02 * u02 + 0.3
    cb = u00 * u10 + u01 * u11 + u02 * u12
    cc = u10 * u10 + u11 * u11 + u12 * u12 + 0.3
    det = ca * cc - cb * cb
    keep = keep & (det > 0.0)
    inv_det = 1.0 / tl.where(keep, det, 1.0)
    mx = fx * x / z + cx
    my = fy * y / z + cy
    # exact extent at which alpha falls to 1/255, as pixel spans of the window
    rx = tl.sqrt(level * ca) * (1.0 + 1e-4) + 1e-3
    ry = tl.sqrt(level * cc) * (1.0 + 1e-4) + 1e-3
    first_x = tl.ceil(mx - rx - win_x0 - 0.5)
    last_x = tl.floor(mx + rx - win_x0 - 0.5)
    first_y = tl.ceil(my - ry - win_y0 - 0.5)
    last_y = tl.floor(my + ry - win_y0 - 0.5)
    keep = keep & (last_x >= 0.0) & (first_x <= win_w - 1.0) & (first_x <= last_x)
    keep = keep & (last_y >= 0.0) & (first_y <= win_h - 1.0) & (first_y <= last_y)
    tile_x0 = (tl.minimum(tl.maximum(first_x, 0.0), win_w - 1.0)).to(tl.int32) // TILE
    tile_x1 = (tl.minimum(tl.maximum(last_x, 0.0), win_w - 1.0)).to(tl.int32) // TILE
    tile_y0 = (tl.minimum(tl.maximum(first_y, 0.0), win_h - 1.0)).to(tl.int32) // TILE
    tile_y1 = (tl.minimum(tl.maximum(last_y, 0.0), win_h - 1.0)).to(tl.int32) // TILE
    count = tl.where(keep, (tile_x1 - tile_x0 + 1) * (tile_y1 - tile_y0 + 1), 0)
    # SH colour along the ray from the camera centre
    vx, vy, vz = px - cam_x, py - cam_y, pz - cam_z
    inv_len = 1.0 / tl.maximum(tl.sqrt(vx * vx + vy * vy + vz * vz), 1e-12)
    r, g, b = _sh_colour(sh_ptr, idx, live, vx * inv_len, vy * inv_len, vz * inv_len, SH_COEFFS)
    # outputs by slot: a slot without a splat (compaction's padding) gets count 0, key +inf and a
    # defined (unused) rectangle
    row = feats_ptr + slot * 12
    tl.store(row + 0, mx, mask=live)
    tl.store(row + 1, my, mask=live)
    tl.store(row + 2, cc * inv_det, mask=live)
    tl.store(row + 3, -cb * inv_det, mask=live)
    tl.store(row + 4, ca * inv_det, mask=live)
    tl.store(row + 5, opacity, mask=live)
    tl.store(row + 6, r, mask=live)
    tl.store(row + 7, g, mask=live)
    tl.store(row + 8, b, mask=live)
    tl.store(row + 9, z, mask=live)
    tl.store(rect_ptr + slot * 4 + 0, tile_x0, mask=in_range)
    tl.store(rect_ptr + slot * 4 + 1, tile_y0, mask=in_range)
    tl.store(rect_ptr + slot * 4 + 2, tile_x1, mask=in_range)
    tl.store(rect_ptr + slot * 4 + 3, tile_y1, mask=in_range)
    tl.store(count_ptr + slot, count, mask=in_range)
    tl.store(key_ptr + slot, tl.where(count > 0, z, float("inf")), mask=in_range)


@triton.jit
def _sh_term(sh_ptr, base, live, k: tl.constexpr, basis, r, g, b):
    r += basis * tl.load(sh_ptr + base + k * 3 + 0, mask=live, other=0.0)
    g += basis * tl.load(sh_ptr + base + k * 3 + 1, mask=live, other=0.0)
    b += basis * tl.load(sh_ptr + base + k * 3 + 2, mask=live, other=0.0)
    return r, g, b


@triton.jit
def _sh_colour(sh_ptr, idx, live, x, y, z, SH_COEFFS: tl.constexpr):
    """3DGS real SH (degree 0..3) dotted with the coefficients, + 0.5, clamped below at 0."""
    base = idx * (SH_COEFFS * 3)
    zero = x * 0.0
    r, g, b = _sh_term(sh_ptr, base, live, 0, zero + 0.28209479177387814, zero, zero, zero)
    if SH_COEFFS > 1:
        r, g, b = _sh_term(sh_ptr, base, live, 1, -0.4886025119029199 * y, r, g, b)
        r, g, b = _sh_term(sh_ptr, base, live, 2, 0.4886025119029199 * z, r, g, b)
        r, g, b = _sh_term(sh_ptr, base, live, 3, -0.4886025119029199 * x, r, g, b)
    if SH_COEFFS > 4:
        xx, yy, zz = x * x, y * y, z * z
        r, g, b = _sh_term(sh_ptr, base, live, 4, 1.0925484305920792 * x * y, r, g, b)
        r, g, b = _sh_term(sh_ptr, base, live, 5, -1.0925484305920792 * y * z, r, g, b)
        r, g, b = _sh_term(sh_ptr, base, live, 6, 0.31539156525252005 * (2.0 * zz - xx - yy), r, g, b)
        r, g, b = _sh_term(sh_ptr, base, live, 7, -1.0925484305920792 * x * z, r, g, b)
        r, g, b = _sh_term(sh_ptr, base, live, 8, 0.5462742152960396 * (xx - yy), r, g, b)
    if SH_COEFFS > 9:
        xx, yy, zz = x * x, y * y, z * z
        r, g, b = _sh_term(sh_ptr, base, live, 9, -0.5900435899266435 * y * (3.0 * xx - yy), r, g, b)
        r, g, b = _sh_term(sh_ptr, base, live, 10, 2.890611442640554 * x * y * z, r, g, b)
        r, g, b = _sh_term(sh_ptr, base, live, 11, -0.4570457994644658 * y * (4.0 * zz - xx - yy), r, g, b)
        r, g, b = _sh_term(sh_ptr, base, live, 12, 0.3731763325901154 * z * (2.0 * zz - 3.0 * xx - 3.0 * yy),
                           r, g, b)
        r, g, b = _sh_term(sh_ptr, base, live, 13, -0.4570457994644658 * x * (4.0 * zz - xx - yy), r, g, b)
        r, g, b = _sh_term(sh_ptr, base, live, 14, 1.445305721320277 * z * (xx - yy), r, g, b)
        r, g, b = _sh_term(sh_ptr, base, live, 15, -0.5900435899266435 * x * (xx - 3.0 * yy), r, g, b)
    return tl.maximum(r + 0.5, 0.0), tl.maximum(g + 0.5, 0.0), tl.maximum(b + 0.5, 0.0)


@triton.jit
def emit_pairs_kernel(order_ptr, counts_ptr, ends_ptr, rect_ptr, n, tiles_x, capacity, keys_ptr, ids_ptr,
                      BLOCK: tl.constexpr):
    """For the splats in depth order, write (tile key, splat id) pairs at their prefix offsets.

    ``counts_ptr`` and ``ends_ptr`` (inclusive prefix sums) are in depth order, ``order_ptr`` maps
    rank -> splat. Pairs at or past ``capacity`` are not written.
    """
    rank = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = rank < n
    count = tl.load(counts_ptr + rank, mask=live, other=0)
    offset = tl.load(ends_ptr + rank, mask=live, other=0) - count
    splat = tl.load(order_ptr + rank, mask=live, other=0).to(tl.int32)
    tile_x0 = tl.load(rect_ptr + splat * 4 + 0, mask=live, other=0)
    tile_y0 = tl.load(rect_ptr + splat * 4 + 1, mask=live, other=0)
    tile_x1 = tl.load(rect_ptr + splat * 4 + 2, mask=live, other=0)
    span = tl.maximum(tile_x1 - tile_x0 + 1, 1)  # >= 1 where count > 0; culled lanes divide safely
    most = tl.max(count, axis=0)
    for j in range(0, most):
        write = live & (j < count) & (offset + j < capacity)
        key = (tile_y0 + j // span) * tiles_x + tile_x0 + j % span
        tl.store(keys_ptr + offset + j, key, mask=write)
        tl.store(ids_ptr + offset + j, splat, mask=write)


@triton.jit
def raster_kernel(feats_ptr, ids_ptr, tile_offsets_ptr, prm, out_ptr, tiles_x, out_stride,
                  TILE: tl.constexpr, BATCH: tl.constexpr):
    """Blend one tile into ``out`` (rows, out_stride, 5): r, g, b, alpha, depth; top-left = window's."""
    win_x0, win_y0 = tl.load(prm + 23).to(tl.int32), tl.load(prm + 24).to(tl.int32)
    win_w, win_h = tl.load(prm + 25).to(tl.int32), tl.load(prm + 26).to(tl.int32)
    bg_r, bg_g, bg_b = tl.load(prm + 42), tl.load(prm + 43), tl.load(prm + 44)
    tile = tl.program_id(0)
    lane = tl.arange(0, TILE * TILE)
    col = (tile % tiles_x) * TILE + lane % TILE
    row = (tile // tiles_x) * TILE + lane // TILE
    inside = (col < win_w) & (row < win_h)
    pix_x = (col + win_x0).to(tl.float32) + 0.5
    pix_y = (row + win_y0).to(tl.float32) + 0.5
    start = tl.load(tile_offsets_ptr + tile)
    end = tl.load(tile_offsets_ptr + tile + 1)
    trans = tl.full([TILE * TILE], 1.0, tl.float32)
    acc_r = tl.zeros([TILE * TILE], tl.float32)
    acc_g = tl.zeros([TILE * TILE], tl.float32)
    acc_b = tl.zeros([TILE * TILE], tl.float32)
    acc_d = tl.zeros([TILE * TILE], tl.float32)
    done = inside == 0
    for base in range(start, end, BATCH):
        if tl.sum((done == 0).to(tl.int32), axis=0) > 0:  # some pixel still takes light
            for k in tl.static_range(BATCH):
                j = base + k
                present = j < end
                splat = tl.load(ids_ptr + j, mask=present, other=0)
                row_ptr = feats_ptr + splat * 12
                mx = tl.load(row_ptr + 0)
                my = tl.load(row_ptr + 1)
                ca = tl.load(row_ptr + 2)
                cb = tl.load(row_ptr + 3)
                cc = tl.load(row_ptr + 4)
                opacity = tl.load(row_ptr + 5) * present.to(tl.float32)
                dx = pix_x - mx
                dy = pix_y - my
                sigma = 0.5 * (ca * dx * dx + cc * dy * dy) + cb * dx * dy
                alpha = tl.minimum(opacity * tl.exp(-sigma), 0.99)
                valid = (sigma >= 0.0) & (alpha >= 1.0 / 255.0) & (done == 0)
                next_trans = trans * (1.0 - alpha)
                stop = valid & (next_trans < 1e-4)
                done = done | stop
                use = valid & (stop == 0)
                weight = tl.where(use, alpha * trans, 0.0)
                acc_r += weight * tl.load(row_ptr + 6)
                acc_g += weight * tl.load(row_ptr + 7)
                acc_b += weight * tl.load(row_ptr + 8)
                acc_d += weight * tl.load(row_ptr + 9)
                trans = tl.where(use, next_trans, trans)
    _store_pixels(out_ptr, row, col, out_stride, inside, trans, acc_r, acc_g, acc_b, acc_d, bg_r, bg_g, bg_b)


@triton.jit
def _store_pixels(out_ptr, row, col, out_stride, inside, trans, acc_r, acc_g, acc_b, acc_d, bg_r, bg_g, bg_b):
    """Finish a tile: rgb over the background, alpha and normalised depth (5 floats per pixel)."""
    alpha_out = 1.0 - trans
    out = (row * out_stride + col) * 5
    tl.store(out_ptr + out + 0, tl.minimum(tl.maximum(acc_r + trans * bg_r, 0.0), 1.0), mask=inside)
    tl.store(out_ptr + out + 1, tl.minimum(tl.maximum(acc_g + trans * bg_g, 0.0), 1.0), mask=inside)
    tl.store(out_ptr + out + 2, tl.minimum(tl.maximum(acc_b + trans * bg_b, 0.0), 1.0), mask=inside)
    tl.store(out_ptr + out + 3, alpha_out, mask=inside)
    depth = tl.where(alpha_out > 0.0, acc_d / tl.maximum(alpha_out, 1e-12), 0.0)
    tl.store(out_ptr + out + 4, depth, mask=inside)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


__all__ = ["FEATURES", "PARAM_COUNT", "ceil_div", "emit_pairs_kernel", "project_kernel", "raster_kernel"]
