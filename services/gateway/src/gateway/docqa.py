"""Document QA calls to document-qa-service: one v1 instance per operation (`op` ingest, list,
get, delete, ask, embed), its answer checked against the response schemas, and the `:stream`
SSE of an ask passed through. The owner is always the caller's key id, set here, never taken
from the client.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeVar

import aiohttp
import orjson
from pydantic import BaseModel, ValidationError
from sse_starlette import ServerSentEvent

from .errors import ApiError, error_body
from .eventstream import MEDIA_TYPE, EventParser, EventStream, event, raw_event
from .render import Output
from .upstream import Upstream

if TYPE_CHECKING:
    from .operations import DocqaIngest

log = logging.getLogger("gateway.docqa")

M = TypeVar("M", bound=BaseModel)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_TEXT_TYPES = {".html": "text/html", ".htm": "text/html", ".md": "text/markdown", ".markdown": "text/markdown",
               ".txt": "text/plain", ".text": "text/plain"}
ACCEPTED = "a PDF, DOCX, HTML, Markdown or plain-text document"


def sniff_document(head: bytes, filename: str | None) -> str:
    """The content type of an upload from its first bytes (and, for text, its name's suffix)."""
    if not head:
        raise ApiError(400, "the uploaded file is empty", code="empty_file")
    name = (filename or "").lower()
    suffix = name[name.rfind("."):] if "." in name else ""
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    if head[:4] == b"PK\x03\x04":
        if suffix == ".docx" or b"word/" in head or b"[Content_Types].xml" in head:
            return DOCX
        raise ApiError(415, f"the uploaded file is a ZIP archive that is not a DOCX; expected {ACCEPTED}",
                       code="unsupported_media_type")
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            text = True
        except UnicodeDecodeError as exc:
            text = exc.start >= len(head) - 3  # a character cut at the 4 kB boundary
        if text:
            if suffix in _TEXT_TYPES:
                return _TEXT_TYPES[suffix]
            start = head.lstrip()[:15].lower()
            return "text/html" if start.startswith((b"<!doctype html", b"<html")) else "text/plain"
    raise ApiError(415, f"the uploaded file is not a recognised document; expected {ACCEPTED}",
                   code="unsupported_media_type")


def check(model: type[M], prediction, route: str) -> M:
    """The upstream's prediction as `model`, or 502 naming what did not fit."""
    try:
        return model.model_validate(prediction)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "answer"
        raise ApiError(502, f"upstream '{route}' returned an unexpected result ({where}: {first.get('msg')})",
                       code="bad_upstream_response") from None


async def call(upstream: Upstream, instance: dict, model: type[M], request_id: str | None) -> M:
    """One operation as a v1 predict (document-qa speaks v1 JSON only). The service answers an
    ingest as `{"predictions": [result]}` and the other operations with the result itself;
    both are read."""
    route = upstream.route
    doc = await upstream._post(f"/v1/models/{route.model}:predict", {"instances": [instance]}, request_id, None)
    preds = doc.get("predictions") if isinstance(doc, dict) else None
    prediction = preds[0] if isinstance(preds, list) and len(preds) == 1 and isinstance(preds[0], dict) else doc
    return check(model, prediction, route.name)


async def execute_ingest(upstream: Upstream, op: DocqaIngest, data: bytes | None, request_id: str | None) -> Output:
    """The job-able operation: one upload into the caller's documents."""
    from .docqa_schemas import DocumentOut

    instance = {"op": "ingest", "owner": op.owner, "filename": op.filename, "content_type": op.content_type,
                "data": base64.b64encode(data or b"").decode("ascii")}
    out = await call(upstream, instance, DocumentOut, request_id)
    return Output(out.model_dump())


# ---------------------------------------------------------------- streaming


async def open_stream(upstream: Upstream, instance: dict, request_id: str | None, ping_s: float) -> EventStream:
    """Start the service's `:stream` for an ask; errors before the first byte raise ApiError
    (so the client gets a proper status), errors after it end the stream with an `error` event.
    The service's events are passed on one whole event at a time (so the gateway's own pings
    never land inside one); a client that goes away closes the upstream connection at once,
    which stops the generation there."""
    route = upstream.route
    probe = upstream.breaker.before_call()
    headers = {"content-type": "application/json", "accept": MEDIA_TYPE}
    if request_id:
        headers["x-request-id"] = request_id
    timeout = aiohttp.ClientTimeout(total=route.timeout_s, sock_connect=upstream.connect_timeout_s)
    url = f"{route.upstream}/v1/models/{route.model}:stream"
    try:
        resp = await upstream.session.post(url, data=orjson.dumps({"instances": [instance]}), headers=headers,
                                           timeout=timeout)
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
        upstream.breaker.on_failure(probe)
        raise ApiError(503, f"upstream '{route.name}' cannot be reached: {exc.__class__.__name__}",
                       code="upstream_unavailable", retry_after=upstream.breaker.reset_s) from None
    except asyncio.TimeoutError:
        upstream.breaker.on_failure(probe)
        raise ApiError(504, f"upstream '{route.name}' timed out after {route.timeout_s:g}s",
                       code="upstream_timeout") from None
    except aiohttp.ClientError as exc:
        upstream.breaker.on_failure(probe)
        raise ApiError(502, f"upstream '{route.name}' failed: {exc.__class__.__name__}", code="bad_gateway") from None
    ctype = resp.headers.get("content-type", "")
    if resp.status != 200 or not ctype.startswith(MEDIA_TYPE):
        try:
            raw = await resp.read()
        finally:
            resp.release()
        if resp.status < 500:
            upstream.breaker.on_success(probe)
        else:
            upstream.breaker.on_failure(probe)
        if resp.status == 200:
            raise ApiError(502, f"upstream '{route.name}' did not answer with an event stream",
                           code="bad_upstream_response")
        upstream._decode(resp.status, raw, resp.headers.get("retry-after", ""))
    upstream.breaker.on_success(probe)
    finished = False

    async def body() -> AsyncIterator[ServerSentEvent]:
        nonlocal finished
        parser = EventParser()
        try:
            while raw := await resp.content.readline():
                done = parser.feed(raw)
                if done is not None:
                    yield raw_event(*done)
            finished = True
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("stream from %s ended early: %s", route.name, exc.__class__.__name__)
            yield event("error", error_body("upstream_disconnected",
                                            f"upstream '{route.name}' ended the stream early"))
        finally:
            await close()

    async def close() -> None:
        if not finished:
            resp.close()  # an unfinished answer: the service sees the disconnect and stops generating
        resp.release()

    return EventStream(body(), ping_s, on_close=close)
