"""Response schemas (request schemas are the form and body parameters of each router)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from .db import Job, JobEvent, iso
from .routetable import Route


class ErrorBody(BaseModel):
    code: str = Field(examples=["invalid_api_key"])
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class JobError(BaseModel):
    code: str
    message: str


JobState = Literal["queued", "running", "succeeded", "failed"]


class JobOut(BaseModel):
    id: str
    kind: str = Field(description="the route's kind: transcription, statement-extraction, ...")
    route: str
    state: JobState
    created_at: str
    updated_at: str
    progress: float = Field(ge=0, le=1)
    filename: str | None = None
    attempts: int = 0

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(id=job.id, kind=job.kind, route=job.route, state=job.state, created_at=iso(job.created_at),
                   updated_at=iso(job.updated_at), progress=round(float(job.progress or 0.0), 4),
                   filename=job.filename, attempts=job.attempts)


class JobDetail(JobOut):
    """A job with its result (succeeded) or error (failed)."""

    result: Any | None = Field(None, description=(
        "what the synchronous call would have answered: a StatementResult, TranscriptionResult, "
        "TranslationResult, DocumentOut, ... by the job's kind; text when `result_media_type` is not JSON"))
    result_media_type: str | None = None
    error: JobError | None = None

    @classmethod
    def of(cls, job: Job) -> JobDetail:
        doc = JobOut.of(job).model_dump()
        if job.state == "succeeded":
            doc.update(result=job.result, result_media_type=job.result_media_type or "application/json")
        if job.state == "failed":
            doc["error"] = JobError(code=job.error_code or "job_failed", message=job.error_message or "job failed")
        return cls(**doc)


class JobEventOut(BaseModel):
    """One event of a job's history: the `data:` of each server-sent event of `/jobs/{id}/events`."""

    seq: int = Field(description="the event's sequence number (its SSE `id`, for `Last-Event-ID`)")
    type: Literal["queued", "started", "progress", "succeeded", "failed"]
    at: str
    data: dict[str, Any] = Field(description="progress: `fraction`, `message`; queued: `reason`; failed: `code`, "
                                             "`message`")

    @classmethod
    def of(cls, ev: JobEvent) -> JobEventOut:
        # not validated: a stream must not break on a stored event (the contract tests check the types)
        return cls.model_construct(seq=ev.seq, type=ev.type, at=iso(ev.at), data=ev.data or {})


class JobAccepted(BaseModel):
    job: JobOut


class JobList(BaseModel):
    jobs: list[JobOut]


class UpstreamDevice(BaseModel):
    """Where a model service runs, from its start-up GPU check (kit's `GET /device`)."""

    device: str | None = Field(None, description="cpu or cuda")
    requested: str | None = Field(None, description="<SERVICE>_DEVICE: auto, cpu or cuda")
    budget_gb: float | None = Field(None, description="<SERVICE>_MAX_MEMORY_GB")
    verdict: str | None = Field(None, description="ready on GPU, will run on CPU")
    gpu: str | None = Field(None, description="the GPU it saw, when one is visible")
    warnings: list[str] = Field(default_factory=list, description="e.g. why auto fell back to the CPU")


class UpstreamHealth(BaseModel):
    name: str
    kind: str
    url: str
    live: bool
    ready: bool
    breaker: Literal["closed", "open", "half_open"]
    latency_ms: float | None = None
    error: str | None = None
    device: UpstreamDevice | None = None


class RateLimitHealth(BaseModel):
    storage: str = Field(description="memory or redis")
    error: str | None = Field(None, description="the last storage failure; requests are let through meanwhile")


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    upstreams: list[UpstreamHealth]
    routes_error: str | None = None
    rate_limit: RateLimitHealth | None = None


class ServiceOut(BaseModel):
    """A route as the web UI needs it (no upstream address, no limits but the upload size)."""

    name: str
    kind: str
    resource: str
    path: str
    model: str
    scopes: list[str]
    max_upload_mb: float

    @classmethod
    def of(cls, route: Route) -> ServiceOut:
        return cls(name=route.name, kind=route.kind, resource=route.resource, path=route.path, model=route.model,
                   scopes=list(route.scopes), max_upload_mb=route.max_upload_mb)


class ServicesOut(BaseModel):
    services: list[ServiceOut]


class MeOut(BaseModel):
    key_id: str
    name: str
    scopes: list[str]


class StatusOut(BaseModel):
    status: str


def error_responses(*statuses: int) -> dict:
    """OpenAPI `responses` entries for the error statuses a route can answer."""
    return {s: {"model": ErrorOut} for s in statuses}


class LiveTokenIn(BaseModel):
    resource: str = Field("transcriptions", pattern=r"^[a-z0-9][a-z0-9-]*$",
                          description="the transcription resource the token opens live sessions of")


class LiveTokenOut(BaseModel):
    token: str
    expires_at: str
    expires_in: float = Field(description="seconds the token may open sessions")
    url: str = Field(description="the WebSocket path to open, token included")
