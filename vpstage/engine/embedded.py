"""The embedded cluster: one worker thread per render node, in the console's process.

This is the single-machine default (one thread per local GPU, or CPU threads in rehearsal).
Each node's thread builds its worker (so device state such as a CUDA context belongs to that
thread), then renders the jobs put in its inbox and posts replies to one shared outbox.

A thread that hangs inside ``render`` cannot be killed in Python; ``restart`` abandons it (its
late answer is dropped by generation) and starts a fresh thread and worker.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from vpstage.engine.cluster import Reply, WorkerStartError, WorkerStatus, failure_text
from vpstage.engine.jobs import FrameJob, NodeFrame
from vpstage.engine.worker import Worker, WorkerFactory, WorkerSpec, cancel_worker
from vpstage.timing import MonotonicTimeSource, TimeSource

_STOP = None


@dataclass
class _Posted:
    node: str
    generation: int
    frame: int
    result: NodeFrame | None
    failure: str | None


class _NodeThread(threading.Thread):
    """Builds one worker and serves its inbox until told to stop."""

    def __init__(self, spec: WorkerSpec, generation: int, factory: WorkerFactory,
                 outbox: queue.SimpleQueue[_Posted]) -> None:
        super().__init__(name=f"vpstage-worker-{spec.node}-{generation}", daemon=True)
        self.spec, self.generation = spec, generation
        self.factory, self.outbox = factory, outbox
        self.inbox: queue.SimpleQueue[FrameJob | None] = queue.SimpleQueue()
        self.ready = threading.Event()
        self.status: tuple[WorkerStatus, str] = ("starting", "")
        self.info: dict[str, object] = {}
        """The worker's own ``info()`` (when it has one), taken once it is built."""
        self.worker: Worker | None = None

    def abandon(self) -> None:
        """Stop serving: no further jobs, and the job in progress is cancelled if it can be."""
        self.inbox.put(_STOP)
        if self.worker is not None:
            cancel_worker(self.worker)

    def run(self) -> None:
        try:
            worker: Worker = self.factory(self.spec)
            self.worker = worker
        except Exception as exc:
            self.status = ("failed", failure_text(exc))
            self.ready.set()
            return
        describe = getattr(worker, "info", None)
        if callable(describe):
            try:
                self.info = dict(describe())
            except Exception as exc:  # informative only: the worker still renders
                self.info = {"info_error": failure_text(exc)}
        self.status = ("ready", "")
        self.ready.set()
        try:
            while (job := self.inbox.get()) is not _STOP:
                try:
                    result: NodeFrame | None = worker.render(job)
                    failure = None
                except Exception as exc:
                    result, failure = None, failure_text(exc)
                self.outbox.put(_Posted(self.spec.node, self.generation, job.frame, result, failure))
        finally:
            worker.close()


class EmbeddedCluster:
    """One thread per node. ``poll`` waits on real time (use with a MonotonicTimeSource)."""

    def __init__(self, specs: Mapping[str, WorkerSpec], factory: WorkerFactory,
                 time_source: TimeSource | None = None, start_timeout_s: float = 120.0,
                 stop_timeout_s: float = 2.0) -> None:
        self.specs = dict(specs)
        self.factory = factory
        self.time_source = time_source or MonotonicTimeSource()
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        """How long ``stop`` waits for each worker to finish the job it is on (CPU scene renders
        take seconds; a thread abandoned inside torch at interpreter exit can abort the process)."""
        self._outbox: queue.SimpleQueue[_Posted] = queue.SimpleQueue()
        self._threads: dict[str, _NodeThread] = {}
        self._generation = 0

    def _spawn(self, node: str) -> _NodeThread:
        self._generation += 1
        thread = _NodeThread(self.specs[node], self._generation, self.factory, self._outbox)
        self._threads[node] = thread
        thread.start()
        return thread

    def start(self) -> None:
        started = [self._spawn(node) for node in self.specs if node not in self._threads]
        deadline = time.monotonic() + self.start_timeout_s
        for thread in started:
            if not thread.ready.wait(max(0.0, deadline - time.monotonic())):
                raise WorkerStartError(f"node {thread.spec.node}: worker not ready after {self.start_timeout_s} s")
            if thread.status[0] == "failed":
                raise WorkerStartError(f"node {thread.spec.node}: {thread.status[1]}")

    def submit(self, job: FrameJob) -> None:
        self._threads[job.node].inbox.put(job)

    def poll(self, until_ns: int) -> list[Reply]:
        posted: list[_Posted] = []
        timeout = max(0.0, (until_ns - self.time_source.now_ns()) / 1e9)
        try:
            posted.append(self._outbox.get(timeout=timeout))
        except queue.Empty:
            return []
        while True:
            try:
                posted.append(self._outbox.get_nowait())
            except queue.Empty:
                break
        now = self.time_source.now_ns()
        current = {node: thread.generation for node, thread in self._threads.items()}
        return [Reply(p.node, p.frame, p.result, p.failure, now) for p in posted
                if current.get(p.node) == p.generation]

    def restart(self, node: str) -> None:
        old = self._threads.get(node)
        if old is not None:
            old.abandon()  # a thread hung outside a cancellation point is simply left behind
        self._spawn(node)

    def status(self, node: str) -> tuple[WorkerStatus, str]:
        thread = self._threads.get(node)
        return thread.status if thread is not None else ("failed", "unknown node")

    def node_info(self, node: str) -> dict[str, object]:
        thread = self._threads.get(node)
        info: dict[str, object] = dict(thread.info) if thread is not None else {}
        info.update({"backend": "embedded", "device": self.specs[node].device, "pid": os.getpid(),
                     "thread": thread.name if thread else None})
        return info

    def stop(self) -> None:
        threads = list(self._threads.values())
        for thread in threads:
            thread.abandon()
        for thread in threads:
            thread.join(timeout=self.stop_timeout_s)
        self._threads.clear()
