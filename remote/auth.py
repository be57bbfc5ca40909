"""Bearer-token authentication and roles for the web server (aiohttp middleware).

``viewer`` tokens may watch and read status; ``operator`` tokens may also act. The viewer page and
its script are public (they hold no data); every ``/api/`` route but the OpenAPI description
needs a token: none or an unknown one is 401, a viewer token on a control action is 403. Every
refusal is counted by reason (``refusals``), and the answer is a JSON error, never a crash.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from remote.tokens import Role, TokenStore

PUBLIC_PATHS = frozenset({"/", "/viewer.js", "/api/openapi.json", "/favicon.ico"})
ROLE_RANK: dict[str, int] = {"viewer": 0, "operator": 1}
ROLE = web.RequestKey("role", str)
"""The role of the request's token (set by the middleware)."""
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refusals:
    """Refused requests by reason (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, reason: str) -> None:
        with self._lock:
            self._counts[reason] += 1

    def report(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def refuse(refusals: Refusals, status: int, reason: str, message: str) -> web.Response:
    refusals.count(reason)
    headers = {"WWW-Authenticate": 'Bearer realm="vpstage"'} if status == 401 else None
    return web.json_response({"error": message, "status": status}, status=status, headers=headers)


def auth_middleware(tokens: TokenStore, refusals: Refusals, needs: Callable[[web.Request], Role | None]) -> Middleware:
    """``needs(request)``: the role a route needs (None: public)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        required = needs(request)
        if required is None:
            return await handler(request)
        token = bearer_token(request)
        if token is None:
            return refuse(refusals, 401, "no_token", "no token: send 'Authorization: Bearer TOKEN'")
        role = tokens.role_of(token)
        if role is None:
            return refuse(refusals, 401, "bad_token", "unknown token")
        if ROLE_RANK[role] < ROLE_RANK[required]:
            return refuse(refusals, 403, "forbidden", f"a {role} token cannot do this: it needs the {required} role")
        request[ROLE] = role
        return await handler(request)

    return middleware
