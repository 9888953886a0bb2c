"""`POST /v1/models/document-qa:stream`: a generative answer as server-sent events.

`event: token` `{"text"}` per generated piece, then `event: answer` with the whole ask result;
bad requests get kit's JSON 4xx before the stream starts, later failures `event: error`
`{"error": {"code", "message"}}`, and the stream ends. The response is sse-starlette's
`EventSourceResponse`: a `: ping` comment every `DOCQA_STREAM_PING_S`, and a client that goes
away is noticed at once and stops the generation before its next token (counted as
`aip_inference_errors_total{code="client_closed_request"}`).

(No `from __future__ import annotations` here: FastAPI must see the dependencies of the
route, which are local to `stream_router`, as objects.)"""


import asyncio
import json
import threading
from typing import Annotated, AsyncIterator, Iterator

from fastapi import APIRouter, Depends, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.sse import AppStatus

from kit.logging import get_logger
from kit_kserve.errors import InvalidInput, ModelNotReady
from kit_kserve.metrics import INFERENCE_ERRORS

from .engine import Engine
from .schemas import Ask, parse_instance

logger = get_logger(__name__)
_END = object()
SEP = "\n"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

# a stop of the server lets an answer in flight finish (uvicorn's graceful shutdown) instead of
# sse-starlette cutting every stream off at once
AppStatus.disable_automatic_graceful_drain()


def sse(event: str, data: dict) -> ServerSentEvent:
    return ServerSentEvent(json.dumps(data, separators=(",", ":")), event=event, sep=SEP)


def _next(iterator):
    return next(iterator, _END)


class AnswerStream(EventSourceResponse):
    """The events of one streamed answer. Its generation is stopped however the response ends:
    the client leaving mid-way, or gone before the body starts (the body never runs then)."""

    def __init__(self, model_name: str, events: Iterator, first, stop: threading.Event, ping_s: float):
        self.model_name = model_name
        self.events = events
        self.stop = stop
        self.finished = False
        super().__init__(self.answer_events(first), headers=HEADERS, ping=ping_s, sep=SEP,
                         ping_message_factory=lambda: ServerSentEvent(comment="ping", sep=SEP))

    async def answer_events(self, first) -> AsyncIterator[ServerSentEvent]:
        item = first
        try:
            while item is not _END:
                yield sse(*item)
                item = await asyncio.to_thread(_next, self.events)
        except Exception as exc:  # the stream has started: report in-band
            code = getattr(exc, "code", "internal")
            message = str(exc) if isinstance(exc, InvalidInput) else "internal error"
            logger.warning("stream failed: %s (%s)", code, type(exc).__name__)
            yield sse("error", {"error": {"code": code, "message": message}})
        self.finished = True

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if not self.finished:
                logger.info("the client left before the answer was complete; stopping its generation")
                INFERENCE_ERRORS.labels(self.model_name, "client_closed_request").inc()
            self.stop.set()


def stream_router(model) -> APIRouter:
    """The streaming route of `model` (a DocumentQAModel, whose engine exists once it is loaded)."""
    router = APIRouter(tags=["document-qa"])

    def engine() -> Engine:
        if model.engine is None:
            raise ModelNotReady(model.name)
        return model.engine

    async def ask_op(request: Request) -> Ask:
        try:
            payload = await request.json()
        except ValueError as exc:
            raise InvalidInput("request body is not valid JSON", code="invalid_json") from exc
        op = parse_instance(payload)
        if not isinstance(op, Ask):
            raise InvalidInput("only the 'ask' operation streams", code="invalid_op")
        return op

    @router.post(f"/v1/models/{model.name}:stream", response_class=EventSourceResponse)
    async def stream(op: Annotated[Ask, Depends(ask_op)], eng: Annotated[Engine, Depends(engine)]):
        stop = threading.Event()
        events = eng.ask_stream(op, stop)
        first = await asyncio.to_thread(_next, events)  # retrieval: its errors are plain 4xx
        return AnswerStream(model.name, events, first, stop, model.settings.stream_ping_s)

    return router
