"""One error shape for every failure: `{"error": {"code", "message"}}` with the right status."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("gateway.errors")

_DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    501: "not_implemented",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "upstream_timeout",
}


class ApiError(Exception):
    """Raise anywhere in a request; the handler turns it into the JSON error body."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _DEFAULT_CODES.get(status, "error")
        self.retry_after = retry_after
        self.headers = dict(headers or {})

    def body(self) -> dict:
        return error_body(self.code, self.message)

    def response(self) -> JSONResponse:
        return error_response(self.status, self.code, self.message, self.retry_after, self.headers)


def error_body(code: str, message: str) -> dict:
    """The error document every failure carries: HTTP bodies, WebSocket and SSE error messages."""
    return {"error": {"code": code, "message": message}}


def error_response(
    status: int,
    code: str,
    message: str,
    retry_after: float | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The one writer of HTTP error answers: handlers return it, ASGI middleware sends it
    (`await error_response(...)(scope, receive, send)`)."""
    hdrs = dict(headers or {})
    if retry_after is not None:
        hdrs["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return JSONResponse(error_body(code, message), status_code=status, headers=hdrs)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "header"))
        parts.append(f"{loc or 'request'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return error_response(422, "validation_error", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = _DEFAULT_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 400 and "parsing the body" in message:
            code, message = "invalid_body", "the request body could not be parsed"
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error; see the gateway log")
