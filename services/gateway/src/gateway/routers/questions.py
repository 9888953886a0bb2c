"""`POST /api/v1/questions`: a question over the caller's documents, answered with citations,
as JSON or (`"stream": true` / `Accept: text/event-stream`) as the service's server-sent events."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from kit.logging import request_id_var

from ..deps import Auth, Runner
from ..docqa import call, open_stream
from ..docqa_schemas import AnswerOut, QuestionIn
from ..schemas import error_responses
from .documents import docqa_route

router = APIRouter(tags=["documents"])

SSE_DOC = {"text/event-stream": {"schema": {"type": "string"},
                                 "example": 'event: token\ndata: {"text": "The"}\n\n'
                                            'event: answer\ndata: {"found": true, ...}\n\n'}}


@router.post("/api/v1/questions", response_model=AnswerOut,
             responses={200: {"content": SSE_DOC},
                        **error_responses(400, 401, 403, 404, 413, 422, 429, 501, 502, 503, 504)})
async def ask(request: Request, runner: Runner, principal: Auth, body: QuestionIn):
    """Answer from the caller's documents (all, or `document_ids`); `found: false` when they do not say."""
    route = docqa_route(runner, principal)
    instance = {"op": "ask", "owner": principal.key_id, "question": body.question}
    if body.document_ids is not None:
        instance["document_ids"] = body.document_ids
    if body.top_k is not None:
        instance["top_k"] = body.top_k
    upstream = runner.upstream(route)
    if body.stream or "text/event-stream" in request.headers.get("accept", ""):
        events = await open_stream(upstream, instance, request_id_var.get())
        return StreamingResponse(events, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    return await call(upstream, instance, AnswerOut, request_id_var.get())
