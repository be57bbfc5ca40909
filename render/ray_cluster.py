"""The Ray cluster: one Ray actor per render node (per GPU), running the same RenderWorker.

``start`` connects to the cluster address from the project (``cluster.address``), or starts a
local Ray (no dashboard; bound to 127.0.0.1 in loopback mode) when there is none. Each actor is
pinned to its node: ``num_gpus=1`` for a ``cuda:N`` node (Ray then exposes that GPU to the
actor as ``cuda:0``), and to the node's host through Ray's ``node:<address>`` resource when the
host is not ``localhost``. On a multi-host cluster every host must have this repository
importable (same version); a local Ray gets it through ``PYTHONPATH``.

Actors are created with ``max_restarts=0``: when one dies (killed, crashed), its pending calls
fail with RayActorError, the loop marks the node down and calls ``restart``, which kills what is
left and creates a new actor (a new generation).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from render.worker import RenderWorker
from vpstage.engine.cluster import Reply, WorkerStartError, WorkerStatus, failure_text
from vpstage.engine.jobs import FrameJob, NodeFrame
from vpstage.engine.worker import WorkerSpec
from vpstage.timing import MonotonicTimeSource, TimeSource

REPO_ROOT = Path(__file__).resolve().parents[1]
LOCAL_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Set to 0, a local Ray keeps all its sockets on 127.0.0.1 (rehearsal / loopback mode)."""
logger = logging.getLogger(__name__)


def worker_pythonpath() -> str:
    """PYTHONPATH for local Ray workers: this repository, then whatever this process was given
    (packages installed outside site-packages stay importable in the actors)."""
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join([str(REPO_ROOT), *(p for p in inherited if p != str(REPO_ROOT))])


def init_ray(address: str | None = None, *, loopback: bool = True, num_cpus: int | None = None) -> bool:
    """Connect to ``address``, or start a local Ray (loopback-only when ``loopback``).

    Returns True when this call started Ray (the caller then shuts it down), False when Ray was
    already running in this process.
    """
    if loopback and not address:
        # Ray binds a local cluster to the host's network address unless told it is a
        # single-machine cluster (as on macOS and Windows). Ray reads the switch when imported,
        # so when it was imported already, the parsed value is updated too.
        os.environ.setdefault(LOCAL_ONLY_ENV, "0")
        constants = sys.modules.get("ray._private.ray_constants")
        if constants is not None and hasattr(constants, "ENABLE_RAY_CLUSTER"):
            constants.ENABLE_RAY_CLUSTER = os.environ[LOCAL_ONLY_ENV] != "0"
    import ray

    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False, "configure_logging": False, "log_to_driver": False}
    if address:
        kwargs["address"] = address
    else:
        kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": worker_pythonpath()}}
        if num_cpus is not None:
            kwargs["num_cpus"] = num_cpus
    ray.init(**kwargs)
    bound = ray.util.get_node_ip_address()
    if loopback and not address and not bound.startswith("127."):
        logger.warning("local Ray is bound to %s, not loopback (%s is set to 1?)",
                       bound, LOCAL_ONLY_ENV)
    return True


class _RenderActor:
    """Hosts one RenderWorker inside a Ray worker process."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.worker = RenderWorker(spec)

    def info(self) -> dict[str, object]:
        return self.worker.info()

    def render(self, job: FrameJob) -> NodeFrame:
        return self.worker.render(job)


@cache
def _actor_class() -> Any:
    import ray

    return ray.remote(_RenderActor)


@dataclass
class _Slot:
    actor: Any
    generation: int
    ready: Any
    """ObjectRef of the actor's ``info`` call: done when the worker is built."""
    status: tuple[WorkerStatus, str] = ("starting", "")
    info: dict[str, object] = field(default_factory=dict)


class RayCluster:
    """Implements ``vpstage.engine.cluster.Cluster`` on Ray actors."""

    def __init__(self, specs: Mapping[str, WorkerSpec], *, address: str | None = None, loopback: bool = True,
                 hosts: Mapping[str, str] | None = None, num_cpus: int | None = None, actor_cpus: float = 1.0,
                 time_source: TimeSource | None = None, start_timeout_s: float = 120.0) -> None:
        self.specs = dict(specs)
        self.address, self.loopback = address, loopback
        self.hosts = dict(hosts or {})
        self.num_cpus, self.actor_cpus = num_cpus, actor_cpus
        self.time_source = time_source or MonotonicTimeSource()
        self.start_timeout_s = start_timeout_s
        self._slots: dict[str, _Slot] = {}
        self._pending: dict[Any, tuple[str, int, int]] = {}
        self._generation = 0
        self._owns_ray = False

    # ------------------------------------------------------------------ lifecycle

    def _init_ray(self) -> None:
        num_cpus = self.num_cpus
        if num_cpus is None and not self.address:  # a local Ray must hold every node's actor, spares too
            num_cpus = max(os.cpu_count() or 1, math.ceil(len(self.specs) * self.actor_cpus))
        self._owns_ray = init_ray(self.address, loopback=self.loopback, num_cpus=num_cpus)

    def start(self) -> None:
        self._init_ray()
        for node in self.specs:
            if node not in self._slots:
                self._spawn(node)
        deadline = time.monotonic() + self.start_timeout_s
        for node in self.specs:
            while (status := self.status(node))[0] == "starting":
                if time.monotonic() > deadline:
                    raise WorkerStartError(f"node {node}: Ray actor not ready after {self.start_timeout_s} s")
                time.sleep(0.02)
            if status[0] == "failed":
                raise WorkerStartError(f"node {node}: {status[1]}")

    def _spawn(self, node: str) -> None:
        spec = self.specs[node]
        options: dict[str, Any] = {"num_cpus": self.actor_cpus, "max_restarts": 0, "max_concurrency": 1}
        if spec.device.startswith("cuda"):
            options["num_gpus"] = 1
            spec = dataclasses.replace(spec, device="cuda:0")  # Ray shows the actor only its own GPU
        host = self.hosts.get(node, "localhost")
        if host not in ("localhost", "127.0.0.1", ""):
            options["resources"] = {f"node:{host}": 0.001}
        self._generation += 1
        actor = _actor_class().options(**options).remote(spec)
        self._slots[node] = _Slot(actor, self._generation, actor.info.remote())

    def stop(self) -> None:
        import ray

        if not ray.is_initialized():
            return
        for slot in self._slots.values():
            self._kill(slot)
        self._slots.clear()
        self._pending.clear()
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False

    @staticmethod
    def _kill(slot: _Slot) -> None:
        import ray

        with contextlib.suppress(Exception):  # already gone
            ray.kill(slot.actor, no_restart=True)

    # ------------------------------------------------------------------ frames

    def submit(self, job: FrameJob) -> None:
        slot = self._slots[job.node]
        self._pending[slot.actor.render.remote(job)] = (job.node, slot.generation, job.frame)

    def poll(self, until_ns: int) -> list[Reply]:
        import ray

        refs = list(self._pending)
        if not refs:
            self.time_source.sleep_until(until_ns)
            return []
        timeout = max(0.0, (until_ns - self.time_source.now_ns()) / 1e9)
        first, _ = ray.wait(refs, num_returns=1, timeout=timeout)
        if not first:
            return []
        done, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        now = self.time_source.now_ns()
        replies = []
        for ref in done:
            node, generation, frame = self._pending.pop(ref)
            if self._slots.get(node) is None or self._slots[node].generation != generation:
                continue  # an answer from a worker that has been replaced
            result, failure = self._fetch(ref)
            replies.append(Reply(node, frame, result, failure, now))
        return replies

    @staticmethod
    def _fetch(ref: Any) -> tuple[NodeFrame | None, str | None]:
        import ray
        from ray.exceptions import RayActorError, RayTaskError

        try:
            return ray.get(ref), None
        except RayActorError as exc:
            detail = " ".join(str(exc).split())[:300]
            return None, f"worker process died ({type(exc).__name__}: {detail})"
        except RayTaskError as exc:
            cause = exc.cause if isinstance(exc.cause, BaseException) else exc
            return None, failure_text(cause)

    # ------------------------------------------------------------------ health

    def restart(self, node: str) -> None:
        old = self._slots.get(node)
        if old is not None:
            self._kill(old)
            self._pending = {ref: v for ref, v in self._pending.items() if v[0] != node}
        self._spawn(node)

    def status(self, node: str) -> tuple[WorkerStatus, str]:
        import ray

        slot = self._slots.get(node)
        if slot is None:
            return "failed", "unknown node"
        if slot.status[0] == "starting":
            done, _ = ray.wait([slot.ready], timeout=0)
            if done:
                info, failure = self._fetch(slot.ready)
                if failure is None and isinstance(info, dict):
                    slot.status, slot.info = ("ready", ""), info
                else:
                    slot.status = ("failed", failure or "no worker info")
        return slot.status

    def node_info(self, node: str) -> dict[str, object]:
        slot = self._slots.get(node)
        info: dict[str, object] = {"backend": "ray", "device": self.specs[node].device}
        if slot is not None:
            info.update(slot.info)
            info["generation"] = slot.generation
        return info
