"""Render nodes as Ray actors: one actor per node, placed on the host that drives its outputs.

``init_ray`` connects to the project's ``cluster.address``, or starts a local Ray (no dashboard;
bound to 127.0.0.1 in loopback mode). In loopback mode a cluster address is taken to be a cluster
of nodes on this host's loopback, started with ``python -m render.node.ray_loopback start ...``
(Ray's own CLI, keeping 127.0.0.1 as every node's address). Each node becomes an actor that runs the same node code
as a local process (``render.node.client.serve_node``): it connects back to the frame master,
renders on its GPU (``num_gpus=1``: Ray shows it only that GPU, as ``cuda:0``) and owns its
canvases' NDI / SDI outputs. Only orders and reports travel; pixels never go through Ray.

Placement: a node's ``host`` is looked up among the Ray nodes' resources: a custom resource
``vpstage-host:<host>`` (give it to ``ray start --resources``) pins the actor there; otherwise a
host that is an address pins it through Ray's ``node:<address>`` resource; ``localhost`` leaves it
free. On a multi-host cluster every host must have this repository importable (same version).

Actors use ``max_restarts=0``: when one dies (SIGKILL), its link to the master closes, the master
marks the node down and asks for a new actor (a new generation).
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any

from vpstage.config.endpoints import is_loopback
from vpstage.nodes.spec import NodeSpec

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Set to 0, a local Ray keeps all its sockets on 127.0.0.1 (rehearsal / loopback mode)."""
HOST_RESOURCE = "vpstage-host:"


def worker_pythonpath() -> str:
    """PYTHONPATH for local Ray workers: this repository, then whatever this process was given
    (packages installed outside site-packages stay importable in the actors)."""
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join([str(REPO_ROOT), *(p for p in inherited if p != str(REPO_ROOT))])


def keep_loopback() -> None:
    """Make Ray keep a loopback node address as it is. A Ray that may form a multi-node cluster
    replaces 127.0.0.1 by the host's network address ("reachable from other hosts"); for a
    cluster whose every node is on this host (rehearsal, tests) that would take the traffic off
    loopback. Call before ``ray.init`` (or in the process that runs ``ray start``)."""
    from ray._private import services

    if not getattr(services.resolve_ip_for_localhost, "vpstage_keeps_loopback", False):
        def resolve(host: str) -> str:
            if not host:
                raise ValueError(f"Malformed host: {host}")
            return host

        resolve.vpstage_keeps_loopback = True  # type: ignore[attr-defined]
        services.resolve_ip_for_localhost = resolve


class ClusterRefused(RuntimeError):
    """Joining this Ray cluster would not be safe as configured; the message says what to set."""


def authenticate(address: str | None, token_file: Path | None, allow_unauthenticated: bool) -> None:
    """Set up Ray's token authentication (``RAY_AUTH_MODE=token``) before ``ray.init``: a local
    Ray gets a fresh random token (its workers inherit it); a cluster is joined with the token in
    ``token_file``. A cluster beyond this host without a token is refused unless
    ``allow_unauthenticated``: anyone on the network could otherwise run code on its nodes."""
    if os.environ.get("RAY_AUTH_MODE"):
        return  # the operator set Ray's authentication up themselves
    if not address:
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
        return
    if token_file is not None:
        if not token_file.is_file():
            raise ClusterRefused(f"cluster.auth_token_file {token_file} does not exist")
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ["RAY_AUTH_TOKEN_PATH"] = str(token_file)
        return
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    if not is_loopback(host) and not allow_unauthenticated:
        raise ClusterRefused(f"the Ray cluster at {address} would be joined without authentication: set "
                             "cluster.auth_token_file to the token its nodes were started with (RAY_AUTH_MODE=token), "
                             "or cluster.allow_unauthenticated: true to accept the risk")


def init_ray(address: str | None = None, *, loopback: bool = True, num_cpus: int | None = None,
             token_file: Path | None = None, allow_unauthenticated: bool = False) -> bool:
    """Connect to ``address``, or start a local Ray (loopback-only when ``loopback``), with token
    authentication (``authenticate``).

    Returns True when this call started or joined Ray (the caller then shuts it down), False
    when Ray was already initialised in this process.
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
    authenticate(address, token_file, allow_unauthenticated)
    kwargs: dict[str, Any] = {"include_dashboard": False, "configure_logging": False, "log_to_driver": False}
    if address:
        kwargs["address"] = address
        if loopback:  # a cluster on this host's loopback (its nodes started through ray_loopback)
            keep_loopback()
            kwargs["_node_ip_address"] = "127.0.0.1"
    else:
        kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": worker_pythonpath()}}
        if num_cpus is not None:
            kwargs["num_cpus"] = num_cpus
    ray.init(**kwargs)
    bound = ray.util.get_node_ip_address()
    if loopback and not address and not bound.startswith("127."):
        ray.shutdown()
        raise ClusterRefused(f"the local Ray bound {bound}, not loopback ({LOCAL_ONLY_ENV} is set to "
                             f"{os.environ.get(LOCAL_ONLY_ENV)!r}); rehearsal keeps everything on 127.0.0.1")
    return True


class _NodeActor:
    """Hosts one render node inside a Ray worker process."""

    def __init__(self, master: str, node: str, generation: int, token: str) -> None:
        from render.node.__main__ import tune_timing
        from render.node.client import serve_node

        tune_timing()
        self._code: int | None = None
        self._done = threading.Event()

        def run() -> None:
            try:
                self._code = serve_node(master, node, generation, token)
            finally:
                self._done.set()

        threading.Thread(target=run, name=f"vpstage-node-{node}", daemon=True).start()

    def pid(self) -> int:
        return os.getpid()

    def ray_node(self) -> str:
        """Id of the Ray node this actor runs on."""
        import ray

        return str(ray.get_runtime_context().get_node_id())

    def wait_done(self) -> int | None:
        """Returns when the node has stopped (its exit code)."""
        self._done.wait()
        return self._code


@cache
def _actor_class() -> Any:
    import ray

    return ray.remote(_NodeActor)


class RayNode:
    """One node actor (a ``NodeProcess``)."""

    def __init__(self, actor: Any, node: str) -> None:
        self.actor, self.node = actor, node
        self._done = actor.wait_done.remote()
        self._pid: int | None = None
        self._ended = ""

    @property
    def pid(self) -> int | None:
        if self._pid is None:
            import ray

            with contextlib.suppress(Exception):
                self._pid = int(ray.get(self.actor.pid.remote(), timeout=10))
        return self._pid

    def alive(self) -> bool:
        return not self._finished(0)

    def _finished(self, timeout_s: float) -> bool:
        import ray
        from ray.exceptions import RayActorError

        if self._ended:
            return True
        done, _ = ray.wait([self._done], timeout=timeout_s)
        if not done:
            return False
        try:
            self._ended = f"exit code {ray.get(self._done)}"
        except RayActorError as exc:
            self._ended = "actor died: " + " ".join(str(exc).split())[:200]
        except Exception as exc:
            self._ended = f"{type(exc).__name__}: {exc}"
        return True

    def kill(self) -> None:
        import ray

        with contextlib.suppress(Exception):  # already gone
            ray.kill(self.actor, no_restart=True)

    def wait(self, timeout_s: float) -> bool:
        return self._finished(max(0.0, timeout_s))

    def exit_text(self) -> str:
        return self._ended if self._finished(0) else ""


def host_resources(host: str) -> dict[str, float]:
    """Ray resources that pin an actor to ``host`` (see the module docstring)."""
    import ray

    if host in ("", "localhost"):
        return {}
    custom = f"{HOST_RESOURCE}{host}"
    if any(custom in n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")):
        return {custom: 0.001}
    return {f"node:{host}": 0.001}


class RayLauncher:
    """One Ray actor per node (``cluster.backend: ray``)."""

    def __init__(self, specs: dict[str, NodeSpec], address: str | None, loopback: bool,
                 actor_cpus: float = 1.0, token_file: Path | None = None, allow_unauthenticated: bool = False) -> None:
        self.address, self.loopback, self.actor_cpus = address, loopback, actor_cpus
        self.token_file, self.allow_unauthenticated = token_file, allow_unauthenticated
        self._specs = specs
        self._owns_ray = False
        self._started = False
        self._nodes: list[RayNode] = []

    def _start_ray(self) -> None:
        if self._started:
            return
        num_cpus = None
        if not self.address:  # a local Ray must hold every node's actor, spares too
            num_cpus = max(os.cpu_count() or 1, math.ceil(len(self._specs) * self.actor_cpus))
        self._owns_ray = init_ray(self.address, loopback=self.loopback, num_cpus=num_cpus, token_file=self.token_file,
                                  allow_unauthenticated=self.allow_unauthenticated)
        self._started = True

    def device_for(self, spec: NodeSpec) -> str:
        return "cpu" if spec.gpu is None else "cuda:0"

    def launch(self, spec: NodeSpec, generation: int, master: str, token: str) -> RayNode:
        self._start_ray()
        options: dict[str, Any] = {"num_cpus": self.actor_cpus, "max_restarts": 0, "max_concurrency": 4,
                                   "resources": host_resources(spec.host)}
        if spec.gpu is not None:
            options["num_gpus"] = 1
        actor = _actor_class().options(**options).remote(master, spec.node, generation, token)
        node = RayNode(actor, spec.node)
        self._nodes.append(node)
        return node

    def close(self) -> None:
        for node in self._nodes:
            node.kill()
        self._nodes.clear()
        if self._owns_ray:
            import ray

            ray.shutdown()
            self._owns_ray = False
