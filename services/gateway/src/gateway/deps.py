"""`Annotated` dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import Depends, Request, Security, UploadFile
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from kit.logging import request_id_var

from .auth import Principal
from .errors import ApiError
from .middleware import PRINCIPAL_KEY
from .operations import Output, execute
from .routetable import Route
from .schemas import JobAccepted, JobOut
from .state import Gateway
from .uploads import check_type

_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key header")


def get_gw(request: Request) -> Gateway:
    return request.app.state.gw


GW = Annotated[Gateway, Depends(get_gw)]


def principal_of(request: Request) -> Principal:
    principal = request.scope.get(PRINCIPAL_KEY)
    if principal is None:  # the middleware lets no protected request through without one
        raise ApiError(401, "an API key is required", code="missing_api_key")
    return principal


async def current_principal(
    request: Request,
    _bearer_doc: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
    _key_doc: Annotated[str | None, Security(_api_key)] = None,
) -> Principal:
    """The key the auth middleware accepted (the Security parameters document the schemes)."""
    return principal_of(request)


Auth = Annotated[Principal, Depends(current_principal)]


def wants_async(request: Request, async_flag: bool) -> bool:
    prefer = request.headers.get("prefer", "")
    return async_flag or any(p.strip().lower() == "respond-async" for p in prefer.split(","))


def wants_events(request: Request) -> bool:
    """`Accept: text/event-stream` (and not also JSON first) asks for a streamed answer."""
    accept = [p.split(";")[0].strip().lower() for p in request.headers.get("accept", "").split(",")]
    return bool(accept) and accept[0] == "text/event-stream"


def route_for(gw, resource: str, kinds: tuple[str, ...]) -> Route:
    route = gw.routes.by_resource.get(resource)
    if route is None or route.kind not in kinds:
        raise ApiError(404, f"no route serves '/api/v1/{resource}'", code="route_not_found")
    return route


def route_for_model(gw, kind: str, model: str) -> Route:
    """The route an OpenAI `model` name selects among routes of `kind`, or 404 listing the names."""
    route = gw.routes.for_model(kind, model)
    if route is None:
        names = sorted({a for r in gw.routes.routes if r.kind == kind for a in [r.name, *r.aliases]})
        raise ApiError(404, f"model '{model}' not found; available: {', '.join(names) or 'none'}",
                       code="model_not_found")
    return route


def require_scope(principal: Principal, route: Route) -> None:
    if not any(principal.allows(s) for s in route.scopes):
        raise ApiError(403, f"this API key lacks the scope '{route.scopes[0]}'", code="insufficient_scope")


def render(output: Output) -> Response:
    if isinstance(output.content, str):
        return Response(output.content, media_type=output.media_type)
    return Response(orjson.dumps(output.content), media_type="application/json")


async def sniff_upload(file: UploadFile, allowed: set[str], what: str) -> str:
    head = await file.read(4096)
    await file.seek(0)
    return check_type(head, allowed, what)


async def dispatch(request: Request, gw, principal: Principal, route: Route, spec: dict,
                   file: UploadFile | None, run_async: bool, stream: bool = False) -> Response:
    """Run an operation now (whole, or as server-sent events when `stream`), or queue it as a
    job and answer 202."""
    require_scope(principal, route)
    rid = request_id_var.get()
    if stream:
        if run_async:
            raise ApiError(400, "stream=true and async cannot be combined", code="stream_and_async")
        from . import sse

        sse.check_stream_format(spec["op"], spec.get("format", "json"))
        return await sse.respond(gw, spec, await file.read(), rid, openai=spec["op"] != "transcription")
    if run_async:
        job = await gw.jobs.submit(principal, route, spec, file.file if file else None,
                                   file.filename if file else None, rid)
        return JSONResponse(JobAccepted(job=JobOut.of(job)).model_dump(), status_code=202,
                            headers={"Location": f"/api/v1/jobs/{job.id}", "Preference-Applied": "respond-async"})
    data = await file.read() if file is not None else None
    return render(await execute(gw, spec, data, rid))
