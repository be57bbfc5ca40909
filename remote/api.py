"""The aiohttp application: the viewer page at ``/``, the API under ``/api/``.

Routes (roles: see :mod:`remote.auth`; the OpenAPI description is :mod:`remote.openapi`):

* ``GET /api/status``, ``GET /api/health``, ``GET /api/views`` (viewer)
* ``POST /api/webrtc/offer``, ``POST /api/webrtc/close``, ``POST /api/latency`` (viewer)
* ``POST /api/<action>`` for every action in ``remote.actions.PARSERS`` (operator)

Handlers run on the server's asyncio loop; controls that may block (engine start, take stop,
the console's GUI thread) run on a small executor of their own, at normal priority. Every error is a JSON answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import Any

from aiohttp import web
from aiortc import RTCSessionDescription
from aiortc.exceptions import InvalidStateError

from remote.actions import PARSERS, parse_action
from remote.auth import ROLE, Handler, Refusals, auth_middleware
from remote.controls import Controls
from remote.feed import ViewFeed
from remote.latency import MAX_SAMPLES_PER_POST, LatencyLog
from remote.openapi import openapi_document
from remote.requests import ApiError, Body, parse_body
from remote.tokens import Role, TokenStore
from remote.webrtc import Viewers

log = logging.getLogger(__name__)
VIEWER_ROUTES = frozenset({"/api/status", "/api/health", "/api/views", "/api/webrtc/offer", "/api/webrtc/close",
                           "/api/latency"})
SIZE_RANGE = ((160, 3840), (90, 2160))
CONTROL_THREADS = 2


@dataclass(kw_only=True)
class ServerParts:
    controls: Controls
    feed: ViewFeed
    tokens: TokenStore
    refusals: Refusals
    viewers: Viewers
    latency: LatencyLog


def route_role(request: web.Request) -> Role | None:
    path = request.path
    if not path.startswith("/api/") or path == "/api/openapi.json":
        return None
    return "viewer" if path in VIEWER_ROUTES else "operator"


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response(exc.payload(), status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return web.json_response({"error": exc.reason, "status": exc.status}, status=exc.status)
    except Exception as exc:  # never crash the server: say what went wrong
        log.exception("web API %s %s failed", request.method, request.path)
        return web.json_response({"error": f"{type(exc).__name__}: {exc}", "status": 500}, status=500)


async def _body(request: web.Request) -> dict[str, Any]:
    return parse_body(await request.read())


def _static(name: str) -> str:
    return resources.files("remote.static").joinpath(name).read_text(encoding="utf-8")


class Api:
    def __init__(self, parts: ServerParts) -> None:
        self.parts = parts
        # controls run at normal priority (the loop's default executor is the encoders', niced)
        self._control = ThreadPoolExecutor(CONTROL_THREADS, "vpstage-web-control")

    async def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._control, function, *args)

    async def close(self, app: web.Application) -> None:
        self._control.shutdown(wait=False)

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=_static("viewer.html"), content_type="text/html")

    async def script(self, request: web.Request) -> web.Response:
        return web.Response(text=_static("viewer.js"), content_type="application/javascript")

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(openapi_document())

    async def status(self, request: web.Request) -> web.Response:
        status = await self._call(self.parts.controls.status)
        status["viewers"] = self.parts.viewers.report()
        status["refusals"] = self.parts.refusals.report()
        status["feed"] = {"fps": self.parts.feed.fps, "published": self.parts.feed.published,
                          "draw_ms": round(self.parts.feed.draw_ms, 2)}
        status["latency"] = self.parts.latency.report()
        return web.json_response(status)

    async def health(self, request: web.Request) -> web.Response:
        health = await self._call(self.parts.controls.health)
        return web.json_response(health)

    async def views(self, request: web.Request) -> web.Response:
        return web.json_response({"views": self.parts.feed.source.views()})

    async def offer(self, request: web.Request) -> web.Response:
        body = Body(await _body(request))
        sdp = body.string("sdp", max_len=60_000) or ""
        kind = body.string("type", choices=("offer",)) or "offer"
        view = body.string("view", required=False, max_len=64) or "camera"
        width = body.integer("width", *SIZE_RANGE[0], required=False) or 1280
        height = body.integer("height", *SIZE_RANGE[1], required=False) or 720
        fps = body.number("fps", 1, 120, required=False)  # above the feed's rate: the feed's rate
        body.done()
        if width % 2 or height % 2:
            raise ApiError(422, "width and height must be even", "width" if width % 2 else "height")
        if view not in self.parts.feed.source.views():
            raise ApiError(422, f"no view named {view!r}", "view")
        viewers = self.parts.viewers
        if viewers.count >= viewers.max_viewers:
            raise ApiError(503, f"already {viewers.count} viewers (at most {viewers.max_viewers})")
        try:
            answer, viewer = await self.parts.viewers.answer(RTCSessionDescription(sdp, kind), (view, width, height),
                                                             request.get(ROLE, "viewer"), fps)
        except (ValueError, IndexError, KeyError, InvalidStateError) as exc:
            raise ApiError(400, f"bad SDP offer: {exc or type(exc).__name__}", "sdp") from None
        return web.json_response({"sdp": answer.sdp, "type": answer.type, "viewer": viewer})

    async def close_viewer(self, request: web.Request) -> web.Response:
        body = Body(await _body(request))
        viewer = body.integer("viewer", 1, 1 << 30) or 0
        body.done()
        await self.parts.viewers.close(viewer)
        return web.json_response({"closed": viewer})

    async def latency(self, request: web.Request) -> web.Response:
        data = await _body(request)
        samples = data.get("samples")
        if set(data) - {"samples"} or not isinstance(samples, list) or len(samples) > MAX_SAMPLES_PER_POST:
            raise ApiError(422, f"body must be {{'samples': [[frame, epoch_ms], ...]}} (at most "
                                f"{MAX_SAMPLES_PER_POST})", "samples")
        pairs = []
        for item in samples:
            if (not isinstance(item, list) or len(item) != 2 or not all(isinstance(v, int | float)
                                                                         and not isinstance(v, bool) for v in item)):
                raise ApiError(422, "each sample must be [frame, epoch_ms]", "samples")
            pairs.append((int(item[0]), float(item[1])))
        values = self.parts.latency.record(pairs)
        return web.json_response({"recorded": len(values)})

    async def action(self, request: web.Request) -> web.Response:
        name = request.match_info["action"]
        action = parse_action(name, await _body(request))
        result = await self._call(self.parts.controls.perform, action)
        return web.json_response({"ok": True, "action": name, "result": result})


def make_app(parts: ServerParts) -> web.Application:
    app = web.Application(middlewares=[json_errors, auth_middleware(parts.tokens, parts.refusals, route_role)],
                          client_max_size=1 << 20)
    api = Api(parts)
    app.on_cleanup.append(api.close)
    app.router.add_get("/", api.page)
    app.router.add_get("/viewer.js", api.script)
    app.router.add_get("/api/openapi.json", api.openapi)
    app.router.add_get("/api/status", api.status)
    app.router.add_get("/api/health", api.health)
    app.router.add_get("/api/views", api.views)
    app.router.add_post("/api/webrtc/offer", api.offer)
    app.router.add_post("/api/webrtc/close", api.close_viewer)
    app.router.add_post("/api/latency", api.latency)
    actions = "|".join(name.replace("/", r"\/") for name in PARSERS)
    app.router.add_post(f"/api/{{action:(?:{actions})}}", api.action)
    return app
