"""The frame master's render nodes: launched, connected, configured, restarted and stopped.

The master listens on one TCP address (loopback unless the project's network mode is
``studio``). A launcher (``render.node.launchers``: one local process per node, a Ray actor per
node, or threads of this process for tests) starts each node with the address, a generation
number and the cluster's token; the node connects back and says :class:`Hello`. The master
checks the token, the node name and that this is the node's current generation, sends it its
:class:`Configure`, and from then on every message from that connection lands in :attr:`inbox`
as an :class:`Incoming` for the frame loop. A connection that ends (the process died: the kernel
closes its sockets) arrives as an ``Incoming`` with ``closed`` set: that is how a killed node is
noticed within a frame.

Threads: one accept thread, one reader per connection. ``start``, ``send``, ``restart``,
``status``, ``stop`` belong to the loop's (control) thread.
"""

from __future__ import annotations

import contextlib
import hmac
import queue
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from vpstage.nodes.channel import Channel, ChannelClosed
from vpstage.nodes.messages import (
    Configure,
    Failed,
    Hello,
    Message,
    Ping,
    Pong,
    Progress,
    Ready,
    Stop,
    Thumbnail,
    TileResult,
)
from vpstage.nodes.spec import NodeSpec

NodeStatus = Literal["starting", "ready", "failed"]
HELLO_TIMEOUT_S = 10.0


class WorkerStartError(RuntimeError):
    """A node could not be built (bad stage, missing device, ...); the message says which node."""


class NodeProcess(Protocol):
    """One launched node (a process, an actor, or a thread for tests)."""

    @property
    def pid(self) -> int | None: ...

    def alive(self) -> bool: ...

    def kill(self) -> None:
        """End it now (SIGKILL for a process); returns without waiting."""
        ...

    def wait(self, timeout_s: float) -> bool:
        """Wait until it has ended; True when it has."""
        ...

    def exit_text(self) -> str:
        """How it ended ('' while alive)."""
        ...


class NodeLauncher(Protocol):
    def device_for(self, spec: NodeSpec) -> str:
        """The device name the launched node renders on (``cuda:0`` for a process shown only its GPU)."""
        ...

    def launch(self, spec: NodeSpec, generation: int, master: str, token: str) -> NodeProcess:
        """Start node ``spec`` and tell it to connect to ``master`` (``host:port``)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, kw_only=True)
class Incoming:
    """A message from a node, or the end of its connection (``message`` None, ``closed`` set)."""

    node: str
    generation: int
    message: Message | None
    closed: str = ""
    arrived_ns: int = 0


@dataclass(kw_only=True)
class _Slot:
    spec: NodeSpec
    generation: int
    process: NodeProcess | None = None
    channel: Channel | None = None
    status: NodeStatus = "starting"
    detail: str = ""
    hello: Hello | None = None
    step: str = ""
    """What the node last said it is doing while it builds (``Progress``)."""
    info: dict[str, object] = field(default_factory=dict)


class NodeCluster:
    """Launches and talks to every render node of a stage (see the module docstring)."""

    def __init__(self, specs: Mapping[str, NodeSpec], launcher: NodeLauncher,
                 configure: Callable[[NodeSpec], Configure], *, bind: tuple[str, int] = ("127.0.0.1", 0),
                 advertise: str | None = None, start_timeout_s: float = 120.0, stop_timeout_s: float = 5.0) -> None:
        self.specs = dict(specs)
        self.launcher = launcher
        self.configure = configure
        self.bind, self.advertise = bind, advertise
        self.start_timeout_s, self.stop_timeout_s = start_timeout_s, stop_timeout_s
        self.token = secrets.token_hex(16)
        self.inbox: queue.SimpleQueue[Incoming] = queue.SimpleQueue()
        self.counters: Counter[str] = Counter()
        """Refused connections by reason (bad_token, unknown_node, stale_generation, no_hello, ...)."""
        self._slots: dict[str, _Slot] = {}
        self._generation = 0
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._accepting = threading.Event()
        self.address = ""
        self.thumbnail_sink: Callable[[Thumbnail], None] | None = None
        """Where thumbnails go as they arrive (on the connection's reader thread); None: the inbox."""
        self.tile_counters: Counter[str] = Counter()
        """Tile results relayed to their owners (``relayed``, ``relayed_bytes``), or dropped:
        ``unroutable`` (the owner has no connection or its outbox is full), ``misrouted`` (a node
        sent a band it was not the helper of)."""
        self._tile_lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle

    def listen(self) -> str:
        """Open the listening socket (idempotent); returns the ``host:port`` nodes connect to."""
        if self._listener is None:
            family = socket.AF_INET6 if ":" in self.bind[0] else socket.AF_INET
            listener = socket.socket(family, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(self.bind)
            listener.listen(64)
            self._listener = listener
            self._accepting.set()
            threading.Thread(target=self._accept_loop, name="vpstage-nodes-accept", daemon=True).start()
            host = self.advertise or self.bind[0]
            if host in ("0.0.0.0", "::", ""):
                host = socket.gethostbyname(socket.gethostname())
            self.address = f"{host}:{listener.getsockname()[1]}"
        return self.address

    def start(self) -> None:
        """Launch every node not yet launched and wait until all are ready. Raises
        WorkerStartError naming the first node that failed or did not get ready in time."""
        self.listen()
        for node in self.specs:
            if node not in self._slots:
                self._launch(node)
        deadline = time.monotonic() + self.start_timeout_s
        for node in self.specs:
            while (status := self.status(node))[0] == "starting":
                if time.monotonic() > deadline:
                    raise WorkerStartError(f"node {node}: not ready after {self.start_timeout_s:.0f} s")
                time.sleep(0.02)
            if status[0] == "failed":
                raise WorkerStartError(f"node {node}: {status[1]}")

    def _launch(self, node: str) -> None:
        with self._lock:
            self._generation += 1
            slot = _Slot(spec=self.specs[node], generation=self._generation)
            self._slots[node] = slot
        try:
            slot.process = self.launcher.launch(slot.spec, slot.generation, self.address, self.token)
        except Exception as exc:  # the launcher could not even start it (Ray refused, no executable...)
            slot.status, slot.detail = "failed", f"could not launch: {type(exc).__name__}: {exc}"

    def restart(self, node: str) -> None:
        """Throw the node's current process away (killing it) and launch a new generation;
        returns at once, follow it with ``status``."""
        old = self._slots.get(node)
        if old is not None:
            self._retire(old, kill=True)
        self._launch(node)

    def _retire(self, slot: _Slot, kill: bool) -> None:
        if slot.channel is not None:
            slot.channel.close("retired")
        if slot.process is not None and kill:
            slot.process.kill()

    def stop(self) -> None:
        """Ask every node to stop, then make sure it has (idempotent)."""
        slots = list(self._slots.values())
        for slot in slots:
            if slot.channel is not None:
                slot.channel.send(Stop("the frame master stops"))
        for slot in slots:
            if slot.channel is not None:
                slot.channel.flush(0.5)
        deadline = time.monotonic() + self.stop_timeout_s
        for slot in slots:
            process = slot.process
            if process is not None and not process.wait(max(0.0, deadline - time.monotonic())):
                process.kill()
                process.wait(1.0)
            self._retire(slot, kill=False)
        self._slots.clear()
        self._accepting.clear()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None
        self.launcher.close()

    # ------------------------------------------------------------------ traffic (loop thread)

    def send(self, node: str, message: Message) -> bool:
        """Queue ``message`` for the node's current connection; False when it has none (yet)."""
        slot = self._slots.get(node)
        channel = slot.channel if slot is not None else None
        return channel is not None and channel.send(message)

    def current(self, node: str, generation: int) -> bool:
        slot = self._slots.get(node)
        return slot is not None and slot.generation == generation

    def status(self, node: str) -> tuple[NodeStatus, str]:
        slot = self._slots.get(node)
        if slot is None:
            return "failed", "unknown node"
        if slot.status == "starting" and slot.process is not None and not slot.process.alive():
            slot.status, slot.detail = "failed", f"the node ended before it was ready: {slot.process.exit_text()}"
        return slot.status, slot.detail

    def progress(self) -> dict[str, tuple[NodeStatus, str]]:
        """Node -> (status, what it is doing): ``starting`` nodes say ``launching``, ``connected``,
        or the step they last reported (loading the scene, compiling kernels, ...). Any thread."""
        out: dict[str, tuple[NodeStatus, str]] = {}
        for node, slot in list(self._slots.items()):
            step = slot.step or ("connected" if slot.channel is not None else "launching")
            out[node] = (slot.status, slot.detail if slot.status == "failed" else step)
        return out

    def process(self, node: str) -> NodeProcess | None:
        slot = self._slots.get(node)
        return None if slot is None else slot.process

    def node_info(self, node: str) -> dict[str, object]:
        """Diagnostics: backend info from the node's Ready, pid, host, generation."""
        slot = self._slots.get(node)
        if slot is None:
            return {}
        info = dict(slot.info)
        info.update({"generation": slot.generation, "device": slot.spec.device})
        if slot.hello is not None:
            info.update({"pid": slot.hello.pid, "host": slot.hello.host})
        return info

    def channel_counters(self) -> Counter[str]:
        """Bad or dropped messages over every current connection, by reason."""
        total: Counter[str] = Counter(self.counters)
        for slot in list(self._slots.values()):
            if slot.channel is not None:
                total.update({k: v for k, v in slot.channel.counters.items() if k not in ("sent", "received")})
        return total

    def pixel_bytes_received(self) -> int:
        """Bytes received from every connection (thumbnails included) since start."""
        return sum(s.channel.bytes_received for s in list(self._slots.values()) if s.channel is not None)

    # ------------------------------------------------------------------ connections (own threads)

    def _accept_loop(self) -> None:
        listener = self._listener
        while self._accepting.is_set() and listener is not None:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), name="vpstage-node-link", daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        channel = Channel(sock, "vpstage-node-link")
        timer = threading.Timer(HELLO_TIMEOUT_S, lambda: channel.close("no hello in time"))
        timer.start()
        try:
            hello = channel.recv()
        except ChannelClosed:
            self.counters["no_hello"] += 1
            return
        finally:
            timer.cancel()
        slot = self._accept(hello, channel)
        if slot is None:
            return
        try:
            while True:
                message = channel.recv()
                if isinstance(message, Ping):  # answered here, at once: round trips stay short
                    channel.send(Pong(message.node_ns, time.monotonic_ns()))
                    continue
                if isinstance(message, TileResult):  # straight on to its owner, off the frame loop
                    self._relay(slot, message)
                    continue
                if isinstance(message, Thumbnail) and self.thumbnail_sink is not None:
                    self.thumbnail_sink(message)  # previews need no frame-loop thread
                    continue
                self._note(slot, message)
                self.inbox.put(Incoming(node=slot.spec.node, generation=slot.generation, message=message,
                                        arrived_ns=time.monotonic_ns()))
        except ChannelClosed as closed:
            if slot.channel is channel and self._slots.get(slot.spec.node) is slot:
                self.inbox.put(Incoming(node=slot.spec.node, generation=slot.generation, message=None,
                                        closed=closed.reason or "closed", arrived_ns=time.monotonic_ns()))

    def _relay(self, slot: _Slot, tile: TileResult) -> None:
        """Forward a band to the node it was rendered for (on the helper's reader thread)."""
        if tile.helper != slot.spec.node:
            outcome = "misrouted"
        else:
            owner = self._slots.get(tile.owner)
            channel = owner.channel if owner is not None else None
            outcome = "relayed" if channel is not None and channel.send(tile) else "unroutable"
        with self._tile_lock:
            self.tile_counters[outcome] += 1
            if outcome == "relayed":
                self.tile_counters["relayed_bytes"] += len(tile.rgb) + len(tile.alpha) + len(tile.depth)

    def _accept(self, hello: Message, channel: Channel) -> _Slot | None:
        reason = ""
        slot = None
        if not isinstance(hello, Hello):
            reason = "no_hello"
        elif not hmac.compare_digest(hello.token.encode(), self.token.encode()):
            reason = "bad_token"
        elif (slot := self._slots.get(hello.node)) is None:
            reason = "unknown_node"
        elif slot.generation != hello.generation or slot.channel is not None:
            reason = "stale_generation"
        if reason or slot is None or not isinstance(hello, Hello):
            self.counters[reason or "refused"] += 1
            channel.close(f"refused: {reason}")
            return None
        slot.hello = hello
        slot.channel = channel
        channel.send(self.configure(slot.spec))
        return slot

    @staticmethod
    def _note(slot: _Slot, message: Message) -> None:
        if isinstance(message, Progress):
            slot.step = message.step
        elif isinstance(message, Ready):
            slot.info = dict(message.info)
            slot.status, slot.detail = "ready", ""
            slot.step = "ready"
        elif isinstance(message, Failed):
            slot.status, slot.detail = "failed", message.error

