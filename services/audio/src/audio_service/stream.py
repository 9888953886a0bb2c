"""`POST /v1/models/<model>:stream`: the v1 predict body in, segments out as they are decoded
(`text/event-stream`).

Events, each `event: <name>` and one JSON `data:` line:

- `info` `{"language", "language_probability", "duration", "batched"}` once, first;
- `segment` `{"segment": {...}, "decoded_s", "duration", "progress"}` per decoded segment
  (`progress` = decoded seconds / duration, 0..1);
- `done` the whole result, as `:predict` answers it, last;
- `error` `{"error": message, "code": code}`: the work failed after the stream began; nothing follows.

Anything wrong before the first event (bad JSON, bad options, bytes that are not audio, too
long, overloaded) is an ordinary JSON error with its status, as for `:predict`. The work runs in
the model's bounded executor. The response is sse-starlette's `EventSourceResponse`: a `: ping`
comment every `AUDIO_STREAM_KEEPALIVE_S` (a long first segment must not look like a dead
connection), and a client that disconnects is noticed at once, which stops the work before its
next segment.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.sse import AppStatus

from kit.logging import get_logger
from kit_kserve.cancellation import new_request_event
from kit_kserve.errors import InvalidInput, ModelNotReady
from kit_kserve.metrics import INFERENCE_ERRORS, INFERENCE_IN_FLIGHT
from kit_kserve.payload import binary_inputs

from .audio import decode
from .options import parse_options
from .segments import result_of

if TYPE_CHECKING:
    from .model import AudioModel

logger = get_logger(__name__)

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
SEP = "\n"
_END = object()

# a stop of the server lets a transcription in flight finish (uvicorn's graceful shutdown)
# instead of sse-starlette cutting every stream off at once
AppStatus.disable_automatic_graceful_drain()


def sse(event: str, data: Any) -> ServerSentEvent:
    """One server-sent event with a JSON payload."""
    return ServerSentEvent(json.dumps(data, separators=(",", ":")), event=event, sep=SEP)


def error_body(exc: BaseException) -> dict[str, str]:
    """kit's error body for an exception raised while streaming."""
    code = getattr(exc, "code", None)
    if code is None:
        logger.exception("stream failed", exc_info=exc)
        return {"error": "internal error", "code": "internal"}
    return {"error": str(exc), "code": str(code)}


def progress(segment: dict, duration: float) -> dict:
    decoded = min(float(segment["end"]), duration) if duration else 0.0
    return {"segment": segment, "decoded_s": round(decoded, 2), "duration": duration,
            "progress": round(decoded / duration, 4) if duration else 1.0}


class SegmentStream:
    """One streamed transcription: a worker thread produces events, the response consumes them."""

    def __init__(self, model: AudioModel):
        self.model = model
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.cancel = new_request_event()  # carried into the worker by the executor
        self.task: asyncio.Task | None = None

    def _put(self, item) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)

    def _work(self, samples, duration: float, opts) -> None:
        """In a worker thread: start faster-whisper and push each event as it is decoded."""
        INFERENCE_IN_FLIGHT.labels(self.model.name).inc()
        try:
            started = self.model.transcribe_stream(samples, duration, opts)
            self._put(("info", started.header()))
            segments = []
            for seg in started.segments:
                segments.append(seg)
                self._put(("segment", progress(seg, started.duration)))
            self._put(("done", result_of(started, segments)))
        except BaseException as exc:  # noqa: BLE001 - reported as the stream's last event
            INFERENCE_ERRORS.labels(self.model.name, getattr(exc, "code", "internal")).inc()
            self._put(("error", exc))
        finally:
            INFERENCE_IN_FLIGHT.labels(self.model.name).dec()
            self._put(_END)

    async def start(self, samples, duration: float, opts) -> tuple[str, Any]:
        """Start the work; return its first event (raise what failed before it, e.g. Overloaded)."""
        self.task = asyncio.ensure_future(self.model.executor.run(self._work, samples, duration, opts))
        getter = asyncio.ensure_future(self.queue.get())
        await asyncio.wait({self.task, getter}, return_when=asyncio.FIRST_COMPLETED)
        if not getter.done():  # the executor refused the work before it started
            getter.cancel()
            self.task.result()
            raise RuntimeError("the stream's worker ended without an event")
        first = getter.result()
        if first is _END or first[0] == "error":
            exc = first[1] if first is not _END else RuntimeError("no event")
            raise exc
        return first

    async def events(self, first: tuple[str, Any]) -> AsyncIterator[ServerSentEvent]:
        """The response body: the first event, then the rest; stops the work when the client goes."""
        try:
            yield sse(*first)
            while True:
                item = await self.queue.get()
                if item is _END:
                    return
                kind, data = item
                if kind == "error":
                    yield sse("error", error_body(data))
                    return
                yield sse(kind, data)
        finally:
            if self.task is not None and not self.task.done():
                logger.info("stream closed before the transcription finished; stopping it")
            self.cancel.set()


class EventStreamResponse(EventSourceResponse):
    """The event stream of one transcription (pinged every `ping_s`); stops the transcription
    however the response ends, also when the client is gone before the body starts (the body's
    own `finally` never runs then)."""

    def __init__(self, session: SegmentStream, first: tuple[str, Any], ping_s: float):
        super().__init__(session.events(first), headers=SSE_HEADERS, ping=ping_s, sep=SEP,
                         ping_message_factory=lambda: ServerSentEvent(comment="ping", sep=SEP))
        self.session = session

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.session.cancel.set()


def stream_router(model: AudioModel) -> APIRouter:
    """The `:stream` route of `model` (included on KServe's app by `kit_kserve.server.serve`)."""
    router = APIRouter(tags=["audio"])

    @router.post(f"/v1/models/{model.name}:stream", response_class=EventSourceResponse,
                 responses={200: {"content": {"text/event-stream": {}}}})
    async def stream(request: Request) -> EventStreamResponse:
        """Transcribe one recording (v1 predict body, one instance) as server-sent events."""
        if model.whisper is None:
            raise ModelNotReady(model.name)
        body = await request.body()
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise InvalidInput("request body must be JSON", code="invalid_input") from None
        items = await asyncio.to_thread(binary_inputs, payload, "audio", 1)
        opts = parse_options(items[0].options, model.english_only)
        audio = await model.executor.run(decode, items[0].data, model.settings.max_duration_s)
        session = SegmentStream(model)
        first = await session.start(audio.samples, audio.duration, opts)
        return EventStreamResponse(session, first, model.settings.stream_keepalive_s)

    return router
