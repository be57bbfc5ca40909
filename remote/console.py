"""The web viewer and control API of the console: ``python main.py --web HOST:PORT``, or the
console setting ``remote/web`` (``HOST:PORT``; empty: off, the default). Started when the window
opens, stopped when it closes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from remote.console_controls import ConsoleControls
from remote.pictures import CurrentEnginePictures
from remote.server import WebServer, WebSettings
from remote.tokens import TOKENS_FILE, TokenStore

SETTING = "remote/web"


def web_listen(settings: Any, given: str | None) -> str | None:
    """Where to listen: ``--web`` when given, else the console setting (None: off)."""
    if given:
        return given
    value = settings.value(SETTING, "") if settings is not None else ""
    return str(value) or None


def serve_console(window: Any, settings: WebSettings) -> WebServer:
    """Serve ``window`` (the GUI thread; tokens from its project's folder, ``remote_tokens.json``
    beside the project file). The caller stops the server when the window has closed."""
    document = window.document
    live = window.live
    pictures = CurrentEnginePictures(lambda: live.engine if live.state == "running" else None,
                                     lambda: [c.name for c in window.document.project.canvases])
    server = WebServer(ConsoleControls(window), pictures, TokenStore(Path(document.base_dir) / TOKENS_FILE), settings,
                       network_mode=document.project.network.mode)
    server.start()
    return server
