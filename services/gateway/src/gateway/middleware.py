"""Authentication, rate limit and scope check as pure ASGI middleware, so a request without a
valid key is refused before a single byte of its (possibly large) body is read."""

from __future__ import annotations

import logging
import re

from anyio import to_thread

from .auth import extract_key, require_scope
from .errors import ApiError
from .uploads import LingeringSend, expects_body

OPEN_PATHS = frozenset({
    "/healthz", "/readyz", "/metrics", "/api/v1/health", "/docs", "/openapi.json",
})
OPEN_PREFIXES = ("/docs/static/",)
PRINCIPAL_KEY = "gateway.principal"
REQUEST_ID_RULE = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")

log = logging.getLogger("gateway.request_id")


class RequestIdGuard:
    """Outermost: an `x-request-id` longer than 128 characters or with characters outside
    `A-Z a-z 0-9 . _ : -` is dropped before anything reads it, so a fresh id is generated
    (kit's middleware) and the raw value is never echoed, logged, sent upstream or stored."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = scope.get("headers", ())
            bad = [v for k, v in headers if k == b"x-request-id" and not REQUEST_ID_RULE.match(v)]
            if bad:
                log.warning("replaced an invalid x-request-id (%d bytes)", len(bad[0]))
                scope = {**scope, "headers": [(k, v) for k, v in headers if k != b"x-request-id"]}
        await self.app(scope, receive, send)


def _header(scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return None


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


class AuthMiddleware:
    def __init__(self, app, gw):
        self.app = app
        self.gw = gw

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or _is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._authenticate(scope)
        except ApiError as exc:
            # answer at once, then read what is left of an upload (a proxy still sending it must
            # see this answer, not a reset connection)
            await exc.response()(scope, receive, LingeringSend(send, receive, lambda: expects_body(scope)))
            return
        scope[PRINCIPAL_KEY] = principal
        await self.app(scope, receive, send)

    async def _authenticate(self, scope):
        gw = self.gw
        key = extract_key(_header(scope, b"authorization"), _header(scope, b"x-api-key"))
        if not key:
            raise ApiError(401, "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                           code="missing_api_key", headers={"WWW-Authenticate": "Bearer"})
        hit, principal, key_hash = gw.keys.cached(key)
        if not hit:
            principal = await to_thread.run_sync(gw.keys.resolve, key_hash)
        if principal is None:
            raise ApiError(401, "the API key is not valid or was revoked", code="invalid_api_key",
                           headers={"WWW-Authenticate": "Bearer"})
        await gw.limiter.check(principal)
        if scope["method"] == "POST":
            route = gw.routes.for_path(scope["path"])
            if route is not None:
                require_scope(principal, route)
        return principal
