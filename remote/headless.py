"""The web viewer and control API of a headless run (``main.py run --web HOST:PORT``): the
actions call the ``LiveEngine`` directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from remote.engine_controls import EngineControls
from remote.pictures import EnginePictures
from remote.server import WebServer, WebSettings, parse_listen
from remote.tokens import TokenStore


def web_settings(listen: str, fps: float = 30.0, cert: str | None = None, key: str | None = None) -> WebSettings:
    host, port = parse_listen(listen)
    return WebSettings(host=host, port=port, fps=fps, cert=Path(cert) if cert else None,
                       key=Path(key) if key else None)


def serve_engine(engine: Any, project_file: str | Path, settings: WebSettings, started: bool = True) -> WebServer:
    """Start serving ``engine`` (tokens from the project folder); returns the running server."""
    server = WebServer(EngineControls(engine, started=started), EnginePictures(engine),
                       TokenStore.for_project(project_file), settings,
                       network_mode=engine.stage.project.network.mode)
    server.start()
    return server
