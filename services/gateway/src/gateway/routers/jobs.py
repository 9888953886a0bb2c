"""Jobs: list, state and result, and the server-sent event stream of a job's history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response
from kit.logging import request_id_var

from ..deps import AppSettings, Auth, Jobs, Pages
from ..downloads import export_headers
from ..errors import ApiError
from ..eventstream import EventStream, raw_event
from ..jobs import TERMINAL
from ..openapi import event_stream, text_content
from ..operations import load_operation, reformat
from ..render import Output, render
from ..result_schemas import JobResult
from ..schemas import JobDetail, JobEventOut, JobList, JobOut, error_responses

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])

JobId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("", response_model=JobList, responses=error_responses(401, 422, 429))
async def list_jobs(jobs: Jobs, principal: Auth, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> JobList:
    """This key's jobs, newest first."""
    return JobList(jobs=[JobOut.of(j) for j in await jobs.list(principal.key_id, limit)])


@router.get("/{job_id}", response_model=JobDetail, response_model_exclude_none=True,
            responses=error_responses(401, 404, 422, 429))
async def get_job(jobs: Jobs, principal: Auth, job_id: JobId) -> JobDetail:
    """State, progress, and the result (succeeded) or error (failed)."""
    return JobDetail.of(await jobs.get(job_id, principal.key_id))


@router.get("/{job_id}/result", response_model=JobResult, responses={
    200: {"description": "the result by the job's kind (a custom route's: its prediction), or text by `format`",
          "content": text_content("text/csv", "text/plain", "application/x-subrip", "text/vtt")},
    **error_responses(401, 404, 409, 422, 429)})
async def get_job_result(
    jobs: Jobs,
    principal: Auth,
    job_id: JobId,
    format: Annotated[str | None, Query(max_length=20, description=(
        "render the stored result in another format: `csv` or `json` for statements; "
        "`text`, `srt`, `vtt` or `verbose_json` for transcriptions"))] = None,
) -> Response:
    """The result as the synchronous call would have answered it (JSON, text, srt, vtt or csv)."""
    job = await jobs.get(job_id, principal.key_id)
    if job.state == "failed":
        raise ApiError(409, f"job failed: {job.error_message}", code=job.error_code or "job_failed")
    if job.state != "succeeded":
        raise ApiError(409, f"job is {job.state}; no result yet", code="job_not_finished")
    op = load_operation(job.request)
    output = reformat(op, job.result, format) if format else None
    if output is None:
        text = isinstance(job.result, str)
        output = Output(job.result, job.result_media_type or ("text/plain; charset=utf-8" if text else "application/json"))
    return render(output, export_headers(op, output.media_type, job.filename))


@router.get("/{job_id}/pages/{page}", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "the page as a PNG"},
                       **error_responses(400, 401, 404, 409, 410, 413, 422, 429, 502, 503, 504)})
async def get_job_page(
    jobs: Jobs,
    pages: Pages,
    settings: AppSettings,
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
    job = await jobs.get(job_id, principal.key_id)
    png, hit = await pages.image(job, page, pages.snap(width, settings.page_image_max_width), request_id_var.get())
    return Response(png, media_type="image/png", headers={
        "Cache-Control": "private, max-age=3600", "X-Cache": "hit" if hit else "miss"})


@router.get("/{job_id}/events", response_class=EventStream,
            responses={200: {"description": "each event's `data:` is a JobEventOut",
                             "content": event_stream(JobEventOut)}, **error_responses(400, 401, 404, 422, 429)})
async def job_events(
    jobs: Jobs,
    principal: Auth,
    job_id: JobId,
    last_event_id: Annotated[str | None, Header()] = None,
) -> EventStream:
    """Server-sent events: `queued`, `started`, `progress`, `succeeded`, `failed`, each with its
    sequence number as `id`; the stream ends after the terminal event. `Last-Event-ID` (sent by
    a reconnecting EventSource) resumes after that sequence number. A `: ping` comment every
    `GATEWAY_SSE_PING_S` keeps a quiet stream open through proxies."""
    await jobs.get(job_id, principal.key_id)
    try:
        after = max(0, int(last_event_id)) if last_event_id else 0
    except ValueError:
        raise ApiError(400, "Last-Event-ID must be an event sequence number", code="invalid_last_event_id") from None

    async def stream():
        last = after
        while True:
            for ev in await jobs.events_after(job_id, last):
                yield raw_event(ev.type, JobEventOut.of(ev).model_dump_json(), id=ev.seq)
                last = ev.seq
                if ev.type in TERMINAL:
                    return
            if jobs.stopping.is_set():
                return
            await jobs.wait_change(1.0)

    return EventStream(stream(), jobs.settings.sse_ping_s)
