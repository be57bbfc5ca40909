"""The ray-level task assigner: per frame, move bands of an overloaded node's heavy camera views to
nodes with time to spare (``cluster.assign_tiles``; off by default).

Load is fixed per node by the canvases it drives: a node whose inner frustum holds a close-up of a
heavy asset misses its deadline while another renders sky. Per frame, on the loop's thread (pure
numpy, no pixels):

1. **Estimate** (:func:`estimate_loads`): per node, tracked camera and asset, the rays of the
   node's inner pixels that hit the asset's bounds: every cabinet is sampled at ``SAMPLES`` x
   ``SAMPLES`` points, each standing for its share of the cabinet's LED pixels; a point counts
   when it lies inside the camera's inner frustum and faces the eye (the cull's test) and the ray
   from the eye through it meets the asset's bounds (declared ``bounds_min``/``bounds_max``, else
   the default box around the stage: declare them, or every ray hits) before the far distance.
   Rays times ``inner_scale`` squared (camera-view pixels per LED pixel) times the asset kind's
   weight (:data:`KIND_WEIGHTS`) is the view's *work*.
2. **Cost** (:class:`CostModel`): ``render_ms = base + per_work * work + node offset``, fitted by
   exponentially weighted least squares from the nodes' reported render times (on-time and late)
   of frames in which they neither gave nor took tiles, each against the work estimated for it.
3. **Classify and split** (:func:`split_heavy`): a node whose expected render time exceeds the
   budget (``budget_fraction`` of the time from the frame's instant to its deadline) is
   overloaded; each of its camera views costing at least ``heavy_fraction`` of the budget is
   heavy, the rest light (they stay). A heavy view is cut into ``tiles`` row bands
   (``vpstage.nodes.tiles``); bands go, last first, to the node that would finish soonest, while
   the owner is still over budget, the helper stays within it, and the band comes back before
   the owner would have finished rendering it itself (helpers render tiles before their own
   canvases: the return is the helper's tile time so far, plus the band, plus the link:
   ``link_ms`` plus its bytes at ``link_mb_per_s``). A band that would come back later is kept
   local, and counted.

Every choice is counted (:attr:`TaskAssigner.counters`). The owner waits for each band until
``TileOrder.wait_ns``: the deadline less the time to render the view's given bands itself and
``finish_ms``; then it renders what is missing (``render.node.tiles``).
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vpstage.frame_master.plan import FramePlan
from vpstage.frustum.frustum import CameraFrustum, FrustumSettings
from vpstage.frustum.geometry import CanvasGeometry
from vpstage.frustum.node import StageFrustum
from vpstage.frustum.scene import default_scene_bounds, scene_bounds_of
from vpstage.geometry import OrientedBox
from vpstage.nodes.messages import FrameReport, TileOrder
from vpstage.nodes.tiles import MAX_TILES, TILE_BYTES_PER_PIXEL
from vpstage.stage import Stage

F64 = NDArray[np.float64]
SAMPLES = 3
"""Sample points per cabinet side."""
KIND_WEIGHTS: Mapping[str, float] = {"splat": 1.0, "nerf": 4.0, "baked-nerf": 2.0}
"""Relative cost of one camera-view pixel of an asset of each kind (a NeRF ray marches many samples)."""
SPLAT_PATHS = (".ply", ".splat", ".spz", "procedural:demo")
WORK_HISTORY = 512
"""Frames whose estimates are kept to pair with late reports."""


def asset_kind(path: str) -> str:
    """``splat``, ``baked-nerf`` or ``nerf`` from an asset's path (the loaders' suffixes)."""
    lowered = path.lower()
    if lowered.endswith(SPLAT_PATHS):
        return "splat"
    return "baked-nerf" if lowered.endswith(".bnerf") else "nerf"


@dataclass(frozen=True, kw_only=True)
class AssignerSettings:
    budget_fraction: float = 0.85
    """Share of the time from a frame's instant to its deadline a node's render should take."""
    heavy_fraction: float = 0.25
    """A camera view costing at least this share of the budget is heavy (its bands may move)."""
    tiles: int = 8
    """Bands a heavy view is cut into."""
    link_ms: float = 1.0
    """One band's trip helper -> master -> owner, beyond its bytes."""
    link_mb_per_s: float = 1000.0
    """Bytes per second (millions) a band travels at over the links."""
    finish_ms: float = 2.0
    """What the owner still does after its last band (sampling, compositing, packing, copying)."""
    max_tile_bytes: int = 16 << 20
    """Largest band on the wire (more bands are cut when a view's would be larger)."""
    min_samples: int = 8
    """Reports before the fitted cost model replaces the prior."""
    prior: tuple[float, float] | None = None
    """(base ms, ms per unit of work) used until the model is fitted; None: no tiles until then."""


@dataclass(frozen=True, kw_only=True)
class AssetBox:
    """One enabled asset as the estimate sees it."""

    name: str
    box: OrientedBox
    """Its bounds in the stage frame."""
    weight: float
    splittable: bool
    """Rendered as a shared camera view (splats; any asset below full LED density)."""


@dataclass(frozen=True, kw_only=True)
class ViewLoad:
    """One node's camera view of one asset this frame."""

    node: str
    camera: str
    asset: str
    canvases: tuple[str, ...]
    """The node's canvases sharing the view (those the planner's cull gave the camera)."""
    rays: float
    """Camera-view pixels whose rays hit the asset's bounds (estimated)."""
    work: float
    splittable: bool = True


@dataclass(frozen=True, kw_only=True)
class Assignment:
    """Band ``index`` of ``count`` of ``view``, rendered by ``helper``."""

    view: ViewLoad
    index: int
    count: int
    helper: str
    band_ms: float
    return_ms: float
    """When it is expected back at the owner (ms after the frame's instant)."""


class CabinetSamples:
    """Sample points on every cabinet of some canvases (built once; see the module docstring)."""

    def __init__(self, geometries: Sequence[CanvasGeometry], samples: int = SAMPLES) -> None:
        points, normals, pixels, owners = [], [], [], []
        self.canvases = tuple(g.name for g in geometries)
        steps = (np.arange(samples) + 0.5) / samples
        for index, geometry in enumerate(geometries):
            for block in geometry.blocks:
                if not len(block):
                    continue
                grid_x, grid_y = np.meshgrid(steps * block.width, steps * block.height)
                x, y = grid_x.reshape(-1), grid_y.reshape(-1)
                basis = np.stack([np.ones_like(x), x, y, x * y], axis=1)            # (s, 4)
                points.append(np.einsum("sk,nkj->nsj", basis, block.coef).reshape(-1, 3))
                normals.append(np.repeat(block.normals, len(x), axis=0))
                pixels.append(np.full(len(block) * len(x), block.width * block.height / len(x)))
                owners.append(np.full(len(block) * len(x), index))
        self.points: F64 = np.concatenate(points) if points else np.zeros((0, 3))
        self.normals: F64 = np.concatenate(normals) if normals else np.zeros((0, 3))
        self.pixels: F64 = np.concatenate(pixels) if pixels else np.zeros(0)
        self.canvas: NDArray[np.intp] = np.concatenate(owners).astype(np.intp) if owners else np.zeros(0, np.intp)

    def visible(self, frustum: CameraFrustum) -> NDArray[np.bool_]:
        """Points inside the camera's inner frustum that face its eye."""
        rel = self.points - frustum.eye
        inside = np.all(rel @ frustum.planes.T >= 0.0, axis=1)
        facing = np.einsum("ij,ij->i", self.normals, rel) < 0
        return np.asarray(inside & facing, dtype=bool)


def ray_box_hits(origin: F64, through: F64, box: OrientedBox, far: float) -> NDArray[np.bool_]:
    """Which rays from ``origin`` through the points ``through`` (n, 3) meet ``box`` (same frame)
    within ``far`` of the origin (slab test in the box's own axes)."""
    direction = np.asarray(through, dtype=np.float64) - origin
    length = np.linalg.norm(direction, axis=1)
    unit = direction / np.maximum(length, 1e-12)[:, None]
    o = (np.asarray(origin, dtype=np.float64) - box.center) @ box.rotation
    d = unit @ box.rotation
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d
        t0 = (-box.half_extents - o) * inv
        t1 = (box.half_extents - o) * inv
    lo = np.where(np.isnan(t0), -np.inf, np.minimum(t0, t1))
    hi = np.where(np.isnan(t1), np.inf, np.maximum(t0, t1))
    parallel_out = (np.abs(d) < 1e-15) & (np.abs(o) > box.half_extents)
    enter, leave = lo.max(axis=1), hi.min(axis=1)
    hits = (enter <= leave) & (leave >= 0.0) & (enter <= far) & ~parallel_out.any(axis=1)
    return np.asarray(hits, dtype=bool)


def estimate_loads(samples: CabinetSamples, cameras: Sequence[tuple[str, CameraFrustum]],
                   members: Mapping[tuple[str, str], tuple[str, ...]], assets: Sequence[AssetBox],
                   inner_scale: float) -> list[ViewLoad]:
    """Every (node, camera, asset) view of ``members`` (node, camera -> the node's canvases the
    camera sees) with its estimated rays and work (see the module docstring)."""
    out = []
    index = {name: i for i, name in enumerate(samples.canvases)}
    density = inner_scale * inner_scale
    for camera, frustum in cameras:
        visible = samples.visible(frustum)
        for asset in assets:
            hit = np.zeros(len(samples.pixels), dtype=bool)
            hit[visible] = ray_box_hits(frustum.eye, samples.points[visible], asset.box, frustum.settings.far_m)
            for (node, name), canvases in members.items():
                if name != camera or not canvases:
                    continue
                mine = np.isin(samples.canvas, [index[c] for c in canvases if c in index])
                rays = float(samples.pixels[hit & mine].sum()) * density
                out.append(ViewLoad(node=node, camera=camera, asset=asset.name, canvases=canvases, rays=rays,
                                    work=rays * asset.weight, splittable=asset.splittable))
    return out


class CostModel:
    """``ms = base + per_work * work + offset[node]``, by exponentially weighted least squares
    (``decay`` per sample) over every node's samples, each node's offset an average residual."""

    def __init__(self, prior: tuple[float, float] | None = None, min_samples: int = 8, decay: float = 0.99) -> None:
        self.prior, self.min_samples, self.decay = prior, min_samples, decay
        self._sums = np.zeros(5)  # w, w x, w x^2, w y, w x y
        self.samples = 0
        self.offsets: dict[str, float] = {}

    def add(self, node: str, work: float, ms: float) -> None:
        if not (math.isfinite(work) and math.isfinite(ms) and work >= 0 and ms >= 0):
            return
        line = self._fitted()  # node offsets are residuals of the fitted line, never of the prior
        self._sums = self.decay * self._sums + np.array([1.0, work, work * work, ms, work * ms])
        self.samples += 1
        if line is not None:
            residual = ms - (line[0] + line[1] * work)
            self.offsets[node] = 0.8 * self.offsets.get(node, 0.0) + 0.2 * residual

    def line(self) -> tuple[float, float] | None:
        """(base ms, ms per unit of work): fitted once ``min_samples`` spread over different work,
        else the prior."""
        return self._fitted() or self.prior

    def _fitted(self) -> tuple[float, float] | None:
        w, x, xx, y, xy = self._sums
        spread = w * xx - x * x
        if self.samples < self.min_samples or spread <= 1e-9 * max(w * xx, 1e-300):
            return None
        slope = max(0.0, (w * xy - x * y) / spread)
        return max(0.0, (y - slope * x) / w), slope

    def predict(self, node: str, work: float) -> float | None:
        line = self.line()
        if line is None:
            return None
        return max(0.0, line[0] + line[1] * work + self.offsets.get(node, 0.0))


def split_heavy(loads: Sequence[ViewLoad], node_ms: Mapping[str, float], per_work_ms: float, budget_ms: float,
                settings: AssignerSettings, counters: Counter[str]) -> list[Assignment]:
    """Bands of the heavy views of overloaded nodes for nodes with spare time (pure; see the module
    docstring). ``node_ms``: every node that may take part -> its expected render time (ms after
    the frame's instant) with nothing moved. Decisions are added to ``counters``."""
    finish = dict(node_ms)
    local = dict(node_ms)
    tile_ms = dict.fromkeys(node_ms, 0.0)
    out: list[Assignment] = []
    for owner in sorted(node_ms, key=lambda n: -node_ms[n]):
        if finish[owner] <= budget_ms:
            continue
        counters["overloaded"] += 1
        views = sorted((v for v in loads if v.node == owner), key=lambda v: -v.work)
        for view in views:
            view_ms = view.work * per_work_ms
            if not view.splittable or view_ms < settings.heavy_fraction * budget_ms:
                counters["light"] += 1
                continue
            counters["heavy"] += 1
            out.extend(_give_bands(view, view_ms, owner, finish, local, tile_ms, budget_ms, settings, counters))
            if finish[owner] <= budget_ms:
                break
    return out


def _give_bands(view: ViewLoad, view_ms: float, owner: str, finish: dict[str, float], local: dict[str, float],
                tile_ms: dict[str, float], budget_ms: float, settings: AssignerSettings,
                counters: Counter[str]) -> list[Assignment]:
    count = settings.tiles
    view_bytes = view.rays * TILE_BYTES_PER_PIXEL
    while count < MAX_TILES and view_bytes / count > settings.max_tile_bytes:
        count += 1
    band_ms = view_ms / count
    link = settings.link_ms + view_bytes / count / (settings.link_mb_per_s * 1e3)
    out: list[Assignment] = []
    for index in range(count - 1, 0, -1):  # band 0 always stays: the owner renders a prefix
        if finish[owner] <= budget_ms:
            break
        helpers = [n for n in finish if n != owner and finish[n] + band_ms <= budget_ms]
        if not helpers:
            counters["no_spare_node"] += 1
            break
        helper = min(helpers, key=lambda n: (finish[n], n))
        back = tile_ms[helper] + band_ms + link
        if back >= local[owner]:  # it would come back after the owner had rendered it itself
            counters["kept_local_deadline"] += 1
            break
        tile_ms[helper] += band_ms
        finish[helper] += band_ms
        local[owner] -= band_ms
        finish[owner] = max(local[owner], back, *(a.return_ms for a in out))
        out.append(Assignment(view=view, index=index, count=count, helper=helper, band_ms=band_ms, return_ms=back))
        counters["tiles_assigned"] += 1
    return out


class TaskAssigner:
    """Per frame, the tile orders of every node (see the module docstring). Used on the loop's
    thread only: ``assign`` as the orders are sent, ``observe`` with every report."""

    def __init__(self, stage: Stage, settings: AssignerSettings | None = None, *, far_m: float = 100.0,
                 dod_margin_px: float = 1.0) -> None:
        project = stage.project
        self.stage = stage
        self.settings = settings or AssignerSettings()
        self.frusta = StageFrustum(stage)
        self.samples = CabinetSamples([self.frusta.geometry(c.name) for c in project.canvases])
        self.camera_settings = {c.name: FrustumSettings.for_camera(c, far_m=far_m, dod_margin_px=dod_margin_px)
                                for c in project.cameras}
        self.models = {a.name: a for a in project.scene}
        self.cost = CostModel(self.settings.prior, self.settings.min_samples)
        self.counters: Counter[str] = Counter()
        self._boxes: dict[str, tuple[bytes, OrientedBox]] = {}
        self._work: OrderedDict[int, tuple[dict[str, float], frozenset[str]]] = OrderedDict()
        """Frame -> (node -> its estimated local work, nodes that gave or took tiles)."""

    def assign(self, plan: FramePlan, canvases: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[TileOrder, ...]]:
        """Node -> its tile orders for ``plan`` (as owner or helper), for nodes rendering ``canvases``
        (node -> the canvases its order carries: every node up, spares with none)."""
        loads = self.loads(plan, canvases)
        work = {n: sum(v.work for v in loads if v.node == n) for n in canvases}
        tick = plan.tick
        budget_ms = (tick.deadline_ns - tick.time_ns) / 1e6 * self.settings.budget_fraction
        line = self.cost.line()
        assigned: list[Assignment] = []
        if line is None:
            self.counters["no_cost_model"] += 1
        else:
            node_ms = {n: self.cost.predict(n, w) or 0.0 for n, w in work.items()}
            assigned = split_heavy(loads, node_ms, line[1], budget_ms, self.settings, self.counters)
        involved = {a.view.node for a in assigned} | {a.helper for a in assigned}
        for a in assigned:
            work[a.view.node] -= a.view.work / a.count
            work[a.helper] += a.view.work / a.count
        self._remember(tick.index, work, frozenset(involved))
        return self._orders(assigned, tick.deadline_ns)

    def loads(self, plan: FramePlan, canvases: Mapping[str, tuple[str, ...]]) -> list[ViewLoad]:
        """The frame's view loads (see :func:`estimate_loads`)."""
        planned, scene = plan.planned, plan.scene
        if planned is None or scene is None:
            return []
        cameras = [(c.name, CameraFrustum.from_camera(c.state, self.camera_settings.get(c.name, FrustumSettings())))
                   for c in planned.cameras if c.state is not None and c.on_wall]
        members = {(node, order.name): tuple(c for c in mine if c in order.rects and c not in plan.patterns)
                   for node, mine in canvases.items() for order in plan.cameras if order.on_wall}
        inner_scale = scene.quality.inner_scale
        assets = []
        for placement in scene.placements:
            model = self.models.get(placement.asset)
            if not placement.enabled or model is None:
                continue
            kind = asset_kind(model.path)
            assets.append(AssetBox(name=model.name, box=self._stage_box(model.name, placement.stage_to_scene),
                                   weight=KIND_WEIGHTS[kind], splittable=kind == "splat" or inner_scale < 1.0))
        return estimate_loads(self.samples, cameras, members, assets, inner_scale)

    def _stage_box(self, asset: str, stage_to_scene: F64) -> OrientedBox:
        matrix = np.asarray(stage_to_scene, dtype=np.float64)
        key = matrix.tobytes()
        cached = self._boxes.get(asset)
        if cached is None or cached[0] != key:
            scene_box = scene_bounds_of(self.models[asset]) or default_scene_bounds(self.stage, matrix)
            cached = (key, scene_box.transformed(np.asarray(np.linalg.inv(matrix), dtype=np.float64)))
            self._boxes[asset] = cached
        return cached[1]

    def _remember(self, frame: int, work: dict[str, float], involved: frozenset[str]) -> None:
        self._work[frame] = (work, involved)
        while len(self._work) > WORK_HISTORY:
            self._work.popitem(last=False)

    def _orders(self, assigned: list[Assignment], deadline_ns: int) -> dict[str, tuple[TileOrder, ...]]:
        given: dict[tuple[str, str, str], float] = {}
        for a in assigned:
            key = (a.view.node, a.view.camera, a.view.asset)
            given[key] = given.get(key, 0.0) + a.band_ms
        out: dict[str, list[TileOrder]] = {}
        for a in assigned:
            v = a.view
            wait_ns = deadline_ns - round((given[(v.node, v.camera, v.asset)] + self.settings.finish_ms) * 1e6)
            order = TileOrder(owner=v.node, helper=a.helper, camera=v.camera, asset=v.asset, canvases=v.canvases,
                              index=a.index, count=a.count, wait_ns=wait_ns)
            out.setdefault(v.node, []).append(order)
            out.setdefault(a.helper, []).append(order)
        return {n: tuple(t) for n, t in out.items()}

    def observe(self, node: str, report: FrameReport) -> None:
        """Feed the cost model with the node's render times of frames it rendered alone."""
        times = list(report.late_renders)
        if report.status == "fresh" and math.isfinite(report.render_ms):
            times.append((report.frame, report.render_ms))
        for frame, ms in times:
            found = self._work.get(frame)
            if found is None or node in found[1] or node not in found[0]:
                continue
            self.cost.add(node, found[0][node], ms)

    def report(self) -> dict[str, object]:
        """Decisions so far and the cost model, for the run report."""
        line = self.cost.line()
        return {"decisions": dict(self.counters), "cost_samples": self.cost.samples,
                "cost_model": None if line is None else {"base_ms": round(line[0], 3), "ms_per_mwork": line[1] * 1e6}}
