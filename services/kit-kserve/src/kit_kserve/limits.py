"""Bounds on what one HTTP request may cost the server before any model work starts.

- `RequestLimitsMiddleware` (ASGI): a body over `max_body_bytes` is answered 413 from its
  `Content-Length` before a byte of it is read (or as soon as a chunked body passes the limit),
  and a body that has not fully arrived `body_timeout_s` after the headers is answered 408.
  Both close the connection.
- `HeaderTimeoutProtocol` (uvicorn's httptools protocol): a connection whose request line and
  headers have not arrived within `header_timeout_s` (from the connection, or from the first
  byte of a later request) gets 408 and is closed. uvicorn has no such bound of its own.
"""

from __future__ import annotations

import asyncio
import json
from asyncio import TimerHandle

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kit.logging import get_logger

logger = get_logger(__name__)


def _error_body(message: str, code: str) -> bytes:
    return json.dumps({"error": message, "code": code}).encode()


class _BodyLimit(Exception):
    def __init__(self, status: int, message: str, code: str):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class RequestLimitsMiddleware:
    """Pure ASGI middleware: request body size and body read time."""

    def __init__(self, app, max_body_bytes: int, body_timeout_s: float):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s

    def _too_large(self) -> _BodyLimit:
        mb = self.max_body_bytes / (1024 * 1024)
        return _BodyLimit(413, f"request body is larger than the limit of {mb:g} MB", "request_too_large")

    async def _reply(self, send, err: _BodyLimit) -> None:
        body = _error_body(err.message, err.code)
        await send({"type": "http.response.start", "status": err.status,
                    "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_body_bytes:
                    logger.info("refused a request body of %d bytes (limit %d)", declared, self.max_body_bytes)
                    await self._reply(send, self._too_large())
                    return
                break

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout_s
        received = 0
        body_done = False
        started = False

        async def limited_receive():
            nonlocal received, body_done
            if body_done:
                return await receive()
            remaining = deadline - loop.time()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(remaining, 0.001))
            except asyncio.TimeoutError:
                raise _BodyLimit(408, f"the request body did not arrive within {self.body_timeout_s:g} s",
                                 "body_timeout") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise self._too_large()
                if not message.get("more_body", False):
                    body_done = True
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyLimit as err:
            logger.info("request refused: %s (%d)", err.code, err.status)
            if not started:
                await self._reply(send, err)


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bound on the time to receive a request's headers."""

    header_timeout_s: float = 10.0
    _RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                 b"content-length: %d\r\n\r\n%s")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._header_timer: TimerHandle | None = None

    @classmethod
    def with_timeout(cls, seconds: float) -> type["HeaderTimeoutProtocol"]:
        return type("HeaderTimeoutProtocol", (cls,), {"header_timeout_s": seconds})

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_timeout)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        logger.info("closing a connection whose request headers did not arrive within %.1f s", self.header_timeout_s)
        if self.cycle is None or self.cycle.response_complete:
            body = _error_body(f"request headers did not arrive within {self.header_timeout_s:g} s", "header_timeout")
            self.transport.write(self._RESPONSE % (len(body), body))
        self.transport.close()
