"""The cached density texture: sparse bricks of density over a box of the normalised frame.

The box starts at ``origin`` and is cut into ``dims = (nx, ny, nz)`` cubic bricks of side
``brick_size`` (NEPHELE's "density texture cubes": a coarse index grid over small dense cubes).
An occupied brick stores ``(r + 1)^3`` density samples at its vertices (``r = brick_res`` cells per
side; vertex ``(i, j, k)`` of brick ``b`` sits at ``origin + (b + (i, j, k) / r) * brick_size``), so
neighbouring bricks share their face values and the trilinear interpolation is continuous across
them. Density is per unit length of the normalised frame; empty bricks and everything outside the
box have density 0.

Storage: ``occupancy`` (nz, ny, nx) bool (bit-packed in files), ``bricks`` (n_occupied, r+1, r+1,
r+1) float16 indexed [brick, z, y, x], bricks in C order of their (z, y, x) position. Derived on
load: a pyramid of max-pooled brick occupancy (rays skip large empty regions in one step) and
each occupied brick's cell occupancy (``cells``: a cell is empty when its 8 corner densities are
exactly 0, so the trilinear density is 0 everywhere in it and skipping it changes nothing).
"""

from __future__ import annotations

import torch

from render.nerf.model_components.marching import Box

FP16_MAX = 65504.0


def occupancy_pyramid(occupancy: torch.Tensor) -> list[torch.Tensor]:
    """Level 0 is ``occupancy`` (nz, ny, nx) bool; level k ORs 2^k x 2^k x 2^k bricks (padded)."""
    levels = [occupancy]
    while max(levels[-1].shape) > 1:
        prev = levels[-1].float()[None, None]
        pad = [(0, s % 2) for s in prev.shape[-1:-4:-1]]
        prev = torch.nn.functional.pad(prev, [p for pair in pad for p in pair])
        levels.append(torch.nn.functional.max_pool3d(prev, 2)[0, 0] > 0)
    return levels


def cell_occupancy(bricks: torch.Tensor) -> torch.Tensor:
    """(n, r, r, r) bool: cells with a non-zero corner among bricks (n, r+1, r+1, r+1)."""
    if bricks.shape[0] == 0:
        r = bricks.shape[1] - 1
        return torch.zeros(0, r, r, r, dtype=torch.bool, device=bricks.device)
    nonzero = (bricks != 0).float()[:, None]
    return torch.nn.functional.max_pool3d(nonzero, 2, stride=1)[:, 0] > 0


class DensityTexture:
    """Sparse-brick density over an axis-aligned box (see the module docstring)."""

    def __init__(self, origin: torch.Tensor, brick_size: float, brick_res: int, occupancy: torch.Tensor,
                 bricks: torch.Tensor) -> None:
        n = int(occupancy.sum())
        v = brick_res + 1
        if occupancy.dim() != 3 or bricks.shape != (n, v, v, v):
            raise ValueError(f"bricks must be ({n}, {v}, {v}, {v}) for {n} occupied bricks of resolution "
                             f"{brick_res}, got {tuple(bricks.shape)}")
        self.origin = origin.float()
        self.brick_size = float(brick_size)
        self.brick_res = int(brick_res)
        self.occupancy = occupancy.bool()
        self.bricks = bricks.to(torch.float16).contiguous()
        index = torch.full(occupancy.shape, -1, dtype=torch.int64, device=occupancy.device)
        index[self.occupancy] = torch.arange(n, device=occupancy.device)
        self.index = index.reshape(-1)
        self.pyramid = occupancy_pyramid(self.occupancy)
        self.cells = cell_occupancy(self.bricks)
        """(n_bricks, r, r, r) bool cell occupancy, [brick, z, y, x]."""
        self._dims = torch.tensor(self.dims, dtype=torch.int64, device=occupancy.device)
        corners = [dz * v * v + dy * v + dx for dz in (0, 1) for dy in (0, 1) for dx in (0, 1)]
        self._corner_offsets = torch.tensor(corners, dtype=torch.int64, device=occupancy.device)
        """Storage offsets of the 8 cell corners, (z, y, x) C order (the order of the weights)."""

    # ------------------------------------------------------------------ shape
    @property
    def dims(self) -> tuple[int, int, int]:
        """Bricks along x, y, z."""
        nz, ny, nx = self.occupancy.shape
        return (int(nx), int(ny), int(nz))

    @property
    def device(self) -> torch.device:
        return self.bricks.device

    @property
    def n_bricks(self) -> int:
        return int(self.bricks.shape[0])

    @property
    def cell_size(self) -> float:
        """Side of one texture cell (normalised-frame units)."""
        return self.brick_size / self.brick_res

    @property
    def nbytes(self) -> int:
        return int(self.bricks.numel() * self.bricks.element_size() + self.occupancy.numel() // 8)

    def extent(self) -> torch.Tensor:
        return torch.tensor(self.dims, dtype=torch.float32, device=self.device) * self.brick_size

    def box(self) -> Box:
        """The texture's box as a marching ``Box`` (normalised frame)."""
        half = self.extent() / 2
        return Box(self.origin + half, torch.eye(3, device=self.device), half)

    def unit_cube(self) -> tuple[torch.Tensor, float]:
        """(lo (3,), side): the cube whose [0, 1]^3 coordinates the baked field's encoders take."""
        return self.origin, float(max(self.dims)) * self.brick_size

    def to(self, device: torch.device | str) -> DensityTexture:
        return DensityTexture(self.origin.to(device), self.brick_size, self.brick_res, self.occupancy.to(device),
                              self.bricks.to(device))

    def brick_centers(self) -> torch.Tensor:
        """(n_bricks, 3) centres of the occupied bricks, normalised frame, in storage order."""
        zyx = torch.nonzero(self.occupancy).float()
        return self.origin + (zyx.flip(-1) + 0.5) * self.brick_size

    # ------------------------------------------------------------------ lookups
    def _brick_coords(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Brick-unit coordinates (N, 3), integer brick (N, 3) clamped into the box, inside mask (N,)."""
        f = (points - self.origin) / self.brick_size
        b = torch.floor(f).to(torch.int64)
        inside = ((b >= 0) & (b < self._dims)).all(dim=-1)
        return f, torch.minimum(b.clamp(min=0), self._dims - 1), inside

    def _flat(self, b: torch.Tensor) -> torch.Tensor:
        nx, ny, _ = self.dims
        return b[:, 0] + nx * (b[:, 1] + ny * b[:, 2])

    def brick_slot(self, points: torch.Tensor) -> torch.Tensor:
        """(N,) int64 storage slot of the brick holding each point, -1 where empty or outside."""
        _, b, inside = self._brick_coords(points)
        return torch.where(inside, self.index[self._flat(b)], -1)

    def cell_occupied(self, points: torch.Tensor) -> torch.Tensor:
        """(N,) bool: the texture cell holding each point has a non-zero corner."""
        f, b, inside = self._brick_coords(points)
        slot = torch.where(inside, self.index[self._flat(b)], -1)
        r = self.brick_res
        cell = torch.floor(((f - b) * r).clamp(0.0, float(r))).clamp(max=r - 1).to(torch.int64)
        flat = slot.clamp(min=0) * r**3 + cell[:, 2] * r * r + cell[:, 1] * r + cell[:, 0]
        return (slot >= 0) & self.cells.reshape(-1)[flat]

    def density(self, points: torch.Tensor) -> torch.Tensor:
        """(N, 3) normalised-frame points -> (N,) float32 trilinear density (0 in empty bricks)."""
        f, b, inside = self._brick_coords(points)
        slot = torch.where(inside, self.index[self._flat(b)], -1)
        r, v = self.brick_res, self.brick_res + 1
        local = ((f - b) * r).clamp(0.0, float(r))
        cell = torch.floor(local).clamp(max=r - 1)
        frac = local - cell
        cell_i = cell.to(torch.int64)
        base = slot.clamp(min=0) * v**3 + cell_i[:, 2] * v * v + cell_i[:, 1] * v + cell_i[:, 0]
        values = self.bricks.reshape(-1)[base[:, None] + self._corner_offsets].float()  # (N, 8)
        w = torch.stack([1.0 - frac, frac], dim=-1)  # (N, 3 axes, lower/upper)
        weights = (w[:, 2, :, None, None] * w[:, 1, None, :, None] * w[:, 0, None, None, :]).reshape(-1, 8)
        return torch.where(slot >= 0, (values * weights).sum(dim=1), 0.0)

    def empty_exit(self, points: torch.Tensor, dirs: torch.Tensor) -> torch.Tensor:
        """(N,) distance along unit ``dirs`` to the exit of the largest empty pyramid cell holding
        each point (points in occupied bricks get the distance to their brick's exit)."""
        f, b, _ = self._brick_coords(points)
        level = torch.zeros(points.shape[0], dtype=torch.int64, device=points.device)
        climbing = self.index[self._flat(b)] < 0
        for k in range(1, len(self.pyramid)):
            grid, bk = self.pyramid[k], b >> k
            climbing &= ~grid[bk[:, 2], bk[:, 1], bk[:, 0]]
            level = torch.where(climbing, k, level)
        size = torch.exp2(level.float())[:, None]
        lo = torch.floor(f / size) * size
        target = torch.where(dirs > 0, lo + size, lo)
        safe = torch.where(dirs == 0, 1.0, dirs)
        t_axis = torch.where(dirs == 0, torch.inf, (target - f) / safe)
        return t_axis.min(dim=-1).values.clamp(min=0.0) * self.brick_size

    def cell_exit(self, points: torch.Tensor, dirs: torch.Tensor) -> torch.Tensor:
        """(N,) distance along unit ``dirs`` to the exit of the texture cell holding each point."""
        q = (points - self.origin) / self.cell_size
        target = torch.where(dirs > 0, torch.floor(q) + 1.0, torch.floor(q))
        safe = torch.where(dirs == 0, 1.0, dirs)
        t_axis = torch.where(dirs == 0, torch.inf, (target - q) / safe)
        return t_axis.min(dim=-1).values.clamp(min=0.0) * self.cell_size
