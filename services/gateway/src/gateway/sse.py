"""Transcriptions as server-sent events: the audio-service's `:stream` relayed to the client.

`open_segments` posts the upload to the route's `POST /v1/models/<model>:stream` (the v1
predict body) through the route's `Upstream` (its concurrency slot, queue limit and circuit
breaker) and returns once the upstream has answered its headers, so anything refused before the
first event (bad audio, bad options, overloaded, unreachable) is an ordinary JSON error with
its status. The events then come from `SegmentStream`, which `native_events` and
`openai_events` turn into the gateway's two SSE dialects, answered as an `EventStream`
(sse-starlette: keep-alive pings, disconnects noticed at once). A stream that breaks ends with
an `error` event (never a hang: each read waits at most the route's timeout); a client that
goes away closes the upstream connection at once, which stops the work there, and gives the
upstream's slot back.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator

import aiohttp
from sse_starlette import ServerSentEvent

from .errors import ApiError
from .eventstream import MEDIA_TYPE, EventParser, EventStream, event
from .metrics import UPSTREAM_INFLIGHT, UPSTREAM_REQUESTS, UPSTREAM_SECONDS
from .operations import Transcription
from .runner import OperationRunner
from .upstream import Upstream

log = logging.getLogger("gateway.sse")

STREAM_FORMATS = {"transcription": ("json", "verbose_json"), "openai_transcription": ("json", "text")}


def check_stream_format(op: str, fmt: str) -> None:
    allowed = STREAM_FORMATS[op]
    if fmt not in allowed:
        raise ApiError(400, f"stream=true answers events; response_format must be {' or '.join(allowed)}",
                       code="unsupported_stream_format")


class SegmentStream:
    """The upstream's events, parsed; holds the upstream's concurrency slot until closed."""

    def __init__(self, up: Upstream, resp: aiohttp.ClientResponse, probe: bool, read_timeout_s: float):
        self.up = up
        self.resp = resp
        self.probe = probe
        self.read_timeout_s = read_timeout_s
        self.start = time.perf_counter()
        self.closed = False

    async def events(self) -> AsyncIterator[tuple[str, dict]]:
        """(event, data) pairs until `done`; raise ApiError when the upstream breaks off."""
        parser = EventParser()
        ok = False
        try:
            while True:
                try:
                    raw = await asyncio.wait_for(self.resp.content.readline(), self.read_timeout_s)
                except asyncio.TimeoutError:
                    raise ApiError(504, f"upstream '{self.up.route.name}' sent nothing for "
                                        f"{self.read_timeout_s:g}s", code="upstream_timeout") from None
                except aiohttp.ClientError as exc:
                    raise ApiError(503, f"upstream '{self.up.route.name}' broke off the stream "
                                        f"({exc.__class__.__name__})", code="upstream_disconnected") from None
                if not raw:
                    raise ApiError(502, f"upstream '{self.up.route.name}' ended the stream without a result",
                                   code="upstream_disconnected")
                done = parser.feed(raw)
                if done is None:
                    continue
                name, text = done
                try:
                    doc = json.loads(text)
                except ValueError:
                    raise ApiError(502, f"upstream '{self.up.route.name}' sent an event that is not JSON",
                                   code="bad_upstream_response") from None
                if name == "error":
                    err = doc if isinstance(doc, dict) else {}
                    ok = True  # the upstream is alive and said what failed
                    raise ApiError(502, f"upstream '{self.up.route.name}': {err.get('error', 'failed')}",
                                   code=str(err.get("code") or "upstream_error"))
                yield name or "message", doc
                if name == "done":
                    ok = True
                    return
        finally:
            await self.close(ok)

    async def close(self, ok: bool = False) -> None:
        """Release the connection (closing it when the stream did not finish) and the slot."""
        if self.closed:
            return
        self.closed = True
        if not ok:
            self.resp.close()  # an unfinished stream: the upstream sees the disconnect and stops
        self.resp.release()
        up = self.up
        UPSTREAM_SECONDS.labels(up.route.name).observe(time.perf_counter() - self.start)
        UPSTREAM_INFLIGHT.labels(up.route.name).dec()
        up.sem.release()
        up.breaker.release_probe(self.probe)


async def open_segments(runner: OperationRunner, op: Transcription, data: bytes,
                        request_id: str | None) -> SegmentStream:
    """Start the upstream stream of a transcription; raise ApiError as a call would."""
    route = runner.route_of(op)
    up = runner.upstream(route)
    name = route.name
    options = op.options.upstream()
    body = json.dumps({"instances": [{"audio": {"b64": base64.b64encode(data).decode("ascii")}, **options}]})
    headers = {"content-type": "application/json", "accept": MEDIA_TYPE}
    if request_id:
        headers["x-request-id"] = request_id
    probe = up.breaker.before_call()
    if up.sem.locked() and up.waiting >= up.max_queue:
        up.breaker.release_probe(probe)
        UPSTREAM_REQUESTS.labels(name, "busy").inc()
        raise ApiError(503, f"upstream '{name}' is busy; try again", code="upstream_busy", retry_after=1)
    up.waiting += 1
    try:
        await asyncio.wait_for(up.sem.acquire(), timeout=route.timeout_s)
    except asyncio.TimeoutError:
        up.breaker.release_probe(probe)
        raise ApiError(504, f"timed out waiting for upstream '{name}'", code="upstream_timeout") from None
    finally:
        up.waiting -= 1
    UPSTREAM_INFLIGHT.labels(name).inc()
    # the whole answer may take long; what is bounded is the wait for headers and for each line
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=up.connect_timeout_s, sock_read=route.timeout_s)
    resp = None
    try:
        resp = await up.session.post(f"{route.upstream}/v1/models/{route.model}:stream", data=body,
                                     headers=headers, timeout=timeout)
        UPSTREAM_REQUESTS.labels(name, str(resp.status)).inc()
        if resp.status != 200 or not resp.headers.get("content-type", "").startswith(MEDIA_TYPE):
            raw = await resp.read()
            alive = resp.status < 500 or resp.status == 501
            up.breaker.on_success(probe) if alive else up.breaker.on_failure(probe)
            if resp.status == 200:
                raise ApiError(502, f"upstream '{name}' did not answer with an event stream",
                               code="bad_upstream_response")
            if resp.status in (404, 405):
                raise ApiError(501, f"upstream '{name}' does not stream transcriptions", code="stream_unsupported")
            up._decode(resp.status, raw, resp.headers.get("retry-after", ""))
        up.breaker.on_success(probe)
        return SegmentStream(up, resp, False, route.timeout_s)
    except BaseException as exc:
        if resp is not None:
            resp.close()
        if not isinstance(exc, ApiError):
            up.breaker.on_failure(probe)
        UPSTREAM_INFLIGHT.labels(name).dec()
        up.sem.release()
        if isinstance(exc, asyncio.TimeoutError):
            raise ApiError(504, f"upstream '{name}' timed out after {route.timeout_s:g}s",
                           code="upstream_timeout") from None
        if isinstance(exc, aiohttp.ClientError):
            raise ApiError(503, f"upstream '{name}' cannot be reached: {exc.__class__.__name__}",
                           code="upstream_unavailable", retry_after=up.breaker.reset_s) from None
        raise


def _error(exc: BaseException) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    log.exception("stream failed", exc_info=exc)
    return ApiError(500, "internal error; see the gateway log", code="internal_error")


async def native_events(stream: SegmentStream) -> AsyncIterator[ServerSentEvent]:
    """`/api/v1/transcriptions`: `info`, a `segment` per decoded segment (with `progress`), `done`
    with the whole result; `error` `{"error": {"code", "message"}}` ends a failed stream."""
    try:
        async for name, data in stream.events():
            yield event(name, data)
    except Exception as exc:  # noqa: BLE001 - reported in the stream
        yield event("error", _error(exc).body())
    finally:
        await stream.close()


async def openai_events(stream: SegmentStream) -> AsyncIterator[ServerSentEvent]:
    """OpenAI's transcription stream: `transcript.text.delta` per segment's text, then
    `transcript.text.done`; a failure is `{"type": "error", "error": {...}}`."""
    try:
        first = True
        async for name, data in stream.events():
            if name == "segment":
                text = str(data["segment"].get("text", "")).strip()
                if text:
                    yield event("transcript.text.delta",
                                {"type": "transcript.text.delta", "delta": text if first else " " + text})
                    first = False
            elif name == "done":
                yield event("transcript.text.done", {"type": "transcript.text.done",
                                                     "text": str(data.get("text", "")).strip()})
    except Exception as exc:  # noqa: BLE001 - reported in the stream
        err = _error(exc)
        yield event("error", {"type": "error", "error": {**err.body()["error"], "type": "server_error"}})
    finally:
        await stream.close()


async def respond(runner: OperationRunner, op: Transcription, data: bytes, request_id: str | None,
                  openai: bool, ping_s: float) -> EventStream:
    """The streaming answer to a transcription operation (a `: ping` comment every `ping_s`)."""
    stream = await open_segments(runner, op, data, request_id)
    body = openai_events(stream) if openai else native_events(stream)
    return EventStream(body, ping_s, on_close=stream.close)
