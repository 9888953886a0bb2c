"""Response schemas (request schemas are the form and body parameters of each router)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(examples=["invalid_api_key"])
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class JobError(BaseModel):
    code: str
    message: str


class JobOut(BaseModel):
    id: str
    kind: str
    route: str
    state: Literal["queued", "running", "succeeded", "failed"]
    created_at: str
    updated_at: str
    progress: float = Field(ge=0, le=1)
    filename: str | None = None
    attempts: int = 0


class JobDetail(JobOut):
    result: Any | None = None
    result_media_type: str | None = None
    error: JobError | None = None


class JobAccepted(BaseModel):
    job: JobOut


class JobList(BaseModel):
    jobs: list[JobOut]


class UpstreamHealth(BaseModel):
    name: str
    kind: str
    url: str
    live: bool
    ready: bool
    breaker: Literal["closed", "open", "half_open"]
    latency_ms: float | None = None
    error: str | None = None


class RateLimitHealth(BaseModel):
    storage: str = Field(description="memory or redis")
    error: str | None = Field(None, description="the last storage failure; requests are let through meanwhile")


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    upstreams: list[UpstreamHealth]
    routes_error: str | None = None
    rate_limit: RateLimitHealth | None = None


class ServiceOut(BaseModel):
    name: str
    kind: str
    resource: str
    path: str
    model: str
    scopes: list[str]
    max_upload_mb: float


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
