"""Jobs: list, state and result, and the server-sent event stream of a job's history."""

from __future__ import annotations

import time
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from kit.logging import request_id_var

from ..deps import GW, Auth, render
from ..errors import ApiError
from ..jobs import TERMINAL
from ..openapi import event_stream, text_content
from ..operations import reformat
from ..result_schemas import JobResult
from ..schemas import JobDetail, JobEventOut, JobList, JobOut, error_responses

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])

JobId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("", response_model=JobList, responses=error_responses(401, 422, 429))
async def list_jobs(gw: GW, principal: Auth, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> JobList:
    """This key's jobs, newest first."""
    jobs = await gw.jobs.list(principal.key_id, limit)
    return JobList(jobs=[JobOut.of(j) for j in jobs])


@router.get("/{job_id}", response_model=JobDetail, response_model_exclude_none=True,
            responses=error_responses(401, 404, 422, 429))
async def get_job(gw: GW, principal: Auth, job_id: JobId) -> JobDetail:
    """State, progress, and the result (succeeded) or error (failed)."""
    return JobDetail.of(await gw.jobs.get(job_id, principal.key_id))


@router.get("/{job_id}/result", response_model=JobResult, responses={
    200: {"description": "the result by the job's kind (a custom route's: its prediction), or text by `format`",
          "content": text_content("text/csv", "text/plain", "application/x-subrip", "text/vtt")},
    **error_responses(401, 404, 409, 422, 429)})
async def get_job_result(
    gw: GW,
    principal: Auth,
    job_id: JobId,
    format: Annotated[str | None, Query(max_length=20, description=(
        "render the stored result in another format: `csv` or `json` for statements; "
        "`text`, `srt`, `vtt` or `verbose_json` for transcriptions"))] = None,
) -> Response:
    """The result as the synchronous call would have answered it (JSON, text, srt, vtt or csv)."""
    job = await gw.jobs.get(job_id, principal.key_id)
    if job.state == "failed":
        raise ApiError(409, f"job failed: {job.error_message}", code=job.error_code or "job_failed")
    if job.state != "succeeded":
        raise ApiError(409, f"job is {job.state}; no result yet", code="job_not_finished")
    output = reformat(job.request or {}, job.result, format) if format else None
    if output is not None:
        return render(output)
    if isinstance(job.result, str):
        return Response(job.result, media_type=job.result_media_type or "text/plain; charset=utf-8")
    return Response(orjson.dumps(job.result), media_type="application/json")


@router.get("/{job_id}/pages/{page}", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "the page as a PNG"},
                       **error_responses(400, 401, 404, 409, 410, 413, 422, 429, 502, 503, 504)})
async def get_job_page(
    gw: GW,
    principal: Auth,
    job_id: JobId,
    page: Annotated[int, Path(ge=1, le=10_000, description="page number, from 1")],
    width: Annotated[int, Query(ge=100, le=4000, description=(
        "image width in pixels, rounded up to a multiple of 100 and capped at GATEWAY_PAGE_IMAGE_MAX_WIDTH; "
        "never wider than the page at the service's OCR resolution"))] = 1200,
) -> Response:
    """A page of a succeeded statement job's document as a PNG, to draw each row's `bbox` on
    (`bbox * image width / page_info.width`). Cached per page and width; 410 once the document
    is no longer kept."""
    job = await gw.jobs.get(job_id, principal.key_id)
    width = gw.pages.snap(width, gw.settings.page_image_max_width)
    png, hit = await gw.pages.image(job, page, width, request_id_var.get())
    return Response(png, media_type="image/png", headers={
        "Cache-Control": "private, max-age=3600", "X-Cache": "hit" if hit else "miss"})


@router.get("/{job_id}/events", response_class=StreamingResponse,
            responses={200: {"description": "each event's `data:` is a JobEventOut",
                             "content": event_stream(JobEventOut)}, **error_responses(400, 401, 404, 422, 429)})
async def job_events(
    request: Request,
    gw: GW,
    principal: Auth,
    job_id: JobId,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events: `queued`, `started`, `progress`, `succeeded`, `failed`; the stream
    ends after the terminal event. `Last-Event-ID` resumes after that sequence number."""
    await gw.jobs.get(job_id, principal.key_id)
    try:
        after = max(0, int(last_event_id)) if last_event_id else 0
    except ValueError:
        raise ApiError(400, "Last-Event-ID must be an event sequence number", code="invalid_last_event_id") from None

    async def stream():
        last = after
        quiet_since = time.monotonic()
        while True:
            for ev in await gw.jobs.events_after(job_id, last):
                doc = JobEventOut.of(ev).model_dump_json()
                yield f"event: {ev.type}\nid: {ev.seq}\ndata: {doc}\n\n"
                last = ev.seq
                quiet_since = time.monotonic()
                if ev.type in TERMINAL:
                    return
            if gw.jobs.stopping.is_set() or await request.is_disconnected():
                return
            if time.monotonic() - quiet_since > 15:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
            await gw.jobs.wait_change(1.0)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
