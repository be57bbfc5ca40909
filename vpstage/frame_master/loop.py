"""The frame master's loop: clock -> plan -> orders to the render nodes -> their reports -> stats.

Per frame N (on the loop's own thread, never the GUI's):

1. wait for frame N's instant on the frame clock, serving the nodes' messages meanwhile;
2. ask the frame source for the frame's plan (tracked cameras, scene state, test patterns);
3. send every node that is up a small order: the frame, its timecode, the present deadline on the
   master's clock, the canvases it renders now (failover moves them), cameras and scene. No pixels
   travel: each node renders on its own device and presents its own outputs at the deadline
   (``render.node``), repeating its previous pictures when it is late;
4. account: each node reports right after its present (fresh or repeated, present time, render
   and CPU times); frame N closes when all reported, or at its deadline plus a grace for those
   that did not; statistics and ``frame_presented`` follow, in frame order;
5. handle failures: a node whose connection ends (its process died) is down at once; one that has
   not reported for ``stall_frames`` frames is down too and is killed. Down nodes are restarted
   and their canvases move to a free spare, which opens outputs under the same names; when the
   node is back, its canvases go home once the spare has closed its outputs for them (never two
   senders of one name). A (re)started node's first report may take ``FIRST_ANSWER_GRACE_S``, and
   so may a node's first report after it is given canvases it was not rendering (a spare taking
   over opens their outputs and sets up their buffers: on a loaded host that outlasts
   ``stall_frames``, and killing the spare then would leave the canvases without anyone).

Previews: the console asks for thumbnails (``previews.want``); the loop requests them from the
owning nodes at most ``previews`` rate, within its byte budget.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
from dataclasses import replace
from typing import Any

from psygnal import Signal

from vpstage.frame_master.accounts import FrameAccounts, OpenFrame, frame_stats
from vpstage.frame_master.failover import Failover
from vpstage.frame_master.frame_stats import StatsHistory
from vpstage.frame_master.node_cluster import Incoming, NodeCluster
from vpstage.frame_master.plan import FramePlan, FrameSource
from vpstage.frame_master.previews import Previews
from vpstage.frame_master.report import build_report
from vpstage.frame_master.task_assigner import TaskAssigner
from vpstage.nodes.jobs import CanvasImage
from vpstage.nodes.messages import FrameReport, Thumbnail
from vpstage.stage import Stage
from vpstage.timing import FrameClock, FrameTick

FIRST_ANSWER_GRACE_S = 10.0
"""How long a (re)started node may take over its first report before it counts as stalled."""
CLOSE_GRACE_FRAMES = 3
"""A frame closes this many periods after its deadline at the latest (missing reports are late)."""


class LoopEvents:
    """Events of a running loop. All fire on the frame loop's thread; the UI must queue them onto
    its own thread (psygnal ``thread=`` or a Qt queued connection)."""

    frame_presented = Signal(object)
    """FrameStats of the frame just closed (every node reported, or the grace ran out)."""
    frame_closed = Signal(object, object)
    """(FrameStats, FramePlan) of the same frame: what was planned and what the nodes did."""
    node_down = Signal(str, str)
    """(node, reason): marked down and being restarted."""
    node_up = Signal(str)
    """(node): its restarted process is ready; its canvases are going home."""
    recovered = Signal(object)
    """Outage whose canvases are all on the wall fresh again (recovery_ms measured)."""
    rendered = Signal(str, int, float, bool)
    """(node, frame, render_ms, on_time) for every render a node reported, late ones included."""
    canvas_error = Signal(str, str)
    """(canvas, reason) when a canvas starts showing the error card (a missing or corrupt asset, a
    scene engine that failed), or its reason changes; reason '' when it renders properly again."""
    output_error = Signal(str, str)
    """(canvas, message): an output refused a frame (the node carries on)."""
    stopped = Signal(str)
    """'done', 'stopped' or 'error: ...' when the loop ends."""


class FrameLoop:
    """Runs the frame master headless; the console and ``main.py`` drive it.

    The node cluster is started by ``run`` (idempotent) and stopped by ``close``.
    """

    def __init__(self, stage: Stage, source: FrameSource, cluster: NodeCluster, *, clock: FrameClock | None = None,
                 history_capacity: int = 4096, stall_frames: int | None = None, restart_retry_s: float = 2.0,
                 first_answer_grace_s: float = FIRST_ANSWER_GRACE_S, previews: Previews | None = None,
                 assigner: TaskAssigner | None = None) -> None:
        """``assigner``: moves bands of overloaded nodes' heavy camera views to nodes with time to
        spare (``cluster.assign_tiles``); None: every node renders its own canvases alone."""
        project = stage.project
        deadline_ms = project.cluster.deadline_ms
        self.stage, self.source, self.cluster = stage, source, cluster
        self.clock = clock or FrameClock(project.frame_rate,
                                         deadline_ns=None if deadline_ms is None else int(deadline_ms * 1e6))
        self.stall_frames = stall_frames or project.cluster.stall_frames
        self.first_answer_frames = max(self.stall_frames, math.ceil(first_answer_grace_s * project.frame_rate))
        self.restart_retry_ns = int(restart_retry_s * 1e9)
        self.failover = Failover(project)
        self.history = StatsHistory([n.name for n in project.nodes], history_capacity)
        self.previews = previews or Previews({c.name: c.width for c in project.canvases})
        cluster.thumbnail_sink = self.previews.offer
        self.events = LoopEvents()
        self.accounts = FrameAccounts()
        self.assigner = assigner
        self._tiles: dict[str, dict[str, int]] = {}
        """Node -> its tile counters, as it last reported them."""
        self.canvas_errors: dict[str, str] = {}
        """Canvas -> why it shows the error card now (replaced, never mutated: read from any thread)."""
        self.clock_sync: dict[str, tuple[int, int]] = {}
        """Node -> (clock offset, round trip) it last reported, ns."""
        self._answered: set[str] = set()
        self._waiting_since: dict[str, int] = {}
        """Node -> the first frame it was sent since its last report (stall detection)."""
        self._rendering: dict[str, frozenset[str]] = {}
        """Node -> the canvases of its last order."""
        self._given_at: dict[str, int] = {}
        """Node -> the first frame of its last order with canvases it was not rendering before:
        it has answered (``_answered``) once it reports that frame or a later one."""
        self._outputs: dict[str, frozenset[str]] = {}
        """Node -> canvases it has outputs open for, as it last reported."""
        self._output_info: dict[str, tuple[dict[str, object], ...]] = {}
        """Node -> its outputs' descriptions (name, address, ...), as it last sent them."""
        self._retry_at: dict[str, int] = {}
        self._refused: dict[str, dict[str, int]] = {}
        """Node -> messages from the master it refused, by reason (as it last reported)."""
        self._frames_sent = 0
        self._next_index = 0
        self._cpu = {"master_s": 0.0, "nodes_ms": 0.0, "node_frames": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    # ------------------------------------------------------------------ control

    def run(self, frames: int | None = None) -> None:
        """Run on the calling thread until ``frames`` more frames ran (None: until ``stop``). A node
        that cannot start ends the run like any error: ``error`` is set and ``stopped`` fires."""
        reason = "stopped"
        cpu_start = time.process_time()
        try:
            self.cluster.start()
            self._stop.clear()
            index, skipped = self._next_index, 0
            target = None if frames is None else self._frames_sent + frames
            self.clock.rebase(self.clock.now_ns(), first_index=index)
            while not self._stop.is_set():
                if target is not None and self._frames_sent >= target:
                    reason = "done"
                    break
                tick = self.clock.tick(index)
                self._serve_until(tick.time_ns)
                self.run_frame(tick, skipped)
                following = self.clock.next_index(index)
                skipped, index = following - index - 1, following
                self._next_index = index
            self._finish()
        except Exception as exc:
            self.error = reason = f"error: {type(exc).__name__}: {exc}"
            raise
        finally:
            self._cpu["master_s"] += time.process_time() - cpu_start
            self.events.stopped.emit(reason)

    def start(self, frames: int | None = None) -> None:
        """Run on a thread of its own ('vpstage-frame-loop')."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the frame loop is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run_quietly, args=(frames,), name="vpstage-frame-loop",
                                        daemon=True)
        self._thread.start()

    def _run_quietly(self, frames: int | None) -> None:
        with contextlib.suppress(Exception):  # recorded in self.error and announced by `stopped`
            self.run(frames)

    def stop(self, timeout: float | None = 5.0) -> None:
        """Ask the loop to stop after the current frame; waits for its thread when it has one."""
        self._stop.set()
        self.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the loop's thread; True when it has ended (or never started)."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def close(self) -> None:
        self.stop()
        self.cluster.stop()

    def report(self) -> dict[str, Any]:
        """The run report (see vpstage.frame_master.report); callable from any thread."""
        report = build_report(self.history, self.clock.rate, (), self.failover.outages)
        report["canvas_errors"] = dict(self.canvas_errors)
        report["outputs"] = self._output_list()
        report["previews"] = self.previews.report()
        report["previews"]["link_bytes_received"] = self.cluster.pixel_bytes_received()
        report["node_links"] = {"master": dict(self.cluster.channel_counters()),
                                **{n: dict(c) for n, c in self._refused.items() if c}}
        report["clock_sync"] = {n: {"offset_us": round(o / 1e3, 1), "rtt_us": round(r / 1e3, 1)}
                                for n, (o, r) in self.clock_sync.items()}
        if self.assigner is not None:
            report["tiles"] = {**self.assigner.report(), "relay": dict(self.cluster.tile_counters),
                               "nodes": {n: dict(c) for n, c in self._tiles.items()}}
        frames = max(self._cpu["node_frames"], 1)
        report["cpu"] = {"master_ms_per_frame": round(self._cpu["master_s"] * 1e3 / max(self._frames_sent, 1), 3),
                         "node_ms_per_node_frame": round(self._cpu["nodes_ms"] / frames, 3)}
        return report

    def latest_image(self, canvas: str) -> CanvasImage | None:
        """The newest preview thumbnail of ``canvas`` (BGRX, read-only; any thread), or None."""
        preview = self.previews.latest(canvas)
        return None if preview is None else preview.image

    def _output_list(self) -> list[dict[str, Any]]:
        """Every open output of every node, as the nodes last described them."""
        return [dict(o, node=node) for node, infos in list(self._output_info.items()) for o in infos]

    # ------------------------------------------------------------------ one frame

    def run_frame(self, tick: FrameTick, skipped_before: int = 0) -> None:
        """Plan frame ``tick``, send its orders and account for what has come back."""
        self._check_restarts()
        assignment = self.failover.assignment()
        t0 = time.perf_counter_ns()
        plan = self.source.plan(tick)
        t1 = time.perf_counter_ns()
        sent = self._send_orders(plan, assignment)
        t2 = time.perf_counter_ns()
        close_at = tick.deadline_ns + CLOSE_GRACE_FRAMES * self.clock.period_ns_floor()
        self.accounts.open(OpenFrame(plan=plan, groups=self._groups(assignment), sent=sent, close_at_ns=close_at,
                                     plan_ms=(t1 - t0) / 1e6, send_ms=(t2 - t1) / 1e6, skipped_before=skipped_before))
        self._frames_sent += 1
        self._check_stalls(tick)
        owners = {c: n for n, canvases in sent.items() for c in canvases}
        for node, request in self.previews.requests(self.clock.now_ns(), owners):
            self.cluster.send(node, request)
        self._close_due()

    def _send_orders(self, plan: FramePlan, assignment: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        """Send an order to every node that is up; returns node -> canvases sent."""
        sent = {}
        up = {node: tuple(c for c in assignment.get(node, ()) if not self._in_transit(c, node))
              for node, state in self.failover.state.items() if state == "up"}
        tiles = self.assigner.assign(plan, up) if self.assigner is not None else {}
        for node, canvases in up.items():
            order = plan.order(canvases, self.clock.now_ns())
            if node in tiles:
                order = replace(order, tiles=tiles[node])
            if self.cluster.send(node, order):
                sent[node] = canvases
                self._note_sent(node, canvases, plan.tick.index)
        return sent

    def _note_sent(self, node: str, canvases: tuple[str, ...], frame: int) -> None:
        """Stall bookkeeping for an order sent: a node given canvases it was not rendering gets the
        first-answer grace again (module docstring, 5)."""
        given = frozenset(canvases)
        if not given <= self._rendering.get(node, frozenset()):
            self._answered.discard(node)
            self._given_at[node] = frame
        self._rendering[node] = given
        self._waiting_since.setdefault(node, frame)

    def _in_transit(self, canvas: str, owner: str) -> bool:
        """Another live node still has outputs open for ``canvas`` (it is being handed back)."""
        return any(canvas in outputs and node != owner and self.failover.state.get(node) == "up"
                   for node, outputs in self._outputs.items())

    def _groups(self, assignment: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        """Node -> canvases it answers for this frame: its assignment, or for a node that is not
        up, its own canvases that nobody covers."""
        groups = dict(assignment)
        covered = {c for canvases in assignment.values() for c in canvases}
        for canvas, home in self.failover.home.items():
            if canvas not in covered:
                groups[home] = (*groups.get(home, ()), canvas)
        return groups

    # ------------------------------------------------------------------ messages from nodes

    def _serve_until(self, until_ns: int) -> None:
        """Handle node messages until ``until_ns`` (at least the ones already waiting)."""
        while True:
            timeout = (until_ns - self.clock.now_ns()) / 1e9
            try:
                incoming = self.cluster.inbox.get(timeout=timeout) if timeout > 0 else \
                    self.cluster.inbox.get_nowait()
            except queue.Empty:
                self._close_due()
                return
            self._handle(incoming)
            self._close_due()

    def _handle(self, incoming: Incoming) -> None:
        node = incoming.node
        if not self.cluster.current(node, incoming.generation):
            return  # an earlier process of this node
        message = incoming.message
        if message is None:
            if self.failover.state.get(node) != "down":
                process = self.cluster.process(node)
                how = process.exit_text() if process is not None else ""
                self._node_failed(node, f"node process ended ({how or incoming.closed})", incoming.arrived_ns)
        elif isinstance(message, FrameReport):
            self._take_report(node, message)
        elif isinstance(message, Thumbnail):
            self.previews.offer(message)

    def _take_report(self, node: str, report: FrameReport) -> None:
        self.accounts.offer(node, report)
        if self.assigner is not None:
            self.assigner.observe(node, report)
        if report.tiles:
            self._tiles[node] = dict(report.tiles)
        if report.frame >= self._given_at.get(node, 0):
            self._answered.add(node)
        self._waiting_since.pop(node, None)
        self._outputs[node] = frozenset(report.outputs)
        if report.output_info is not None:
            self._output_info[node] = report.output_info
        self.clock_sync[node] = (report.clock_offset_ns, report.clock_rtt_ns)
        self._refused[node] = report.refused
        if math.isfinite(report.cpu_ms):
            self._cpu["nodes_ms"] += report.cpu_ms
            self._cpu["node_frames"] += 1
        if report.status == "fresh":
            self.events.rendered.emit(node, report.frame, report.render_ms, True)
        for frame, ms in report.late_renders:
            self.events.rendered.emit(node, frame, ms, False)
        for canvas, message in report.output_errors.items():
            self.events.output_error.emit(canvas, message)
        self._note_canvas_errors(node, report)

    def _note_canvas_errors(self, node: str, report: FrameReport) -> None:
        if report.status != "fresh":
            return
        errors = dict(self.canvas_errors)
        owned = [c for c, owner in ((c, self.failover.owner(c)) for c in self.failover.home) if owner == node]
        for canvas in owned:
            reason = report.errors.get(canvas, "")
            if reason != errors.get(canvas, ""):
                if reason:
                    errors[canvas] = reason
                else:
                    errors.pop(canvas, None)
                self.events.canvas_error.emit(canvas, reason)
        if errors != self.canvas_errors:
            self.canvas_errors = errors

    def _close_due(self) -> None:
        for frame in self.accounts.close_due(self.clock.now_ns()):
            self._close(frame)

    def _close(self, frame: OpenFrame) -> None:
        stats = frame_stats(frame, dict(self.failover.state))
        self.history.record(stats)
        present = max((n.present_ns for n in stats.nodes), default=0)
        fresh = {c for n in stats.nodes if not n.dropped for c in n.canvases}
        for outage in self.failover.note_presented(fresh, present or frame.plan.tick.deadline_ns):
            self.events.recovered.emit(outage)
        self.events.frame_presented.emit(stats)
        self.events.frame_closed.emit(stats, frame.plan)

    def _finish(self) -> None:
        """After the last frame: wait (bounded) for the reports of the frames still open."""
        limit = self.clock.now_ns() + (CLOSE_GRACE_FRAMES + 2) * self.clock.period_ns_floor() + 50_000_000
        while len(self.accounts) and self.clock.now_ns() < limit:
            self._serve_until(min(limit, self.clock.now_ns() + 5_000_000))
        for frame in self.accounts.close_all():
            self._close(frame)

    # ------------------------------------------------------------------ failures

    def _node_failed(self, node: str, reason: str, failed_ns: int) -> None:
        self.failover.mark_down(node, reason, failed_ns, self.clock.now_ns())
        self.accounts.forget_node(node)
        self._outputs[node] = frozenset()
        self._output_info.pop(node, None)
        self._waiting_since.pop(node, None)
        self._answered.discard(node)
        self._rendering.pop(node, None)
        self._given_at.pop(node, None)
        self.cluster.restart(node)
        self.failover.mark_starting(node)
        self.events.node_down.emit(node, reason)

    def _check_stalls(self, tick: FrameTick) -> None:
        for node, since in list(self._waiting_since.items()):
            limit = self.stall_frames if node in self._answered else self.first_answer_frames
            if tick.index - since >= limit:
                self._node_failed(node, f"stalled: no report for {tick.index - since} frames",
                                  self.clock.time_of(since) + self.clock.deadline_ns)

    def _check_restarts(self) -> None:
        now = self.clock.now_ns()
        for node, at in list(self._retry_at.items()):
            if now >= at:
                del self._retry_at[node]
                self.cluster.restart(node)
                self.failover.mark_starting(node)
        for node in [n for n, s in self.failover.state.items() if s == "starting"]:
            status, detail = self.cluster.status(node)
            if status == "ready":
                self.failover.mark_up(node, now)
                self.events.node_up.emit(node)
            elif status == "failed":
                self.failover.mark_down(node, f"restart failed: {detail}", now, now)
                self._retry_at[node] = now + self.restart_retry_ns

