"""Videohub routing: canvases to LED processor inputs as the project declares (bmdwire's videohubwire).

:class:`VideohubRouter` runs on a thread of its own, so the frame loop never waits for the
router. It connects (reading the state dump: labels, locks, routing), applies every declared
route that differs, then keeps the connection alive (PING every ``poll_s``), picking up routing
and lock changes that other clients push. A refused route (NAK, e.g. an output locked by
another panel) is reported and retried every ``retry_s``; a dropped or refused connection is
reported and re-opened after ``retry_s``, and the routes are applied again. Changes made by
other clients are reported, not fought: the router re-applies on reconnect or on request.

In ``loopback`` network mode (rehearsal) only a Videohub on 127.0.0.1 / ::1 / localhost is
contacted; anything else is refused before a socket is opened.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Literal

from psygnal import Signal
from videohubwire import Videohub, VideohubError

from vpstage.config.endpoints import is_loopback
from vpstage.stage.model import Videohub as VideohubConfig

DEFAULT_PORT = 9990


def split_address(address: str) -> tuple[str, int]:
    """``"host"`` or ``"host:port"`` (``"[::1]:9990"`` for IPv6) -> (host, port)."""
    text = address.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest.lstrip(":") or DEFAULT_PORT)
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, DEFAULT_PORT


@dataclass(frozen=True, kw_only=True)
class RouteState:
    canvas: str
    input: int
    output: int
    current: int | None = None
    """The input the router shows on this output now (None: unknown)."""
    lock: str = "U"
    """'U' unlocked, 'O' locked by us, 'L' locked by another client."""
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.current == self.input


@dataclass(frozen=True, kw_only=True)
class VideohubStatus:
    address: str
    connected: bool = False
    model: str = ""
    name: str = ""
    inputs: dict[int, str] = field(default_factory=dict)
    """Input labels."""
    outputs: dict[int, str] = field(default_factory=dict)
    """Output labels."""
    routes: tuple[RouteState, ...] = ()
    problem: str = ""
    """The latest connection problem ('' when connected and well)."""


class VideohubRouter:
    """Keeps the declared routes on one Videohub. Start/stop from any thread; events fire on the
    router's own thread ('vpstage-videohub')."""

    status_changed = Signal(object)
    """VideohubStatus, whenever connection, labels, locks or routing change."""
    problem = Signal(str)
    """A refusal, a dropped connection, a route changed by someone else (human-readable)."""

    def __init__(self, config: VideohubConfig, *, network_mode: Literal["loopback", "studio"] = "loopback",
                 poll_s: float = 1.0, timeout_s: float = 3.0) -> None:
        self.config = config
        self.host, self.port = split_address(config.address)
        self.network_mode = network_mode
        self.poll_s, self.timeout_s = poll_s, timeout_s
        self._status = VideohubStatus(address=config.address, routes=tuple(
            RouteState(canvas=r.canvas, input=r.input, output=r.output) for r in config.routes))
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._apply_requested = True
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control (any thread)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="vpstage-videohub", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def request_apply(self) -> None:
        """Apply every declared route again (e.g. after an operator changed one at a panel)."""
        self._apply_requested = True
        self._wake.set()

    def status(self) -> VideohubStatus:
        with self._lock:
            return self._status

    # ------------------------------------------------------------------ the router's thread

    def _run(self) -> None:
        if self.network_mode == "loopback" and not is_loopback(self.host):
            self._report(f"network mode is loopback: not contacting the Videohub at {self.config.address} "
                         "(set network.mode: studio to use it)", connected=False)
            return
        while not self._stop.is_set():
            hub = Videohub(self.host, self.port, connect_timeout=self.timeout_s, read_timeout=self.timeout_s)
            try:
                hub.connect()
                self._apply_requested = True
                self._serve(hub)
            except (VideohubError, OSError) as exc:
                self._report(f"Videohub {self.config.address}: {exc}; retrying in {self.config.retry_s:g} s",
                             connected=False)
            finally:
                hub.close()
            self._stop.wait(self.config.retry_s)

    def _serve(self, hub: Videohub) -> None:
        last_try = 0.0
        while not self._stop.is_set():
            self._publish(hub, connected=True)
            due = time.monotonic() - last_try >= self.config.retry_s
            if self._apply_requested or (due and any(r.problem for r in self.status().routes)):
                self._apply_requested = False
                last_try = time.monotonic()
                self._apply(hub)
                self._publish(hub, connected=True)
            self._wake.wait(self.poll_s)
            self._wake.clear()
            hub.ping()  # raises VideohubError / OSError when the connection is gone

    def _apply(self, hub: Videohub) -> None:
        problems: dict[int, str] = {}
        for route in self.config.routes:
            if hub.routing.get(route.output) == route.input:
                continue
            try:
                hub.route(route.output, route.input)
            except VideohubError as exc:
                if "refused" not in str(exc) and "outside this hub" not in str(exc):
                    raise  # not an answer: the connection is in trouble
                problems[route.output] = (f"route {route.canvas} (input {route.input} -> output {route.output}) "
                                          f"refused: {exc}")
                self.problem.emit(problems[route.output])
        with self._lock:
            self._status = replace(self._status, routes=tuple(
                replace(r, problem=problems.get(r.output, "")) for r in self._status.routes))

    def _publish(self, hub: Videohub, *, connected: bool) -> None:
        snapshot = hub.state()  # also applies blocks other clients caused the hub to push
        with self._lock:
            old = self._status
            routes = tuple(replace(r, current=hub.routing.get(r.output), lock=hub.locks.get(r.output, "U"))
                           for r in old.routes)
            new = replace(old, connected=connected, problem="", routes=routes,
                          model=snapshot["device"]["model_name"], name=snapshot["device"]["friendly_name"],
                          inputs={i["index"]: i["label"] for i in snapshot["inputs"]},
                          outputs={o["index"]: o["label"] for o in snapshot["outputs"]})
            self._status = new
        for before, after in zip(old.routes, new.routes, strict=True):
            if before.ok and not after.ok and after.current is not None:
                self.problem.emit(f"router output {after.output} ({after.canvas}) was switched to input "
                                  f"{after.current} by another client")
        if new != old:
            self.status_changed.emit(new)

    def _report(self, message: str, *, connected: bool) -> None:
        with self._lock:
            self._status = replace(self._status, connected=connected, problem=message)
            status = self._status
        self.problem.emit(message)
        self.status_changed.emit(status)
