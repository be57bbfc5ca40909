"""A render node's frame: every canvas it renders, on its device, into host buffers its outputs read.

Per canvas of a job (the node's render thread, its CUDA stream):

* **scene**: the scene renderer named in the node's spec (``"module:factory"``, ``factory(stage,
  device)``; ``render.scene:build_scene_renderer`` for splats and NeRF) fills the canvas's colour
  buffer on the device (outer frustum from its cube-map cache, inner frustum per camera, assets
  composited by depth, soft edge);
* **test pattern**: the pattern's still layer is kept on the device (drawn once by
  ``vpstage.patterns``); a frame pastes only its moving parts (sync bar, frame counter);
* **colour**: a canvas with colour settings goes through its baked OCIO transform on the device
  (``render.node.colour``: scene colour to the canvas's code values); test patterns are drawn in
  code values already and skip it;
* **colour regions**: the operator's per-region corrections the frame's order carries
  (``render.node.regions``), in place on the canvas's code values, each on its rectangle only;
* then the canvas is packed into its output format on the device (UYVY, BGRX, or 16-bit P216 for
  10- and 16-bit canvases; ``render.node.pixel_formats``) and copied once, asynchronously, into a
  free pinned host slot (``render.node.canvas_buffers``).

No per-frame allocation of canvas-sized memory. A canvas that cannot be rendered (no scene
engine, a missing or corrupt asset, an exception in the engine) shows the error card instead, and
its reason is reported. Thumbnails for the console are cut from the same device buffers on
request, downscaled on the device.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch.profiler import record_function

from render.cancel import RenderCancelled, cancellable
from render.node.canvas_buffers import CanvasBuffers, Slot
from render.node.canvas_errors import CanvasError
from render.node.colour import CanvasColour
from render.node.pixel_formats import Packing, pack_bgrx, quantise
from render.node.regions import CanvasRegions
from render.splat.pair_checks import deferred_pair_checks
from vpstage.frame_master.previews import DEFAULT_MAX_BYTES
from vpstage.nodes.failures import failure_text
from vpstage.nodes.jobs import CanvasJob, FrameJob, SceneContent
from vpstage.nodes.messages import FourCC, Thumbnail, ThumbnailRequest
from vpstage.nodes.spec import NodeSpec
from vpstage.patterns import PatternPainter, PatternSpec
from vpstage.stage import Stage

WARM_PATTERN = PatternSpec("cabinets")
"""Drawn for every canvas while the node starts, so its first frames are in time."""
WARM_THUMBNAIL_WIDTH = 480
"""Width of the thumbnail cut per canvas at build (a preview's usual width)."""
STILL_CACHE = 8
"""Pattern still layers kept on the device (per node)."""


class SceneRenderer(Protocol):
    """What a scene engine provides to a node (built once per node, on its device).

    It may also define ``warm_up()`` (called once before the node reports ready, so kernel
    compilation and first allocations do not land in live frames), ``describe()`` (what it
    loaded, with content hashes, for take records), ``begin_frame(job)`` (called before a frame's
    canvases) and ``begin_retry(job)`` (called instead when the frame is rendered again after a
    pair-buffer overflow; ``begin_frame`` when it lacks one).
    """

    def render_canvas(self, job: CanvasJob, content: SceneContent, colour: torch.Tensor) -> None:
        """Fill ``colour`` ((H, W, 3) float32 RGB 0..1 on the node's device) with the scene."""
        ...

    def close(self) -> None: ...


def buffers_warm_frames(buffers: CanvasBuffers) -> int:
    """Frames that leave every slot of ``buffers`` with its captured graph: one eager, then one per slot."""
    return len(buffers.slots) + 1


def load_scene_renderer(path: str, stage: Stage, device: str) -> SceneRenderer:
    module_name, _, func_name = path.partition(":")
    if not func_name:
        raise ValueError(f"scene renderer {path!r} is not 'module:factory'")
    factory = getattr(importlib.import_module(module_name), func_name)
    renderer: SceneRenderer = factory(stage, device)
    return renderer


@dataclass(kw_only=True)
class RenderedFrame:
    """One frame's pictures in host slots (the present thread sends them, then releases them)."""

    frame: int
    slots: dict[str, tuple[CanvasBuffers, Slot]]
    errors: dict[str, str]
    render_ms: float = math.nan
    gpu_ms: float = math.nan
    thumbnails: list[Thumbnail] = field(default_factory=list)

    def release(self) -> None:
        for buffers, slot in self.slots.values():
            buffers.release(slot)
        self.slots = {}


class NodeFrameRenderer:
    """Renders the canvases of each FrameJob for one node (see the module docstring)."""

    def __init__(self, spec: NodeSpec, packings: Mapping[str, Packing | FourCC], slots: int = 3,
                 on_step: Callable[[str], None] | None = None) -> None:
        """``packings``: canvas -> its output format (a bare FourCC: 8-bit). ``on_step`` hears what
        the build is doing (loading the scene, compiling kernels, ...)."""
        step = on_step or (lambda _text: None)
        self.spec = spec
        self.packings = {c: p if isinstance(p, Packing) else Packing(p) for c, p in packings.items()}
        self.slots = slots
        self.device = torch.device(spec.device)
        self.stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None
        self._cancel = threading.Event()
        self.stage = Stage.from_project(spec.project, spec.base_dir)
        self.painter = PatternPainter(self.stage.layout)
        self._sizes = {c.name: (c.width, c.height) for c in spec.project.canvases}
        self._buffers: dict[str, CanvasBuffers] = {}
        self._stills: OrderedDict[tuple[str, PatternSpec], torch.Tensor] = OrderedDict()
        self._scratch: dict[str, torch.Tensor] = {}
        """Canvas -> its own BGRX buffer a moving pattern is drawn into."""
        self._request: ThumbnailRequest | None = None
        self._early: dict[str, Thumbnail | str] = {}
        """Canvas -> this frame's scene-referred thumbnail, cut before the colour transform."""
        self._shown: dict[str, torch.Tensor] = {}
        """Canvas -> the 8-bit BGRX picture of its last pattern frame (absent: its scene colour)."""
        self.scene: SceneRenderer | None = None
        self.scene_error = "no scene renderer on this node (test patterns only)"
        if spec.scene_renderer:
            try:
                with self._on_stream():
                    step("loading the scene")
                    self.scene = load_scene_renderer(spec.scene_renderer, self.stage, spec.device)
                    warm_up = getattr(self.scene, "warm_up", None)
                    if callable(warm_up):
                        step("compiling and warming up the renderers")
                        warm_up()
                    warm_outer = getattr(self.scene, "warm_outer", None)
                    if callable(warm_outer) and self.stream is not None:  # a GPU runs the default quality
                        step("rendering the outer frustum's cache")
                        warm_outer(self.own_canvases())
            except Exception as exc:  # the node still runs: scene canvases show why they are empty
                self.scene_error = f"scene failed to load: {failure_text(exc)}"
        step("baking the colour transforms")
        self.colour = CanvasColour(spec.project, spec.base_dir, self.device)
        self.regions = CanvasRegions(self.device)
        step("drawing test patterns")
        for canvas in self._sizes:  # the costly still layer, drawn before the node reports ready
            self.painter.still_layer(canvas, WARM_PATTERN)
        if self.stream is not None:  # the packing graphs are CUDA's; a CPU node has nothing to capture
            step("preparing the output buffers")
            with self._on_stream():
                for canvas in self.own_canvases():
                    self._warm_outputs(canvas)
        step("warming up the preview thumbnails")
        with self._on_stream():
            for canvas in self.own_canvases():
                self._warm_thumbnail(canvas)
        self._synchronize()

    def _warm_thumbnail(self, canvas: str) -> None:
        """Cut one preview thumbnail of ``canvas`` (and drop it), so the first one the console asks
        for in a live frame does not load the downscaling kernels then (CUDA loads a kernel's module
        the first time it runs)."""
        self.buffers(canvas)
        self._thumbnail(0, canvas, -1, WARM_THUMBNAIL_WIDTH, DEFAULT_MAX_BYTES)

    def own_canvases(self) -> list[str]:
        """The canvases the project assigns to this node (a spare's are given to it at failover)."""
        return [c.name for c in self.spec.project.canvases if c.node == self.spec.node]

    def _warm_outputs(self, canvas: str) -> None:
        """Pass every host slot of ``canvas`` through the colour transform, packing and copy once
        more than it takes to capture their CUDA graphs, so the first live frames replay them."""
        buffers = self.buffers(canvas)
        for _ in range(buffers_warm_frames(buffers)):
            slot = buffers.acquire(-1)
            try:
                with contextlib.suppress(CanvasError):  # a broken transform is reported per frame
                    self.colour.apply(canvas, buffers.colour)
                buffers.finish_colour(slot, self.stream)
                buffers.wait(slot)
            finally:
                buffers.release(slot)

    def _on_stream(self) -> contextlib.AbstractContextManager[object]:
        return torch.cuda.stream(self.stream) if self.stream is not None else contextlib.nullcontext()

    def _synchronize(self) -> None:
        if self.stream is not None:
            self.stream.synchronize()

    def buffers(self, canvas: str) -> CanvasBuffers:
        """The canvas's device and host buffers (allocated the first time it is rendered here)."""
        found = self._buffers.get(canvas)
        if found is None:
            width, height = self._sizes[canvas]
            found = CanvasBuffers(canvas, width, height, self.packings.get(canvas, Packing()), self.device,
                                  self.slots)
            self._buffers[canvas] = found
        return found

    def cancel(self) -> None:
        """Abandon the render in progress at its next cancellation point (any thread)."""
        self._cancel.set()

    # ------------------------------------------------------------------ one frame

    def render(self, job: FrameJob, thumbnails: ThumbnailRequest | None = None) -> RenderedFrame:
        """Render every canvas of ``job`` into host slots; returns once they are in host memory.

        The splat layers' pair-buffer checks wait until then (``render.splat.pair_checks``): a
        layer that ran out of room grows its buffers and the frame is rendered again, checked as
        it goes (rare: the warm-up sizes the buffers for close views)."""
        start = time.perf_counter()
        with deferred_pair_checks() as checks:
            out = self._render_once(job, thumbnails)
        if checks.overflowed():
            out.release()
            out = self._render_once(job, thumbnails, again=True)
        out.render_ms = (time.perf_counter() - start) * 1e3
        return out

    def _render_once(self, job: FrameJob, thumbnails: ThumbnailRequest | None, again: bool = False) -> RenderedFrame:
        start = time.perf_counter()
        out = RenderedFrame(frame=job.frame, slots={}, errors={})
        self._request, self._early = thumbnails, {}
        events = self._gpu_events()
        try:
            with cancellable(self._cancel), self._on_stream():
                if events is not None:
                    events[0].record(self.stream)
                begin = getattr(self.scene, "begin_retry", None) if again else None
                begin = begin or getattr(self.scene, "begin_frame", None)
                if callable(begin):
                    with record_function("vpstage.begin_frame"):
                        begin(job)
                for canvas_job in job.canvases:
                    self._render_canvas(canvas_job, job.frame, out)
                if thumbnails is not None:
                    out.thumbnails = self._thumbnails(thumbnails, job.frame, out)
                if events is not None:
                    events[1].record(self.stream)
            for buffers, slot in out.slots.values():
                buffers.wait(slot)
        except BaseException:
            out.release()
            raise
        out.render_ms = (time.perf_counter() - start) * 1e3
        if events is not None:  # the end event follows the thumbnails, which may still be running
            events[1].synchronize()
            out.gpu_ms = events[0].elapsed_time(events[1])
        return out

    def _gpu_events(self) -> tuple[torch.cuda.Event, torch.cuda.Event] | None:
        if self.stream is None:
            return None
        return torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def _render_canvas(self, job: CanvasJob, frame: int, out: RenderedFrame) -> None:
        if job.canvas not in self._sizes:  # nothing to draw into: reported, and nothing is sent
            out.errors[job.canvas] = f"canvas {job.canvas} is not on this node's stage"
            return
        buffers = self.buffers(job.canvas)
        slot = buffers.acquire(frame)
        out.slots[job.canvas] = (buffers, slot)
        try:
            self._fill(job, frame, buffers, slot)
        except RenderCancelled:
            raise
        except Exception as exc:
            reason = str(exc) if isinstance(exc, CanvasError) else failure_text(exc)
            out.errors[job.canvas] = reason
            self._pattern(job.canvas, PatternSpec("error", text=reason), frame, buffers, slot)

    def _fill(self, job: CanvasJob, frame: int, buffers: CanvasBuffers, slot: Slot) -> None:
        if (job.width, job.height) != (buffers.width, buffers.height):
            raise CanvasError(f"canvas {job.canvas} {job.width}x{job.height} is not on this node's stage")
        content = job.content
        if isinstance(content, PatternSpec):
            self._pattern(job.canvas, content, frame, buffers, slot)
            return
        if self.scene is None:
            raise CanvasError(self.scene_error)
        if content.rays.stage_revision != self.spec.revision:
            raise CanvasError("the job was planned for another revision of the stage; restart the node")
        with record_function("vpstage.scene"):
            self.scene.render_canvas(job, content, buffers.colour)
        if self._wants_scene_referred(job.canvas, bool(content.regions)):
            self._early[job.canvas] = self._early_thumbnail(job.canvas, frame)
        with record_function("vpstage.colour"):
            self.colour.apply(job.canvas, buffers.colour)
        if content.regions:
            with record_function("vpstage.colour_regions"):
                self.regions.apply(job.canvas, content.regions, buffers.colour)
        with record_function("vpstage.pack_copy"):
            buffers.finish_colour(slot, self.stream)
        self._shown.pop(job.canvas, None)

    def _pattern(self, canvas: str, spec: PatternSpec, frame: int, buffers: CanvasBuffers, slot: Slot) -> None:
        still = self._still(canvas, spec)
        patches = self.painter.moving_parts(canvas, spec, frame)
        picture = still
        if patches:  # the still layer stays as cached; the moving parts go over a copy of it
            picture = self._scratch.get(canvas)
            if picture is None or picture.shape != still.shape:
                picture = self._scratch[canvas] = torch.empty_like(still)
            picture.copy_(still)
            for y, x, pixels in patches:
                h, w = pixels.shape[:2]
                picture[y:y + h, x:x + w] = torch.from_numpy(np.array(pixels)).to(self.device)
        self._shown[canvas] = picture
        pack_bgrx(picture, buffers.target(slot), buffers.packing)
        buffers.publish(slot, self.stream)

    def _still(self, canvas: str, spec: PatternSpec) -> torch.Tensor:
        key = (canvas, spec)
        found = self._stills.get(key)
        if found is None:
            found = torch.from_numpy(np.array(self.painter.still_layer(canvas, spec))).to(self.device)
            self._stills[key] = found
            while len(self._stills) > STILL_CACHE:
                self._stills.popitem(last=False)
        else:
            self._stills.move_to_end(key)
        return found

    # ------------------------------------------------------------------ thumbnails

    def _thumbnails(self, request: ThumbnailRequest, frame: int, out: RenderedFrame) -> list[Thumbnail]:
        """Thumbnails of the requested canvases this frame rendered (a failure costs the preview
        only: it is reported as the canvas's error, the frame goes out). Scene-referred ones were
        cut before the colour transform (``_early``)."""
        canvases = [c for c in request.canvases if c in out.slots]
        if not canvases:
            return []
        budget = request.max_bytes // len(canvases)
        thumbnails = []
        for canvas in canvases:
            early = self._early.get(canvas)
            try:
                if isinstance(early, str):
                    raise RuntimeError(early)
                thumbnails.append(early or self._thumbnail(request.request, canvas, frame, request.max_width, budget))
            except Exception as exc:
                out.errors.setdefault(canvas, f"preview thumbnail failed: {failure_text(exc)}")
        return thumbnails

    def _wants_scene_referred(self, canvas: str, has_regions: bool) -> bool:
        """Whether this frame's request wants ``canvas`` before its colour transform and regions
        (only a canvas that has them differs)."""
        request = self._request
        return (request is not None and request.scene_referred and canvas in request.canvases
                and (canvas in self.colour.managed or has_regions))

    def _early_thumbnail(self, canvas: str, frame: int) -> Thumbnail | str:
        """``canvas``'s thumbnail now, from the scene's colour (or why it failed)."""
        request = self._request
        assert request is not None
        budget = request.max_bytes // max(1, sum(1 for c in request.canvases if c in self._sizes))
        try:
            return self._thumbnail(request.request, canvas, frame, request.max_width, budget)
        except Exception as exc:
            return failure_text(exc)

    def _thumbnail(self, request: int, canvas: str, frame: int, max_width: int, budget: int) -> Thumbnail:
        buffers = self._buffers[canvas]
        width = max(1, min(max_width, buffers.width))
        height = max(1, round(buffers.height * width / buffers.width))
        while width * height * 4 > budget and width > 1:
            width = max(1, width * 3 // 4)
            height = max(1, round(buffers.height * width / buffers.width))
        pattern = self._shown.get(canvas)  # a pattern's 8-bit BGRX, else the scene's colour
        rgb = buffers.colour if pattern is None else pattern[..., :3].flip(-1).to(torch.float32) / 255.0
        small = F.interpolate(rgb.permute(2, 0, 1)[None], size=(height, width), mode="area")[0].permute(1, 2, 0)
        bgrx = torch.empty((height, width, 4), dtype=torch.uint8, device=self.device)
        bgrx[..., :3] = quantise(small).flip(-1).to(torch.uint8)
        bgrx[..., 3] = 255
        return Thumbnail(request=request, canvas=canvas, frame=frame, width=width, height=height,
                         pixels=bgrx.cpu().numpy().tobytes())

    # ------------------------------------------------------------------ info

    def info(self) -> dict[str, object]:
        """Device and the scene renderer's ``describe()`` (loaded assets and content hashes)."""
        describe = getattr(self.scene, "describe", None)
        scene = describe() if callable(describe) else {"error": self.scene_error}
        name = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu"
        return {"node": self.spec.node, "device": self.spec.device, "device_name": name, "scene": scene}

    def close(self) -> None:
        self.cancel()
        if self.scene is not None:
            self.scene.close()
            self.scene = None
        self._buffers.clear()
        self._stills.clear()
        self._scratch.clear()
        self._shown.clear()
