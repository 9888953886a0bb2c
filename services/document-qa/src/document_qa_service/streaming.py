"""`POST /v1/models/document-qa:stream`: a generative answer as server-sent events.

`event: token` `{"text"}` per generated piece, then `event: answer` with the whole ask result;
bad requests get kit's JSON 4xx before the stream starts, later failures `event: error`
`{"error": {"code", "message"}}`, and the stream ends.

(No `from __future__ import annotations` here: FastAPI must see the dependencies of the
route, which are local to `stream_router`, as objects.)"""


import asyncio
import json
from typing import Annotated, AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from kit.logging import get_logger
from kit_kserve.errors import InvalidInput, ModelNotReady

from .engine import Engine
from .schemas import Ask, parse_instance

logger = get_logger(__name__)
_END = object()


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _next(iterator):
    return next(iterator, _END)


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

    @router.post(f"/v1/models/{model.name}:stream", response_class=StreamingResponse)
    async def stream(op: Annotated[Ask, Depends(ask_op)], eng: Annotated[Engine, Depends(engine)]):
        events = eng.ask_stream(op)
        first = await asyncio.to_thread(_next, events)  # retrieval: its errors are plain 4xx

        async def body() -> AsyncIterator[bytes]:
            item = first
            try:
                while item is not _END:
                    yield sse(*item)
                    item = await asyncio.to_thread(_next, events)
            except Exception as exc:  # the stream has started: report in-band
                code = getattr(exc, "code", "internal")
                message = str(exc) if isinstance(exc, InvalidInput) else "internal error"
                logger.warning("stream failed: %s (%s)", code, type(exc).__name__)
                yield sse("error", {"error": {"code": code, "message": message}})

        return StreamingResponse(body(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return router
