"""A real LiveEngine in rehearsal (demo stage scaled down 8 times, render nodes on threads, test
patterns: no scene engine) served by a real WebServer on 127.0.0.1, with a viewer and an
operator token."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from live import LiveEngine, LiveOptions
from remote.engine_controls import EngineControls
from remote.pictures import EnginePictures
from remote.server import WebServer, WebSettings
from remote.tokens import TokenStore
from vpstage.stage import Stage
from vpstage.stage.scaling import scaled_stage

DEMO = Path(__file__).resolve().parents[2] / "configs" / "stages" / "demo.yaml"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Stage:
    return scaled_stage(Stage.open(DEMO), 8, tmp_path_factory.mktemp("demo8"))


def rehearsal_engine(stage: Stage, takes_db: Path | None = None, cluster: str = "threads") -> LiveEngine:
    return LiveEngine(stage, LiveOptions(rehearsal=True, outputs="none", scene_renderer=None, gpu_telemetry=False,
                                         cluster=cluster, videohub=False, takes_db=takes_db))


@dataclass
class Reply:
    status: int
    body: Any


@dataclass(kw_only=True)
class Served:
    engine: LiveEngine
    server: WebServer
    controls: EngineControls
    viewer: str
    operator: str
    ssl_context: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, path: str, body: Any = None, token: str | None = None, raw: bytes | None = None,
             method: str | None = None) -> Reply:
        """One HTTP request; ``body`` JSON-encoded (or ``raw`` bytes as they are)."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path.lstrip("/"), data=data, headers=headers,
                                         method=method or ("GET" if data is None else "POST"))
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.ssl_context) as response:
                return Reply(response.status, json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, json.loads(exc.read()))

    def act(self, path: str, body: Any = None) -> Reply:
        return self.call(path, {} if body is None else body, token=self.operator)


def serve(engine: LiveEngine, folder: Path, settings: WebSettings | None = None, started: bool = False) -> Served:
    tokens = TokenStore(folder / "remote_tokens.json")
    viewer, operator = tokens.create("viewer"), tokens.create("operator")
    controls = EngineControls(engine, started=started)
    server = WebServer(controls, EnginePictures(engine), tokens, settings or WebSettings(),
                       network_mode=engine.stage.project.network.mode)
    server.start()
    return Served(engine=engine, server=server, controls=controls, viewer=viewer, operator=operator)


@pytest.fixture
def served(small: Stage, tmp_path: Path) -> Iterator[Served]:
    """A server on an engine that is built but not started (``engine/start`` starts it)."""
    engine = rehearsal_engine(small, tmp_path / "takes.sqlite")
    try:
        setup = serve(engine, tmp_path)
        try:
            yield setup
        finally:
            setup.server.stop()
    finally:
        engine.close()


@pytest.fixture
def running(small: Stage, tmp_path: Path) -> Iterator[Served]:
    """A server on a running engine (render nodes on threads of this process)."""
    yield from run_served(small, tmp_path, "threads")


@pytest.fixture
def running_nodes(small: Stage, tmp_path: Path) -> Iterator[Served]:
    """A server on a running engine whose render nodes are processes of their own (as on set)."""
    yield from run_served(small, tmp_path, "local")


def run_served(small: Stage, tmp_path: Path, cluster: str) -> Iterator[Served]:
    engine = rehearsal_engine(small, tmp_path / "takes.sqlite", cluster)
    try:
        engine.cluster.start()
        engine.start()
        setup = serve(engine, tmp_path, started=True)
        try:
            yield setup
        finally:
            setup.server.stop()
    finally:
        engine.close()
