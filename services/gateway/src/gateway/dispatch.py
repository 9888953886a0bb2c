"""Run an operation the way the request asks: now (whole, or as server-sent events) or as a job."""

from __future__ import annotations

from fastapi import Request, UploadFile
from fastapi.responses import JSONResponse, Response
from kit.logging import request_id_var

from .auth import Principal, require_scope
from .downloads import export_headers
from .errors import ApiError
from .jobs import JobManager
from .operations import Operation, Transcription
from .render import render
from .routetable import Route
from .runner import OperationRunner
from .schemas import JobAccepted, JobOut


def wants_async(request: Request, async_flag: bool) -> bool:
    """`?async=true` or `Prefer: respond-async`."""
    prefer = request.headers.get("prefer", "")
    return async_flag or any(p.strip().lower() == "respond-async" for p in prefer.split(","))


def wants_events(request: Request) -> bool:
    """`Accept: text/event-stream` (and not also JSON first) asks for a streamed answer."""
    accept = [p.split(";")[0].strip().lower() for p in request.headers.get("accept", "").split(",")]
    return bool(accept) and accept[0] == "text/event-stream"


async def dispatch(runner: OperationRunner, jobs: JobManager, principal: Principal, route: Route, op: Operation,
                   file: UploadFile | None, run_async: bool, stream: bool = False) -> Response:
    """Run an operation now (whole, or as server-sent events when `stream`), or queue it as a
    job and answer 202."""
    require_scope(principal, route)
    rid = request_id_var.get()
    if stream:
        if run_async:
            raise ApiError(400, "stream=true and async cannot be combined", code="stream_and_async")
        from . import sse

        if not isinstance(op, Transcription):
            raise ApiError(400, "stream=true is for transcriptions", code="stream_unsupported")
        sse.check_stream_format(op.op, op.format)
        return await sse.respond(runner, op, await file.read(), rid, openai=op.openai,
                                 ping_s=jobs.settings.sse_ping_s)
    if run_async:
        job = await jobs.submit(principal, route, op, file.file if file else None,
                                file.filename if file else None, rid)
        return JSONResponse(JobAccepted(job=JobOut.of(job)).model_dump(), status_code=202,
                            headers={"Location": f"/api/v1/jobs/{job.id}", "Preference-Applied": "respond-async"})
    data = await file.read() if file is not None else None
    output = await runner.execute(op, data, rid)
    return render(output, export_headers(op, output.media_type, file.filename if file else None))
