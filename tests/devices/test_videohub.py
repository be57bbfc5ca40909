"""Videohub routing against a test server speaking the real protocol on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from devices.videohub import VideohubRouter, split_address
from tests.devices.videohub_server import VideohubServer
from tests.engine.helpers import tiny_stage
from vpstage.config import ConfigError
from vpstage.stage import Stage
from vpstage.stage.model import Videohub, VideohubRoute

pytestmark = pytest.mark.network

ROUTES = [VideohubRoute(canvas="front", input=3, output=7), VideohubRoute(canvas="side", input=4, output=8)]


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


@pytest.fixture
def server() -> Iterator[VideohubServer]:
    hub = VideohubServer()
    yield hub
    hub.stop()


def make_router(server: VideohubServer, retry_s: float = 0.2) -> VideohubRouter:
    config = Videohub(address=server.address, routes=ROUTES, retry_s=retry_s)
    return VideohubRouter(config, poll_s=0.05, timeout_s=2.0)


@contextmanager
def running_router(server: VideohubServer) -> Iterator[tuple[VideohubRouter, list[str]]]:
    """A started router and the problems it reports; stopped afterwards."""
    router = make_router(server)
    problems: list[str] = []
    router.problem.connect(problems.append)
    router.start()
    try:
        yield router, problems
    finally:
        router.stop()


def test_routes_labels_and_locks_are_applied_and_read(server: VideohubServer) -> None:
    server.lock(2, owner="front panel")
    router = make_router(server)
    router.start()
    try:
        wait_for(lambda: router.status().connected and all(r.ok for r in router.status().routes))
        status = router.status()
    finally:
        router.stop()
    assert server.routing[7] == 3 and server.routing[8] == 4
    assert status.model == "Test Videohub 12x12" and status.name == "Stage router"
    assert status.inputs[3] == "Input 4" and status.outputs[7] == "Output 8"
    assert [(r.canvas, r.current, r.lock) for r in status.routes] == [("front", 3, "U"), ("side", 4, "U")]
    assert server.requests.count("VIDEO OUTPUT ROUTING:") == 2


def test_a_refused_route_is_reported_and_retried(server: VideohubServer) -> None:
    server.lock(7, owner="front panel")
    with running_router(server) as (router, problems):
        wait_for(lambda: any("refused" in p for p in problems))
        wait_for(lambda: router.status().routes[1].ok)  # the other route went through
        front = router.status().routes[0]
        assert not front.ok and front.lock == "L" and "refused" in front.problem
        server.unlock(7)
        wait_for(lambda: router.status().routes[0].ok)
        assert router.status().routes[0].problem == "" and router.status().connected
    assert server.routing[7] == 3


def test_a_dropped_connection_is_reported_and_the_routes_come_back(server: VideohubServer) -> None:
    with running_router(server) as (router, problems):
        wait_for(lambda: all(r.ok for r in router.status().routes))
        server.drop_all()
        server.panel_route(7, 0)  # changed while we were away
        wait_for(lambda: any("closed" in p or "reset" in p or "Broken" in p for p in problems))
        wait_for(lambda: router.status().connected and all(r.ok for r in router.status().routes))
    assert server.routing[7] == 3


def test_another_clients_change_is_reported_not_fought(server: VideohubServer) -> None:
    with running_router(server) as (router, problems):
        wait_for(lambda: all(r.ok for r in router.status().routes))
        server.panel_route(8, 11)
        wait_for(lambda: router.status().routes[1].current == 11)
        assert any("switched to input 11 by another client" in p for p in problems)
        time.sleep(0.3)
        assert server.routing[8] == 11  # left alone until asked
        router.request_apply()
        wait_for(lambda: server.routing[8] == 4)


def test_a_silent_hub_never_blocks_the_caller() -> None:
    import socket

    listener = socket.create_server(("127.0.0.1", 0))  # accepts, but never sends a state dump
    port = listener.getsockname()[1]
    router = VideohubRouter(Videohub(address=f"127.0.0.1:{port}", routes=ROUTES, retry_s=0.1), timeout_s=0.3)
    problems: list[str] = []
    router.problem.connect(problems.append)
    router.start()  # returns at once: all protocol work is on the router's thread
    assert not router.status().connected
    wait_for(lambda: any("no state preamble" in p for p in problems))
    router.stop()
    listener.close()


def test_loopback_mode_refuses_a_hub_on_the_network() -> None:
    router = VideohubRouter(Videohub(address="192.0.2.55", routes=ROUTES))
    router.start()
    wait_for(lambda: "network mode is loopback" in router.status().problem)
    router.stop()
    assert not router.status().connected


def test_address_parsing() -> None:
    assert split_address("10.0.0.5") == ("10.0.0.5", 9990)
    assert split_address("127.0.0.1:1234") == ("127.0.0.1", 1234)
    assert split_address("[::1]:9991") == ("::1", 9991)


def test_project_videohub_block_is_validated(tmp_path: object) -> None:
    stage = tiny_stage()
    hub = Videohub(address="127.0.0.1", routes=[*ROUTES, VideohubRoute(canvas="nowhere", input=1, output=7)])
    project = stage.project.model_copy(update={"videohub": hub})
    with pytest.raises(ConfigError) as err:
        Stage.from_project(project, stage.layout.base_dir)
    messages = [p.format() for p in err.value.problems]
    assert any("videohub.routes[2].canvas: unknown canvas 'nowhere'" in m for m in messages)
    assert any("videohub.routes[2].output: router output 7 is already used" in m for m in messages)
    ok = stage.project.model_copy(update={"videohub": Videohub(address="127.0.0.1", routes=ROUTES)})
    assert Stage.from_project(ok, stage.layout.base_dir).project.videohub is not None
