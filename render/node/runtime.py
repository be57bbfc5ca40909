"""One render node at work: its link to the frame master, its render thread and its present thread.

* the **link reader** (thread) takes the master's messages: frame orders are scheduled on the
  node's frame lock (their deadline converted to this node's clock), thumbnail requests wait for
  the next render, pongs feed the clock estimate, ``Stop`` (or the master going away) ends it;
* the **render** thread (``vpstage-node-render``) renders the newest order whose deadline is still
  ahead (``render.node.frame_renderer``): canvases on the device, packed, copied once into pinned
  host slots. Frame N+1 renders while frame N waits for its deadline or is being sent;
* the **present** thread (the caller of :meth:`NodeRuntime.run`) sleeps until each frame's
  deadline and hands the frame's pictures, or the previous ones again when they were not ready
  (counted late), to this node's outputs, opening and closing outputs as the master moves
  canvases; then it reports the frame to the master (present time on the master's clock,
  render, GPU and CPU times, errors, outputs).

Only orders, reports, pings, requested thumbnails and (with ``cluster.assign_tiles``) bands of
camera views rendered for another node cross the link (``render.node.tiles``); canvases stay on
the node.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from fractions import Fraction

from render.cancel import RenderCancelled
from render.heap import freeze_startup_heap
from render.node.frame_renderer import NodeFrameRenderer, RenderedFrame
from render.node.outputs import NodeOutputs, canvas_formats
from render.node.profiling import NodeTrace
from render.node.tiles import TileExchange
from vpstage.nodes.channel import Channel, ChannelClosed
from vpstage.nodes.clock_sync import ClockSync, boot_id
from vpstage.nodes.failures import failure_text
from vpstage.nodes.frame_lock import Due, FrameLock
from vpstage.nodes.messages import (
    Configure,
    FrameOrder,
    FrameReport,
    Ping,
    Pong,
    Progress,
    Stop,
    ThumbnailRequest,
    TileResult,
)
from vpstage.nodes.orders import OrderReader
from vpstage.nodes.spec import NodeSpec
from vpstage.stage.model import Project
from vpstage.timing import MonotonicTimeSource, TimeSource, count_to_ndi_100ns

log = logging.getLogger(__name__)
PING_FAST_S, PING_SLOW_S, FAST_PINGS = 0.05, 1.0, 20
SPIN_NS = 500_000
"""The present thread spins (holding the GIL) for the last 0.5 ms before a deadline."""
OUTPUT_INFO_EVERY = 120
"""Reports between two refreshes of the outputs' descriptions (sent at once when they change)."""


@dataclass(frozen=True)
class PreparedPresent:
    """A present's bookkeeping, done before its deadline (``NodeRuntime._prepare``)."""

    frame: int
    open_errors: dict[str, str]
    timecode_100ns: int


class NodeRuntime:
    """See the module docstring. Build with the master's Configure, then ``build`` and ``run``."""

    def __init__(self, channel: Channel, configure: Configure, time_source: TimeSource | None = None) -> None:
        self.channel, self.configure = channel, configure
        self.time = time_source or MonotonicTimeSource()
        project = Project.model_validate_json(configure.project_json)
        self.project = project
        self.spec = NodeSpec(node=configure.node, device=configure.device, project=project,
                             base_dir=configure.base_dir, scene_renderer=configure.scene_renderer)
        self.rate = Fraction(project.frame_rate)
        self.orders = OrderReader(configure.node, project, self.spec.revision, configure.far_m,
                                  configure.dod_margin_px)
        self.lock: FrameLock[RenderedFrame] = FrameLock()
        self.sync = ClockSync(same_clock=bool(configure.boot_id) and configure.boot_id == boot_id())
        self.outputs = NodeOutputs(project, configure.outputs)
        self.renderer: NodeFrameRenderer | None = None
        self._stop = threading.Event()
        self._thumbnails: ThumbnailRequest | None = None
        self._shown: RenderedFrame | None = None
        self._shown_timecode_100ns = 0
        """The timecode of the frame ``_shown`` was rendered for: a repeat carries it again."""
        self._cpu_mark = time.process_time()
        self._skipped_mark = 0
        self._reports = 0
        self._outputs_seen: tuple[str, ...] = ()
        self.fatal: str | None = None
        self.trace = NodeTrace(configure.node)
        self.tiles = TileExchange(configure.node, channel.send, self.sync.to_local, self.time)
        """Bands of camera views rendered for other nodes or by them (``cluster.assign_tiles``)."""

    def build(self) -> dict[str, object]:
        """Load the stage and scene on the device and warm up; returns the node's info for Ready."""
        formats = canvas_formats(self.project, self.configure.outputs)
        self.channel.send(Progress("starting the device"))
        self.renderer = NodeFrameRenderer(self.spec, formats, self.configure.ring_slots, on_step=self._tell_step)
        attach = getattr(self.renderer.scene, "attach_tiles", None)
        if callable(attach):
            attach(self.tiles)
        self._open_own_outputs()
        info = self.renderer.info()
        info.update({"host": _hostname(), "same_clock": self.sync.same_clock, "outputs": self.outputs.infos()})
        freeze_startup_heap()
        self.trace.start_facts()
        return json.loads(json.dumps(info, default=str))  # plain values only, for the wire

    def _open_own_outputs(self) -> None:
        """Open the outputs of the canvases the project gives this node before it reports ready,
        so the sources exist for receivers to connect to and the first frame does not pay for
        opening them (loading NDI and creating two senders measured ~90 ms in a first present on
        an H100 host). One that does not open now is left to the first frame that sends the
        canvas, which tries again and reports why: a restarted node's names may still be held by
        the spare covering for it, which closes them before the canvases come home."""
        assert self.renderer is not None
        self.channel.send(Progress("opening the outputs"))
        own = self.renderer.own_canvases()
        self.outputs.reconcile(own)
        self.outputs.forget_failures(own)

    def _tell_step(self, step: str) -> None:
        self.channel.send(Progress(step))

    # ------------------------------------------------------------------ run

    def run(self) -> None:
        """Serve until the master says stop or goes away (present loop on the calling thread)."""
        assert self.renderer is not None, "build() first"
        threads = [threading.Thread(target=self._read_loop, name="vpstage-node-link", daemon=True),
                   threading.Thread(target=self._render_loop, name="vpstage-node-render", daemon=True),
                   threading.Thread(target=self._ping_loop, name="vpstage-node-clock", daemon=True)]
        for thread in threads:
            thread.start()
        try:
            self._present_loop()
        finally:
            self.stop()
            self.renderer.cancel()
            for thread in threads[1:]:
                thread.join(5.0)
            self._close()

    def stop(self) -> None:
        self._stop.set()
        self.lock.close()

    def _close(self) -> None:
        for entry in self.lock.drain():
            if entry.result is not None:
                entry.result.release()
        if self._shown is not None:
            self._shown.release()
        self.outputs.close()
        self.trace.write()
        if self.renderer is not None:
            self.renderer.close()
        self.channel.flush(0.5)
        self.channel.close("node stopped")

    # ------------------------------------------------------------------ link reader (thread)

    def _read_loop(self) -> None:
        try:
            while not self._stop.is_set():
                message = self.channel.recv()
                if isinstance(message, FrameOrder):
                    deadline = self.sync.to_local(message.deadline_ns)
                    self.lock.schedule(message, deadline)
                    self.trace.note(message.frame, "arrived", self.time.now_ns(), deadline)
                elif isinstance(message, TileResult):
                    self.tiles.offer(message)
                elif isinstance(message, ThumbnailRequest):
                    self._thumbnails = message
                elif isinstance(message, Pong):
                    self.sync.add(message.node_ns, message.master_ns, self.time.now_ns())
                elif isinstance(message, Stop):
                    break
        except ChannelClosed:
            pass
        self.stop()

    def _ping_loop(self) -> None:
        sent = 0
        while not self._stop.is_set():
            self.channel.send(Ping(self.time.now_ns()))
            sent += 1
            self._stop.wait(PING_FAST_S if sent < FAST_PINGS else PING_SLOW_S)

    # ------------------------------------------------------------------ render (thread)

    def _render_loop(self) -> None:
        assert self.renderer is not None
        try:
            while not self._stop.is_set():
                entry = self.lock.next_to_render(self.time.now_ns())
                if entry is None:
                    self.lock.wait_for_order(0.05)
                    continue
                request, self._thumbnails = self._thumbnails, None
                self.trace.before_render()
                self.trace.note(entry.order.frame, "started", self.time.now_ns(), entry.deadline_ns)
                cpu = self.trace.cpu_mark()
                rendered = self.renderer.render(self.orders.job(entry.order), request)
                self.trace.note(entry.order.frame, "rendered", self.time.now_ns(), entry.deadline_ns)
                self.trace.cpu_since(entry.order.frame, "render_cpu_ms", cpu)
                self.trace.facts(entry.order.frame)
                for thumbnail in rendered.thumbnails:
                    self.channel.send(thumbnail)
                if not self.lock.rendered(entry.order.frame, rendered, self.time.now_ns(), rendered.render_ms):
                    rendered.release()
        except RenderCancelled:
            pass
        except Exception as exc:  # the node is broken: stop, so the master restarts it
            self.fatal = failure_text(exc)
            log.error("node %s: render failed: %s", self.spec.node, self.fatal)
            self.stop()

    # ------------------------------------------------------------------ present (calling thread)

    def _present_loop(self) -> None:
        while not self._stop.is_set():
            upcoming = self.lock.upcoming()
            if upcoming is None:
                self.lock.wait_for_order(0.05)
                continue
            prepared = self._prepare(upcoming.order)
            self._wait_until(upcoming.deadline_ns)
            due = self.lock.due(self.time.now_ns(), self._shown is not None)
            if due is not None:
                self._present(due, prepared if prepared.frame == due.order.frame else self._prepare(due.order))

    def _prepare(self, order: FrameOrder) -> PreparedPresent:
        """What a present needs besides its pictures, done before the deadline: the outputs for
        ``order``'s canvases opened (or closed), and its timecode. After the deadline the present
        thread only sends: every bit of Python it runs then waits for the GIL against the render
        thread, and the time until its last send is this node's share of the skew."""
        return PreparedPresent(frame=order.frame, open_errors=self.outputs.reconcile(order.canvases),
                               timecode_100ns=count_to_ndi_100ns(order.count, self.rate))

    def _wait_until(self, deadline_ns: int) -> None:
        """Sleep until just before ``deadline_ns``, then spin the last ``SPIN_NS``: a sleeping
        thread wakes tens to hundreds of microseconds late, and must win the GIL back from the
        render thread; spinning holds it, so every node presents within microseconds of the
        deadline (the skew between nodes)."""
        if not isinstance(self.time, MonotonicTimeSource):
            self.time.sleep_until(deadline_ns)
            return
        self.time.sleep_until(deadline_ns - SPIN_NS)
        while time.monotonic_ns() < deadline_ns:
            pass

    def _present(self, due: Due[RenderedFrame], prepared: PreparedPresent) -> None:
        order = due.order
        fresh = due.outcome == "fresh"
        shown = due.result if fresh else self._shown
        timecode = prepared.timecode_100ns if fresh else self._shown_timecode_100ns
        start = self.time.now_ns()
        send_errors = dict(prepared.open_errors)
        if shown is not None:
            for canvas in order.canvases:
                held = shown.slots.get(canvas)
                if held is not None and (error := self.outputs.send(canvas, held[1].array, timecode)):
                    send_errors[canvas] = error
        end = self.time.now_ns()
        self.trace.note(order.frame, "sending", start, due.deadline_ns)
        self.trace.note(order.frame, "sent", end, due.deadline_ns)
        self.trace.mark(order.frame, "outcome", due.outcome)
        if fresh and due.result is not None:
            previous, self._shown = self._shown, due.result
            self._shown_timecode_100ns = prepared.timecode_100ns
            if previous is not None:
                previous.release()  # every output has moved on to the new buffers
        self.channel.send(self._report(due, start, end, send_errors))

    def _report(self, due: Due[RenderedFrame], start_ns: int, end_ns: int, errors: dict[str, str]) -> FrameReport:
        cpu = time.process_time()
        cpu_ms, self._cpu_mark = (cpu - self._cpu_mark) * 1e3, cpu
        skipped = self.lock.counters.skipped
        skipped_now, self._skipped_mark = skipped - self._skipped_mark, skipped
        fresh = due.outcome == "fresh" and due.result is not None
        status = due.outcome if due.order.canvases else "none"
        shown = self._shown
        opened = self.outputs.open_canvases()
        self._reports += 1
        changed = opened != self._outputs_seen or self._reports % OUTPUT_INFO_EVERY == 1
        self._outputs_seen = opened
        return FrameReport(
            frame=due.order.frame, status=status, present_ns=self.sync.to_master(end_ns),
            present_ms=(end_ns - start_ns) / 1e6, render_ms=due.render_ms if fresh else math.nan,
            gpu_ms=due.result.gpu_ms if fresh and due.result is not None else math.nan, cpu_ms=cpu_ms,
            skipped=skipped_now, late_renders=self.lock.take_late_renders(),
            errors=dict(shown.errors) if shown is not None else {}, outputs=opened,
            output_info=tuple(self.outputs.infos()) if changed else None, output_errors=errors,
            clock_offset_ns=self.sync.offset_ns(), clock_rtt_ns=self.sync.rtt_ns(), refused=self._refused(),
            tiles=self.tiles.snapshot())

    def _refused(self) -> dict[str, int]:
        counts = {k: v for k, v in self.channel.counters.items()
                  if k not in ("sent", "received", "dropped_outgoing") and v}
        if self.lock.counters.out_of_order:
            counts["out_of_order"] = self.lock.counters.out_of_order
        return counts


def _hostname() -> str:
    import socket

    with contextlib.suppress(OSError):
        return socket.gethostname()
    return ""
