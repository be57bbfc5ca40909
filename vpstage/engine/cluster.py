"""The cluster contract the frame loop drives, and the inline (synchronous) cluster.

A cluster runs one worker per render node and moves jobs to them and replies back. It never
decides anything about frames: lateness, drops and failover belong to the loop. Backends:

* :class:`InlineCluster` (here): renders in the caller's thread at ``submit``. Deterministic
  with a ManualTimeSource, for tests and offline runs.
* ``EmbeddedCluster`` (``vpstage.engine.embedded``): one thread per node in this process.
* ``RayCluster`` (``render.ray_cluster``): one Ray actor per node (per GPU), local or on a cluster.

Each worker incarnation has a *generation*; after ``restart`` the cluster drops replies from
older generations, so the loop only ever sees answers from the current worker.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from vpstage.engine.jobs import FrameJob, NodeFrame
from vpstage.engine.worker import Worker, WorkerFactory, WorkerSpec
from vpstage.timing import MonotonicTimeSource, TimeSource

WorkerStatus = Literal["starting", "ready", "failed"]


class WorkerStartError(RuntimeError):
    """A worker could not be built (bad stage, missing device, ...); the message says which node."""


@dataclass(frozen=True)
class Reply:
    """A worker's answer to a job, as it reached the loop."""

    node: str
    frame: int
    result: NodeFrame | None
    failure: str | None
    """Why the job failed (worker raised, process died); None on success."""
    arrived_ns: int
    """Loop-side monotonic time the reply was collected."""


class Cluster(Protocol):
    """What the frame loop needs from a backend. All methods are called from the loop's thread."""

    def start(self) -> None:
        """Build every worker; blocks until all are ready. Raises WorkerStartError. Idempotent."""
        ...

    def submit(self, job: FrameJob) -> None:
        """Hand ``job`` to its node's worker. The loop submits at most one job per node at a time."""
        ...

    def poll(self, until_ns: int) -> list[Reply]:
        """Replies that have arrived; blocks until at least one is there or ``until_ns`` passes."""
        ...

    def restart(self, node: str) -> None:
        """Throw away the node's worker (killing it where possible) and start a new one, without
        blocking; follow it with ``status``. Jobs in flight on the old worker are forgotten."""
        ...

    def status(self, node: str) -> tuple[WorkerStatus, str]:
        """('starting' | 'ready' | 'failed', detail) of the node's current worker."""
        ...

    def node_info(self, node: str) -> dict[str, object]:
        """Diagnostics: backend, device, process id, host."""
        ...

    def stop(self) -> None:
        """Stop every worker and release the backend. Idempotent."""
        ...


def failure_text(exc: BaseException) -> str:
    """One-line description of a worker exception, with the innermost frame for the log."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" ({tb[-1].filename}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


class InlineCluster:
    """Workers called directly in the loop's thread (no parallelism, no stalls).

    A reply's arrival time is the time source's reading after the worker returns, so with a
    ManualTimeSource a worker that advances time models render cost exactly.
    """

    def __init__(self, specs: Mapping[str, WorkerSpec], factory: WorkerFactory,
                 time_source: TimeSource | None = None) -> None:
        self.specs = dict(specs)
        self.factory = factory
        self.time_source = time_source or MonotonicTimeSource()
        self._workers: dict[str, Worker] = {}
        self._status: dict[str, tuple[WorkerStatus, str]] = {}
        self._replies: list[Reply] = []

    def start(self) -> None:
        for node in self.specs:
            if node not in self._workers:
                self._build(node)
                status, detail = self._status[node]
                if status == "failed":
                    raise WorkerStartError(f"node {node}: {detail}")

    def _build(self, node: str) -> None:
        try:
            self._workers[node] = self.factory(self.specs[node])
            self._status[node] = ("ready", "")
        except Exception as exc:
            self._workers.pop(node, None)
            self._status[node] = ("failed", failure_text(exc))

    def submit(self, job: FrameJob) -> None:
        worker = self._workers.get(job.node)
        if worker is None:
            raise KeyError(f"node {job.node} has no worker")
        try:
            result: NodeFrame | None = worker.render(job)
            failure = None
        except Exception as exc:
            result, failure = None, failure_text(exc)
        self._replies.append(Reply(job.node, job.frame, result, failure, self.time_source.now_ns()))

    def poll(self, until_ns: int) -> list[Reply]:
        if not self._replies:
            self.time_source.sleep_until(until_ns)
        replies, self._replies = self._replies, []
        return replies

    def restart(self, node: str) -> None:
        old = self._workers.pop(node, None)
        if old is not None:
            old.close()
        self._replies = [r for r in self._replies if r.node != node]
        self._build(node)

    def status(self, node: str) -> tuple[WorkerStatus, str]:
        return self._status.get(node, ("failed", "unknown node"))

    def node_info(self, node: str) -> dict[str, object]:
        return {"backend": "inline", "device": self.specs[node].device}

    def stop(self) -> None:
        for worker in self._workers.values():
            worker.close()
        self._workers.clear()
