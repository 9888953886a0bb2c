"""uvicorn's HTTP protocol with bounded header and body read times (slow-client defence).

uvicorn times out idle keep-alive connections but not a client that trickles its request:
one header byte every few seconds, or a body far slower than any real upload, holds a
connection (and its memory) forever. This protocol arms a timer when a connection opens and
when each request begins: the headers must be complete within `header_timeout_s`, then the
body within `body_timeout_s`. Either expiry answers `408 Request Timeout` (when nothing was
answered yet) and closes the connection. It runs below the ASGI app, so it holds before
authentication and for every path.
"""

from __future__ import annotations

import asyncio
import json
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .errors import error_body

log = logging.getLogger("gateway.http")


def _408(message: str) -> bytes:
    body = json.dumps(error_body("request_timeout", message)).encode()
    return (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)


def timed_protocol(header_timeout_s: float, body_timeout_s: float) -> type[HttpToolsProtocol]:
    """An `HttpToolsProtocol` class with these limits (uvicorn's `http=` takes a class)."""

    class TimedHttpToolsProtocol(HttpToolsProtocol):
        _read_timer: asyncio.TimerHandle | None = None

        def _arm(self, seconds: float, what: str) -> None:
            self._disarm()
            self._read_timer = self.loop.call_later(seconds, self._expired, seconds, what)

        def _disarm(self) -> None:
            if self._read_timer is not None:
                self._read_timer.cancel()
                self._read_timer = None

        def _expired(self, seconds: float, what: str) -> None:
            self._read_timer = None
            if self.transport.is_closing():
                return
            client = "%s:%d" % self.client if self.client else "?"
            log.warning("closing a connection from %s: %s not received within %gs", client, what, seconds)
            cycle = self.cycle
            # headers: the previous request on this connection (if any) is answered already;
            # body: answer unless the app has begun its own answer (e.g. an early 401)
            idle = cycle is None or (cycle.response_complete if what == "headers" else not cycle.response_started)
            if idle:
                self.transport.write(_408(f"the request {what} did not arrive within {seconds:g}s"))
            if cycle is not None and not cycle.response_complete:
                cycle.disconnected = True  # a waiting app sees http.disconnect
                cycle.message_event.set()
            self.transport.close()

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(header_timeout_s, "headers")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._read_timer is None:
                self._arm(header_timeout_s, "headers")

        def on_headers_complete(self) -> None:
            self._arm(body_timeout_s, "body")
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)

    return TimedHttpToolsProtocol
