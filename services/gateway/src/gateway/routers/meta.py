"""Health, readiness, metrics, the route table and the caller's identity."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..deps import GW, Auth
from ..metrics import set_route_job_gauges
from ..openapi import text_content
from ..errors import error_response
from ..schemas import HealthOut, MeOut, ServiceOut, ServicesOut, StatusOut, error_responses

router = APIRouter()
log = logging.getLogger("gateway.meta")


@router.get("/healthz", response_model=StatusOut, tags=["health"])
async def healthz() -> dict:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", response_model=StatusOut, responses=error_responses(503), tags=["health"])
async def readyz(gw: GW):
    """Readiness of the gateway itself (database reachable, started); upstreams do not count."""
    ok, why = await gw.ready()
    if not ok:
        return error_response(503, "not_ready", why or "not ready", retry_after=2)
    return {"status": "ready"}


@router.get("/metrics", tags=["health"], response_class=Response,
            responses={200: {"description": "Prometheus text format", "content": text_content("text/plain")}})
async def metrics(gw: GW) -> Response:
    """Prometheus metrics; per-route job gauges are counted in the database at each scrape."""
    try:
        set_route_job_gauges(await gw.jobs.counts_by_route(), [r.name for r in gw.routes.routes])
    except Exception:  # a database hiccup must not take the other metrics away
        log.exception("could not count jobs per route")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/health", response_model=HealthOut, tags=["health"])
async def health(gw: GW) -> JSONResponse:
    """Each upstream's state: live, ready, breaker, probe latency."""
    return JSONResponse(await gw.health())


@router.get("/api/v1/services", response_model=ServicesOut, responses=error_responses(401, 429),
            tags=["meta"])
async def services(gw: GW, principal: Auth) -> ServicesOut:
    """The route table as the web UI needs it."""
    return ServicesOut(services=[ServiceOut.of(r) for r in gw.routes.routes])


@router.get("/api/v1/me", response_model=MeOut, responses=error_responses(401, 429), tags=["meta"])
async def me(principal: Auth) -> MeOut:
    """Who the key is: a sign-in check for the web UI."""
    return MeOut(key_id=principal.key_id, name=principal.name, scopes=list(principal.scopes))
