"""The frame loop: clock -> jobs -> cluster -> swap barrier -> outputs -> stats, frame after frame.

Per frame N (on the loop's own thread, never the GUI's):

1. wait for frame N's instant on the frame clock;
2. ask the job source for one job per node, given the current canvas assignment ('plan');
3. submit each job to its node; a node still busy with an older frame gets nothing (no node
   runs ahead, and none queues up behind);
4. collect replies at the swap barrier until every submitted node answered or the present
   deadline passed; nodes that had not answered are late;
5. present every canvas: its fresh picture, or its previous one repeated (a drop);
6. handle failures: a worker that raised or died, or has not answered for ``stall_frames``
   frames, is marked down and restarted; its canvases move to a spare when one is free. A
   worker's first answer after it (re)started may take up to ``FIRST_ANSWER_GRACE_S`` (its first
   scene frame builds caches such as the outer cube map), after which ``stall_frames`` applies;
7. record statistics and emit ``frame_presented``.

If the loop falls behind by whole frames it skips them (counted) rather than running late.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from psygnal import Signal

from vpstage.engine.barrier import FrameBarrier
from vpstage.engine.cluster import Cluster, Reply, failure_text
from vpstage.engine.failover import Failover
from vpstage.engine.jobs import CanvasImage, FrameJob
from vpstage.engine.present import Presenter
from vpstage.engine.report import build_report
from vpstage.engine.sources import JobSource
from vpstage.engine.stats import FrameStats, NodeStats, StatsHistory
from vpstage.stage import Stage
from vpstage.timing import FrameClock, FrameTick

FIRST_ANSWER_GRACE_S = 10.0
"""How long a (re)started worker may take over its first answer before it counts as stalled."""


class LoopEvents:
    """Events of a running loop. All fire on the frame loop's thread; the UI must queue them onto
    its own thread (psygnal ``thread=`` or a Qt queued connection)."""

    frame_presented = Signal(object)
    """FrameStats of the frame just presented."""
    node_down = Signal(str, str)
    """(node, reason): marked down and being restarted."""
    node_up = Signal(str)
    """(node): its restarted worker is ready; its canvases are home again."""
    recovered = Signal(object)
    """Outage whose canvases are all on the wall fresh again (recovery_ms measured)."""
    rendered = Signal(str, int, float, bool)
    """(node, frame, render_ms, on_time) for every answer a worker delivered, late ones included
    (frame statistics only keep on-time render times)."""
    canvas_error = Signal(str, str)
    """(canvas, reason) when a canvas starts showing the error card (a missing or corrupt asset, a
    scene engine that failed), or its reason changes; reason '' when it renders properly again."""
    output_error = Signal(str, str)
    """(canvas, message): an output refused a frame (the loop carries on)."""
    stopped = Signal(str)
    """'done', 'stopped' or 'error: ...' when the loop ends."""


class FrameLoop:
    """Runs the frame loop headless; the console and ``main.py`` drive it.

    The cluster is started by ``run`` (idempotent) and stopped by ``close``; presenters are
    closed by ``close`` too.
    """

    def __init__(self, stage: Stage, source: JobSource, cluster: Cluster, presenters: Sequence[Presenter] = (),
                 *, clock: FrameClock | None = None, history_capacity: int = 4096,
                 stall_frames: int | None = None, restart_retry_s: float = 2.0,
                 first_answer_grace_s: float = FIRST_ANSWER_GRACE_S) -> None:
        project = stage.project
        deadline_ms = project.cluster.deadline_ms
        self.stage, self.source, self.cluster = stage, source, cluster
        self.presenters = list(presenters)
        self.clock = clock or FrameClock(project.frame_rate,
                                         deadline_ns=None if deadline_ms is None else int(deadline_ms * 1e6))
        self.stall_frames = stall_frames or project.cluster.stall_frames
        self.first_answer_frames = max(self.stall_frames, math.ceil(first_answer_grace_s * project.frame_rate))
        self._answered: set[str] = set()
        """Nodes that have answered at least once since they last (re)started."""
        self.restart_retry_ns = int(restart_retry_s * 1e9)
        self.failover = Failover(project)
        self.history = StatsHistory([n.name for n in project.nodes], history_capacity)
        self.events = LoopEvents()
        self._sizes = {c.name: (c.height, c.width) for c in project.canvases}
        self._inflight: dict[str, tuple[int, int]] = {}
        """node -> (frame, that frame's deadline) of the job it is working on."""
        self._last: dict[str, CanvasImage] = {}
        self._retry_at: dict[str, int] = {}
        self.canvas_errors: dict[str, str] = {}
        """Canvas -> why it shows the error card now (replaced, never mutated: read from any thread)."""
        self._next_index = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    # ------------------------------------------------------------------ control

    def run(self, frames: int | None = None) -> None:
        """Run on the calling thread until ``frames`` frames ran (None: until ``stop``)."""
        self.cluster.start()
        self._stop.clear()
        index, skipped, target = self._next_index, 0, None if frames is None else self.history.frames + frames
        self.clock.rebase(self.clock.now_ns(), first_index=index)
        reason = "stopped"
        try:
            while not self._stop.is_set():
                if target is not None and self.history.frames >= target:
                    reason = "done"
                    break
                tick = self.clock.tick(index)
                self.clock.wait_for(tick)
                self.run_frame(tick, skipped)
                following = self.clock.next_index(index)
                skipped, index = following - index - 1, following
                self._next_index = index
        except Exception as exc:
            self.error = reason = f"error: {failure_text(exc)}"
            raise
        finally:
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
        for presenter in self.presenters:
            presenter.close()

    def report(self) -> dict[str, Any]:
        """The run report (see vpstage.engine.report); callable from any thread."""
        outputs = [info for presenter in self.presenters for info in presenter.outputs()]
        report = build_report(self.history, self.clock.rate, outputs, self.failover.outages)
        report["canvas_errors"] = dict(self.canvas_errors)
        return report

    def latest_image(self, canvas: str) -> CanvasImage | None:
        """The picture ``canvas`` showed last (any thread; the array is never modified)."""
        return self._last.get(canvas)

    # ------------------------------------------------------------------ one frame

    def run_frame(self, tick: FrameTick, skipped_before: int = 0) -> FrameStats:
        """Plan, render, wait at the barrier, present and account for frame ``tick``."""
        assignment = self.failover.assignment()
        t0 = self.clock.now_ns()
        jobs = self.source.jobs(tick, assignment)
        t1 = self.clock.now_ns()
        barrier = FrameBarrier(tick.index, self._submit(jobs, tick), tick.deadline_ns)
        self._collect(barrier)
        late = barrier.close()
        t2 = self.clock.now_ns()
        self._check_stalls(tick)
        self._check_restarts()
        fresh = {canvas: image for node, result in barrier.on_time.items()
                 for canvas, image in result.images.items() if canvas in assignment.get(node, ())}
        self._note_canvas_errors(barrier, fresh)
        groups = self._present_groups(assignment)
        present_ns, present_ms = self._present(groups, fresh, tick)
        t3 = self.clock.now_ns()
        for outage in self.failover.note_presented(fresh, t3):
            self.events.recovered.emit(outage)
        stats = self._stats(tick, groups, barrier, late, fresh, present_ns, present_ms, jobs,
                            (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, skipped_before)
        self.history.record(stats)
        self.events.frame_presented.emit(stats)
        return stats

    def _note_canvas_errors(self, barrier: FrameBarrier, fresh: dict[str, CanvasImage]) -> None:
        errors = dict(self.canvas_errors)
        for result in barrier.on_time.values():
            for canvas in result.images:
                if canvas not in fresh:
                    continue
                reason = result.errors.get(canvas, "")
                if reason != errors.get(canvas, ""):
                    if reason:
                        errors[canvas] = reason
                    else:
                        errors.pop(canvas, None)
                    self.events.canvas_error.emit(canvas, reason)
        if errors != self.canvas_errors:
            self.canvas_errors = errors

    def _submit(self, jobs: dict[str, FrameJob], tick: FrameTick) -> list[str]:
        submitted = []
        for node, job in jobs.items():
            if node in self._inflight:
                continue  # still on an older frame: it gets no new work, its canvases repeat
            self.cluster.submit(job)
            self._inflight[node] = (tick.index, tick.deadline_ns)
            submitted.append(node)
        return submitted

    def _collect(self, barrier: FrameBarrier) -> None:
        """Take replies until every submitted node answered or the deadline passed; always looks
        at least once, without blocking once the deadline is gone (late answers still clear
        their node's busy flag)."""
        while True:
            now = self.clock.now_ns()
            for reply in self.cluster.poll(barrier.deadline_ns if now < barrier.deadline_ns else now):
                self._handle(reply, barrier)
            if barrier.complete or now >= barrier.deadline_ns:
                return

    def _handle(self, reply: Reply, barrier: FrameBarrier) -> None:
        inflight = self._inflight.get(reply.node)
        if inflight is not None and inflight[0] == reply.frame:
            del self._inflight[reply.node]
        verdict = barrier.offer(reply)
        if reply.result is not None:
            self._answered.add(reply.node)
            self.events.rendered.emit(reply.node, reply.frame, reply.result.render_ms, verdict == "on_time")
        if reply.failure is not None:
            failed_ns = min(reply.arrived_ns, inflight[1]) if inflight else reply.arrived_ns
            self._node_failed(reply.node, f"worker failed: {reply.failure}", failed_ns)

    def _node_failed(self, node: str, reason: str, failed_ns: int) -> None:
        self.failover.mark_down(node, reason, failed_ns, self.clock.now_ns())
        self._inflight.pop(node, None)
        self._answered.discard(node)
        self.cluster.restart(node)
        self.failover.mark_starting(node)
        self.events.node_down.emit(node, reason)

    def _check_stalls(self, tick: FrameTick) -> None:
        for node, (frame, deadline_ns) in list(self._inflight.items()):
            limit = self.stall_frames if node in self._answered else self.first_answer_frames
            if tick.index - frame >= limit:
                self._node_failed(node, f"stalled: no answer for {tick.index - frame} frames", deadline_ns)

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

    # ------------------------------------------------------------------ present and account

    def _present_groups(self, assignment: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        """Node -> canvases it answers for this frame: its assignment, or for a node that is not
        up, its own canvases that nobody covers (they repeat)."""
        groups = dict(assignment)
        covered = {c for canvases in assignment.values() for c in canvases}
        for canvas, home in self.failover.home.items():
            if canvas not in covered:
                groups[home] = (*groups.get(home, ()), canvas)
        return groups

    def _present(self, groups: dict[str, tuple[str, ...]], fresh: dict[str, CanvasImage],
                 tick: FrameTick) -> tuple[dict[str, int], dict[str, float]]:
        present_ns: dict[str, int] = {}
        present_ms: dict[str, float] = {}
        for node, canvases in groups.items():
            start = self.clock.now_ns()
            for canvas in canvases:
                image = fresh.get(canvas)
                if image is None:
                    image = self._last.get(canvas)
                    if image is None:
                        image = self._blackout(canvas)
                self._last[canvas] = image
                for presenter in self.presenters:
                    try:
                        presenter.present(canvas, image, tick)
                    except Exception as exc:  # one output's trouble must not stop the wall
                        self.events.output_error.emit(canvas, failure_text(exc))
            present_ns[node] = self.clock.now_ns()
            present_ms[node] = (present_ns[node] - start) / 1e6
        return present_ns, present_ms

    def _blackout(self, canvas: str) -> CanvasImage:
        height, width = self._sizes[canvas]
        image = np.zeros((height, width, 4), dtype=np.uint8)
        image[..., 3] = 255
        image.flags.writeable = False
        return image

    def _stats(self, tick: FrameTick, groups: dict[str, tuple[str, ...]], barrier: FrameBarrier, late: set[str],
               fresh: dict[str, CanvasImage], present_ns: dict[str, int], present_ms: dict[str, float],
               jobs: dict[str, FrameJob], plan_ms: float, wait_ms: float, total_present_ms: float,
               skipped: int) -> FrameStats:
        nodes = []
        for node, state in self.failover.state.items():
            canvases = groups.get(node, ())
            result = barrier.on_time.get(node)
            nodes.append(NodeStats(node, state, canvases, result.render_ms if result else math.nan,
                                   present_ms.get(node, 0.0), present_ns.get(node, 0), node in late,
                                   bool(canvases) and not all(c in fresh for c in canvases)))
        times = [t for t in present_ns.values() if t]
        skew = (max(times) - min(times)) / 1e6 if times else math.nan
        tracked = [t for job in jobs.values() if (t := job.tracking_time_ns) is not None]
        oldest = min(tracked) if tracked else None
        last_present = max(times) if times else tick.time_ns
        return FrameStats(tick.index, str(tick.timecode), tick.time_ns, tick.deadline_ns, plan_ms, wait_ms,
                          total_present_ms, skew,
                          math.nan if oldest is None else (tick.time_ns - oldest) / 1e6,
                          math.nan if oldest is None else (last_present - oldest) / 1e6,
                          skipped, tuple(nodes))

