"""Live transcription sessions: short-lived browser tokens, per-key limits, and the WebSocket
proxy to the transcription upstream (`/v1/models/<model>/live` on the audio-service).

Browsers cannot put an API key in a WebSocket handshake header, so they first trade the key
for a token (`POST /api/v1/live-tokens`) and pass it as `?token=`. A token is an HMAC-signed
`{key id, resource, expiry}`: it opens sessions only until it expires, only for that resource,
and only while its key is not revoked. Other clients send the key in a header as elsewhere.

Close codes the client may see (after an `error` message naming the reason):
1000 done, 1008 bad message, 1011 internal error, 1013 upstream busy, 1014 upstream
unavailable, 4401 no valid key or token, 4403 key lacks the scope, 4404 no such transcription resource, 4408 idle timeout,
4413 session length limit, 4429 too many sessions for this key.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass

import websockets
from prometheus_client import Gauge
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect

from .auth import Principal
from .db import ApiKey
from .errors import error_body
from .routetable import Route

log = logging.getLogger("gateway.live")

LIVE_SESSIONS = Gauge("gateway_live_sessions", "Live transcription sessions open now")
TOKEN_PREFIX = "lt_"

PROTOCOL, INTERNAL, BAD_GATEWAY = 1008, 1011, 1014
UNAUTHORIZED, FORBIDDEN, NOT_FOUND, IDLE, TOO_LONG, TOO_MANY = 4401, 4403, 4404, 4408, 4413, 4429


class LiveError(Exception):
    """Refuse or end a session: an `error` message with `code`, then a close with `close_code`."""

    def __init__(self, close_code: int, code: str, message: str):
        super().__init__(message)
        self.close_code, self.code, self.message = close_code, code, message

    def message_doc(self) -> dict:
        """The `error` message sent before the close."""
        return {"type": "error", **error_body(self.code, self.message)}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LiveTokens:
    """Issue and check signed, expiring session tokens."""

    def __init__(self, secret: str, ttl_s: float):
        self.secret = (secret or secrets.token_urlsafe(32)).encode()
        self.ttl_s = ttl_s

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self.secret, body.encode(), hashlib.sha256).digest())

    def issue(self, principal: Principal, resource: str, now: float | None = None) -> tuple[str, float]:
        """(token, expiry as a Unix time)."""
        exp = (now or time.time()) + self.ttl_s
        body = _b64(json.dumps({"k": principal.key_id, "r": resource, "e": round(exp, 3)},
                               separators=(",", ":")).encode())
        return f"{TOKEN_PREFIX}{body}.{self._sign(body)}", exp

    def check(self, token: str, resource: str, now: float | None = None) -> str:
        """The key id a valid token was issued to; LiveError 4401 otherwise."""
        body, _, sig = token.removeprefix(TOKEN_PREFIX).partition(".")
        if not token.startswith(TOKEN_PREFIX) or not hmac.compare_digest(sig, self._sign(body)):
            raise LiveError(UNAUTHORIZED, "invalid_token", "the live token is not valid")
        claims = json.loads(_unb64(body))
        if claims["e"] < (now or time.time()):
            raise LiveError(UNAUTHORIZED, "token_expired", "the live token has expired; ask for a new one "
                            "(POST /api/v1/live-tokens)")
        if claims["r"] != resource:
            raise LiveError(FORBIDDEN, "insufficient_scope", f"the live token is for '{claims['r']}', not '{resource}'")
        return claims["k"]


def principal_by_id(Session: sessionmaker, key_id: str) -> Principal | None:
    """The key a token names, unless it was revoked or deleted since."""
    with Session() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.id == key_id))
        if row is None or row.revoked_at is not None:
            return None
        return Principal(row.id, row.name, tuple(row.scopes or ()), row.rate_limit_per_minute)


class SessionSlots:
    """Open sessions per key, at most `per_key` each (in this gateway process)."""

    def __init__(self, per_key: int):
        self.per_key = per_key
        self.open: dict[str, int] = {}

    def acquire(self, key_id: str) -> None:
        n = self.open.get(key_id, 0)
        if n >= self.per_key:
            raise LiveError(TOO_MANY, "too_many_sessions", f"this API key has {n} live sessions open; the limit is "
                            f"{self.per_key} (GATEWAY_LIVE_MAX_SESSIONS_PER_KEY)")
        self.open[key_id] = n + 1
        LIVE_SESSIONS.inc()

    def release(self, key_id: str) -> None:
        n = self.open.get(key_id, 0) - 1
        if n > 0:
            self.open[key_id] = n
        else:
            self.open.pop(key_id, None)
        LIVE_SESSIONS.dec()


def upstream_ws_url(route: Route) -> str:
    base = route.upstream
    base = "wss://" + base[len("https://"):] if base.startswith("https://") else "ws://" + base.split("://", 1)[-1]
    return f"{base}/v1/models/{route.model}/live"


@dataclass
class Limits:
    idle_s: float
    max_session_s: float
    connect_timeout_s: float
    max_frame_bytes: int


def _is_stop(text: str) -> bool:
    try:
        return json.loads(text).get("type") == "stop"
    except (ValueError, AttributeError):
        return False


async def send_error(ws: WebSocket, exc: LiveError) -> None:
    """Tell the client why, then close with the matching code (both best effort)."""
    with contextlib.suppress(Exception):
        await ws.send_json(exc.message_doc())
    with contextlib.suppress(Exception):
        await ws.close(exc.close_code, exc.message[:120])


async def proxy(ws: WebSocket, route: Route, limits: Limits, request_id: str) -> None:
    """Relay one accepted client socket to the upstream until either side ends.

    Client to upstream: frames as they are, each bounded in size; no message for `idle_s`, or
    a session older than `max_session_s`, makes the gateway stop the upstream session (which
    still sends its last finals and `done`) and close with 4408 / 4413. Upstream to client:
    text messages as they are; the upstream's close code is passed on.
    """
    try:
        upstream = await websockets.connect(
            upstream_ws_url(route), open_timeout=limits.connect_timeout_s, max_size=limits.max_frame_bytes,
            additional_headers={"x-request-id": request_id}, ping_interval=20)
    except Exception as exc:  # refused, DNS, timeout, bad handshake
        log.warning("live upstream %s unavailable: %r", route.name, exc)
        raise LiveError(BAD_GATEWAY, "upstream_unavailable", f"the transcription service '{route.name}' "
                        "is not reachable") from None
    ending: list[LiveError] = []
    deadline = time.monotonic() + limits.max_session_s

    async def client_to_upstream() -> None:
        last = time.monotonic()  # the last message from the client

        async def end(error: LiveError) -> None:
            ending.append(error)
            await ws.send_json(error.message_doc())
            await upstream.send(json.dumps({"type": "stop"}))

        while True:
            now = time.monotonic()
            if now >= deadline:  # checked on every message: a client that keeps sending is cut too
                await end(LiveError(TOO_LONG, "session_too_long", f"a live session lasts at most "
                                    f"{limits.max_session_s:g} s (GATEWAY_LIVE_MAX_SESSION_S)"))
                return
            wait = max(min(limits.idle_s - (now - last), deadline - now), 0.001)
            try:
                msg = await asyncio.wait_for(ws.receive(), wait)
            except TimeoutError:
                if time.monotonic() - last < limits.idle_s:
                    continue  # the session deadline came first: the check above ends it
                await end(LiveError(IDLE, "idle_timeout", f"no audio for {limits.idle_s:g} s "
                                    "(GATEWAY_LIVE_IDLE_TIMEOUT_S)"))
                return
            last = time.monotonic()
            if msg["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(msg.get("code", 1000))
            data = msg.get("bytes") if msg.get("bytes") is not None else msg.get("text")
            if data is None:
                continue
            if len(data) > limits.max_frame_bytes:
                raise LiveError(PROTOCOL, "frame_too_large", f"a frame may hold at most {limits.max_frame_bytes} "
                                "bytes; send audio in smaller chunks")
            await upstream.send(data)
            if isinstance(data, str) and _is_stop(data):
                return  # no idle timer from here on: the upstream finishes and says done

    async def upstream_to_client() -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in upstream:
                if isinstance(message, str):
                    await ws.send_text(message)

    up_task = asyncio.create_task(upstream_to_client())
    down_task = asyncio.create_task(client_to_upstream())
    try:
        done, _ = await asyncio.wait({up_task, down_task}, return_when=asyncio.FIRST_COMPLETED)
        if down_task in done:
            down_task.result()  # a disconnect or a refused frame raises here
            await up_task  # stopped by a limit: relay the last finals and `done`
        else:
            down_task.cancel()
            up_task.result()
        close_code = upstream.close_code or INTERNAL
        if ending:
            close_code, reason = ending[0].close_code, ending[0].message[:120]
        else:
            reason = (upstream.close_reason or "")[:120]
        with contextlib.suppress(Exception):
            await ws.close(close_code if close_code != 1006 else BAD_GATEWAY, reason)
    finally:
        for t in (up_task, down_task):
            t.cancel()
        await asyncio.gather(up_task, down_task, return_exceptions=True)
        await upstream.close()
