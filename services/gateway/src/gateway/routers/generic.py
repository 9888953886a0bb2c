"""`POST /api/v1/<resource>` for route kinds document-qa, translation and custom: the JSON body
goes upstream as one v1 instance, so a new service is a route entry, not code.

This is the gateway's hot path for small requests, so it reads the body itself (orjson) instead
of going through FastAPI's per-parameter validation; the OpenAPI entry is declared explicitly.
"""

from __future__ import annotations

import re

import orjson
from fastapi import APIRouter, Request

from ..deps import principal_of
from ..dispatch import dispatch, wants_async
from ..errors import ApiError
from ..operations import Generic
from ..routetable import GENERIC_KINDS
from ..schemas import JobAccepted, error_responses
from . import translations

router = APIRouter(tags=["routes"])

_RESOURCE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_OPENAPI = {
    "security": [{"HTTPBearer": []}, {"APIKeyHeader": []}],
    "parameters": [
        {"name": "resource", "in": "path", "required": True,
         "schema": {"type": "string", "pattern": _RESOURCE.pattern, "maxLength": 63}},
        {"name": "async", "in": "query", "required": False, "schema": {"type": "boolean", "default": False},
         "description": "run as a job (202)"},
        {"name": "prefer", "in": "header", "required": False, "schema": {"type": "string"},
         "description": "`respond-async` runs it as a job"},
    ],
    "requestBody": {
        "required": True,
        "description": "one v1 instance for the route's model",
        "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
    },
}


@router.post("/api/v1/{resource}", openapi_extra=_OPENAPI,
             responses={200: {"description": "the route's prediction as its service answered it",
                              "content": {"application/json": {"schema": {
                                  "description": "any JSON: a custom service's own shape; a translation "
                                                 "route answers a TranslationResult"}}}},
                        202: {"model": JobAccepted},
                        **error_responses(400, 401, 403, 404, 413, 422, 429, 502, 503, 504)})
async def call_route(request: Request):
    """Forward the body to the route's upstream `/v1/models/<model>:predict`; returns its prediction."""
    gw = request.app.state.gw  # read directly, not through Depends: the hot path
    runner = gw.runner
    principal = principal_of(request)
    resource = request.path_params["resource"]
    if not _RESOURCE.match(resource):
        raise ApiError(404, f"no route serves '/api/v1/{resource[:80]}'", code="route_not_found")
    route = runner.route_for(resource, GENERIC_KINDS)
    if route.kind == "translation":  # JSON text or a multipart document (routers/translations.py)
        return await translations.handle(request, runner, gw.jobs, route)
    ctype = request.headers.get("content-type", "")
    if ctype and not ctype.lower().startswith("application/json") and "+json" not in ctype.lower():
        raise ApiError(415, "send the body as application/json", code="unsupported_media_type")
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise ApiError(422, f"body: invalid JSON ({exc.msg})", code="validation_error") from None
    if not isinstance(body, dict):
        raise ApiError(422, "body: must be a JSON object (one v1 instance)", code="validation_error")
    flag = request.query_params.get("async", "false").lower()
    if flag not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise ApiError(422, "async: must be a boolean", code="validation_error")
    run_async = wants_async(request, flag in ("true", "1", "yes", "on"))
    return await dispatch(runner, gw.jobs, principal, route, Generic(route=route.name, body=body), None, run_async)
