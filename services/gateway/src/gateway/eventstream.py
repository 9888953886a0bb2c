"""The gateway's server-sent event responses, on `sse-starlette`.

Every event stream the gateway answers (job events, streamed transcriptions, streamed answers)
is an `EventStream`: `Cache-Control: no-cache`, `X-Accel-Buffering: no` (nginx passes each
event on at once), `\\n` line ends (the wire format clients already parse), a keep-alive
comment every `GATEWAY_SSE_PING_S` seconds (proxies and load balancers drop idle
connections), and a client that goes away is noticed at once (the library listens for
`http.disconnect`), which cancels the body: its `finally` closes the upstream connection and
gives the upstream's slot back. `on_close` runs however the response ends, also when the
client is gone before the body starts (the body's own `finally` never runs then).

sse-starlette would also cancel every stream as soon as uvicorn is asked to stop; the gateway
keeps its own order instead (job event streams end at once, a transcription in flight may
finish within uvicorn's graceful shutdown), so that is switched off here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.sse import AppStatus

MEDIA_TYPE = "text/event-stream"
SEP = "\n"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

AppStatus.disable_automatic_graceful_drain()


def event(name: str | None, data: Any, id: str | int | None = None) -> ServerSentEvent:
    """One event with a JSON payload (no `event:` line when `name` is None)."""
    return ServerSentEvent(orjson.dumps(data).decode(), event=name, id=None if id is None else str(id), sep=SEP)


def raw_event(name: str | None, data: str, id: str | int | None = None) -> ServerSentEvent:
    """One event whose `data` is already JSON text (an upstream's, or a model's dump)."""
    return ServerSentEvent(data, event=name, id=None if id is None else str(id), sep=SEP)


class EventParser:
    """An upstream's event stream, line by line: `feed` answers `(event name or None, data text)`
    when a line completes an event, else None. Comments (an upstream's pings) are skipped."""

    def __init__(self) -> None:
        self.name: str | None = None
        self.data: list[str] = []

    def feed(self, raw: bytes) -> tuple[str | None, str] | None:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line.startswith(":"):
            return None
        if line.startswith("event:"):
            self.name = line[6:].strip()
        elif line.startswith("data:"):
            self.data.append(line[5:].strip())
        elif not line and (self.name or self.data):
            done = self.name, "\n".join(self.data)
            self.name, self.data = None, []
            return done
        return None


class EventStream(EventSourceResponse):
    """A server-sent event response with the gateway's headers, line ends and ping interval."""

    def __init__(self, body: AsyncIterator[ServerSentEvent], ping_s: float,
                 on_close: Callable[[], Awaitable[None]] | None = None, status_code: int = 200):
        super().__init__(body, status_code=status_code, headers=HEADERS, ping=ping_s, sep=SEP,
                         ping_message_factory=lambda: ServerSentEvent(comment="ping", sep=SEP))
        self.on_close = on_close

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.on_close is not None:
                await self.on_close()
