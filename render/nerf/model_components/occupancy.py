"""Multi-cascade occupancy grid with instant-ngp's layout.

Frame: the normalised (instant-ngp) frame. Cascade m is a ``res^3`` grid covering the cube of side
``2**m`` centred on (0.5, 0.5, 0.5); cells are stored in Morton order (x in the lowest bit), cascade
after cascade. ``density`` holds each cell's optical thickness over the finest step
(density x ``min_step * 2**m``), as instant-ngp's ``density_grid`` does; the occupancy
``bitfield`` marks cells above ``min(0.01, mean of cascade 0)`` and ORs each cascade into the
centre of the next coarser one, packed 8 cells per byte (bit j of byte i is cell 8i + j).
"""

from __future__ import annotations

import math

import torch

MIN_OPTICAL_THICKNESS = 0.01
"""instant-ngp's ``NERF_MIN_OPTICAL_THICKNESS``: cells thinner than this count as empty."""
NGP_GRID_RESOLUTION = 128


def cascades_for_aabb_scale(aabb_scale: float) -> int:
    """Number of cascades instant-ngp uses: the smallest m with 2**(m) >= aabb_scale, plus one."""
    m = 0
    while (1 << m) < aabb_scale:
        m += 1
    return m + 1


def _spread_bits(v: torch.Tensor) -> torch.Tensor:
    """Insert two zero bits between the low 10 bits of ``v`` (int64)."""
    v = (v * 0x00010001) & 0xFF0000FF
    v = (v * 0x00000101) & 0x0F00F00F
    v = (v * 0x00000011) & 0xC30C30C3
    v = (v * 0x00000005) & 0x49249249
    return v


def morton3d(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Morton code of integer cell coordinates (int64 in, int64 out); x occupies bit 0."""
    return _spread_bits(x) | (_spread_bits(y) << 1) | (_spread_bits(z) << 2)


def morton_order(resolution: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """(res^3,) int64: Morton code of each cell in x-fastest linear order."""
    r = torch.arange(resolution, device=device, dtype=torch.int64)
    z, y, x = torch.meshgrid(r, r, r, indexing="ij")
    return morton3d(x.reshape(-1), y.reshape(-1), z.reshape(-1))


class OccupancyGrid:
    """Densities and occupancy bits of ``n_cascades`` cascades of ``resolution^3`` cells."""

    def __init__(self, n_cascades: int, resolution: int = NGP_GRID_RESOLUTION, min_step: float = math.sqrt(3) / 1024,
                 device: torch.device | str = "cpu") -> None:
        if resolution < 2 or resolution & (resolution - 1):
            raise ValueError(f"grid resolution must be a power of two >= 2, got {resolution}")
        self.n_cascades = n_cascades
        self.resolution = resolution
        self.min_step = min_step
        n = resolution**3
        self.density = torch.zeros(n_cascades, n, dtype=torch.float32, device=device)
        self.bitfield = torch.zeros(n_cascades, n // 8, dtype=torch.uint8, device=device)
        self._morton: torch.Tensor | None = None
        self._linear_bits: tuple[tuple[int, int, int], torch.Tensor] | None = None
        self._bounds: tuple[tuple[int, int, int], tuple[torch.Tensor, torch.Tensor]] | None = None
        self._any_occupied = False

    @property
    def device(self) -> torch.device:
        return self.density.device

    @property
    def n_cells(self) -> int:
        return self.resolution**3

    def to(self, device: torch.device | str) -> OccupancyGrid:
        grid = OccupancyGrid(self.n_cascades, self.resolution, self.min_step, device)
        grid.density = self.density.to(device)
        grid.bitfield = self.bitfield.to(device)
        return grid

    def morton(self) -> torch.Tensor:
        if self._morton is None or self._morton.device != self.device:
            self._morton = morton_order(self.resolution, self.device)
        return self._morton

    # ------------------------------------------------------------------ occupancy bits
    def threshold(self) -> float:
        mean = float(self.density[0].clamp(min=0).mean())
        return min(MIN_OPTICAL_THICKNESS, mean)

    def update_bitfield(self) -> None:
        """Rebuild the bitfield from ``density`` (threshold, then OR finer cascades into coarser)."""
        res, morton = self.resolution, self.morton()
        occupied_xyz = []
        thresh = self.threshold()
        for m in range(self.n_cascades):
            occ = torch.empty(self.n_cells, dtype=torch.bool, device=self.device)
            occ[:] = self.density[m][morton] > thresh
            occ = occ.reshape(res, res, res)  # [z, y, x]
            if m > 0:
                finer = occupied_xyz[-1].reshape(res // 2, 2, res // 2, 2, res // 2, 2).any(5).any(3).any(1)
                lo, hi = res // 4, res // 4 + res // 2
                occ[lo:hi, lo:hi, lo:hi] |= finer
            occupied_xyz.append(occ)
        for m, occ in enumerate(occupied_xyz):
            cells = torch.zeros(self.n_cells, dtype=torch.bool, device=self.device)
            cells[morton] = occ.reshape(-1)
            self.bitfield[m] = pack_bits(cells)

    def occupied_cells(self, cascade: int) -> torch.Tensor:
        """(res^3,) bool occupancy of one cascade in Morton order."""
        return unpack_bits(self.bitfield[cascade])

    # ------------------------------------------------------------------ geometry
    def cell_centers(self, cascade: int) -> torch.Tensor:
        """(res^3, 3) float32 centres of the cascade's cells in the normalised frame, Morton order."""
        res = self.resolution
        codes = torch.arange(self.n_cells, device=self.device, dtype=torch.int64)
        ijk = torch.stack([compact_bits(codes >> k) for k in range(3)], dim=-1).float()
        return (ijk + 0.5) / res * (2.0**cascade) + 0.5 - 2.0 ** (cascade - 1)

    def cell_size(self, cascade: int) -> float:
        return 2.0**cascade / self.resolution

    def linear_occupancy(self) -> torch.Tensor:
        """(n_cascades * res^3,) bool: the bitfield unpacked, cells in x-fastest order, cascade after
        cascade (rebuilt when the bitfield changes)."""
        key = (id(self.bitfield), self.bitfield.data_ptr(), self.bitfield._version)
        if self._linear_bits is None or self._linear_bits[0] != key:
            morton = self.morton()
            bits = torch.stack([unpack_bits(self.bitfield[m])[morton] for m in range(self.n_cascades)])
            self._linear_bits = (key, bits.reshape(-1))
        return self._linear_bits[1]

    def any_occupied(self) -> bool:
        """Whether any cell of any cascade is occupied (cached with :meth:`occupied_bounds`)."""
        self.occupied_bounds()
        return self._any_occupied

    def occupied_bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(3,) float32 corners ``lo``, ``hi`` of the box around every occupied cell of every cascade,
        normalised frame (``lo > hi`` when nothing is occupied); follows the bitfield."""
        key = (id(self.bitfield), self.bitfield.data_ptr(), self.bitfield._version)
        if self._bounds is None or self._bounds[0] != key:
            res, lows, highs = self.resolution, [], []
            cells = self.linear_occupancy().view(self.n_cascades, res, res, res)  # [cascade, z, y, x]
            for m in range(self.n_cascades):
                zyx = torch.nonzero(cells[m])
                if zyx.numel() > 0:
                    size, origin = 2.0**m / res, 0.5 - 2.0 ** (m - 1)
                    lows.append(zyx.amin(0).flip(0).float() * size + origin)
                    highs.append((zyx.amax(0).flip(0).float() + 1.0) * size + origin)
            self._any_occupied = bool(lows)
            if lows:
                bounds = (torch.stack(lows).amin(0), torch.stack(highs).amax(0))
            else:
                bounds = (torch.ones(3, device=self.device), torch.zeros(3, device=self.device))
            self._bounds = (key, bounds)
        return self._bounds[1]

    def occupied_at(self, positions: torch.Tensor) -> torch.Tensor:
        """Occupancy bit at (N, 3) normalised positions, each in its own cascade (:func:`cascade_at`'s rule:
        the smallest cascade containing it); positions outside every cascade are unoccupied.

        Same cell arithmetic as :meth:`lookup` (and the marching kernel), on the unpacked bits.
        """
        res = self.resolution
        centred = positions - 0.5
        if self.n_cascades > 1:
            extent = centred.abs().amax(dim=-1)
            exponent = ((extent.view(torch.int32) >> 23) & 0xFF) - 126
            cascade = (exponent + 1).clamp(0, self.n_cascades - 1)
            centred = centred * torch.exp2(-cascade.to(positions.dtype))[:, None]
        cell = torch.floor((centred + 0.5) * res)
        inside = (cell.amin(dim=-1) >= 0) & (cell.amax(dim=-1) < res)
        strides = torch.tensor([1.0, res, res * res], dtype=cell.dtype, device=cell.device)
        index = (cell @ strides).to(torch.int64)
        if self.n_cascades > 1:
            index = index + cascade.to(torch.int64) * self.n_cells
        return inside & self.linear_occupancy()[torch.where(inside, index, 0)]

    def lookup(self, positions: torch.Tensor, cascade: torch.Tensor) -> torch.Tensor:
        """Occupancy bit at (N, 3) normalised positions in the given (N,) int64 cascades.

        Positions outside the cascade's cube are unoccupied.
        """
        res = self.resolution
        scale = torch.exp2(-cascade.to(positions.dtype))[:, None]
        cell = torch.floor(((positions - 0.5) * scale + 0.5) * res).to(torch.int64)
        inside = ((cell >= 0) & (cell < res)).all(dim=-1)
        cell = cell.clamp(0, res - 1)
        code = morton3d(cell[:, 0], cell[:, 1], cell[:, 2])
        byte = self.bitfield[cascade, code >> 3].to(torch.int64)
        return inside & (((byte >> (code & 7)) & 1) == 1)


def pack_bits(cells: torch.Tensor) -> torch.Tensor:
    """(n,) bool, n divisible by 8 -> (n/8,) uint8 with cell 8i+j in bit j of byte i."""
    weights = (2 ** torch.arange(8, device=cells.device, dtype=torch.int64))
    return (cells.reshape(-1, 8).to(torch.int64) * weights).sum(dim=1).to(torch.uint8)


def unpack_bits(bytes_: torch.Tensor) -> torch.Tensor:
    shifts = torch.arange(8, device=bytes_.device, dtype=torch.int64)
    return ((bytes_.to(torch.int64)[:, None] >> shifts) & 1).bool().reshape(-1)


def compact_bits(v: torch.Tensor) -> torch.Tensor:
    """Inverse of the bit spreading: take every third bit of ``v`` (int64)."""
    v = v & 0x49249249
    v = (v | (v >> 2)) & 0xC30C30C3
    v = (v | (v >> 4)) & 0x0F00F00F
    v = (v | (v >> 8)) & 0xFF0000FF
    v = (v | (v >> 16)) & 0x0000FFFF
    return v
