"""`POST /api/v1/questions`: a question over the caller's documents, answered with citations,
as JSON or (`"stream": true` / `Accept: text/event-stream`) as the service's server-sent events."""

from __future__ import annotations

from fastapi import APIRouter, Request
from kit.logging import request_id_var

from ..deps import AppSettings, Auth, Runner
from ..docqa import call, open_stream
from ..docqa_schemas import AnswerOut, QuestionIn
from ..eventstream import MEDIA_TYPE
from ..schemas import error_responses
from .documents import docqa_route

router = APIRouter(tags=["documents"])

SSE_DOC = {MEDIA_TYPE: {"schema": {"type": "string"},
                                 "example": 'event: token\ndata: {"text": "The"}\n\n'
                                            'event: answer\ndata: {"found": true, ...}\n\n'}}


@router.post("/api/v1/questions", response_model=AnswerOut,
             responses={200: {"content": SSE_DOC},
                        **error_responses(400, 401, 403, 404, 413, 422, 429, 501, 502, 503, 504)})
async def ask(request: Request, runner: Runner, settings: AppSettings, principal: Auth, body: QuestionIn):
    """Answer from the caller's documents (all, or `document_ids`); `found: false` when they do not say."""
    route = docqa_route(runner, principal)
    instance = {"op": "ask", "owner": principal.key_id, "question": body.question}
    if body.document_ids is not None:
        instance["document_ids"] = body.document_ids
    if body.top_k is not None:
        instance["top_k"] = body.top_k
    upstream = runner.upstream(route)
    if body.stream or MEDIA_TYPE in request.headers.get("accept", ""):
        return await open_stream(upstream, instance, request_id_var.get(), settings.sse_ping_s)
    return await call(upstream, instance, AnswerOut, request_id_var.get())
