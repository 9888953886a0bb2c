"""Domain errors of the model services, mapped to HTTP in one place.

They subclass KServe's own errors so KServe's gRPC path maps them too (InvalidInput ->
INVALID_ARGUMENT); `install_error_handlers` gives each its HTTP status and an error body
`{"error": "<message>", "code": "<code>"}` in the Open Inference Protocol style.
"""

from __future__ import annotations

import traceback
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kserve import errors as kserve_errors

from kit.logging import get_logger

logger = get_logger(__name__)


class InvalidInput(kserve_errors.InvalidInput):
    """The request cannot be used as it is (400)."""

    status = HTTPStatus.BAD_REQUEST
    default_code = "invalid_input"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code or self.default_code


class UnprocessableInput(InvalidInput):
    """Well-formed input the model cannot process, e.g. a document without pages (422)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    default_code = "unprocessable_input"


class PayloadTooLarge(InvalidInput):
    """Input over a configured size, duration or page limit (413)."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


class UnsupportedMediaType(InvalidInput):
    """Bytes of a type the service does not take (415)."""

    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    default_code = "unsupported_media_type"


class ModelNotReady(kserve_errors.ModelNotReady):
    """The model is not loaded, or a needed optional model is not configured (503)."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    default_code = "model_not_ready"

    def __init__(self, model_name: str, detail: str | None = None, code: str | None = None):
        super().__init__(model_name, detail)
        self.code = code or self.default_code


class Overloaded(ModelNotReady):
    """Too many requests waiting for the model (503, retry later)."""

    default_code = "overloaded"

    def __init__(self, message: str = "too many requests in flight; retry later", code=None):
        kserve_errors.ModelNotReady.__init__(self, "")
        self.error_msg = message
        self.code = code or self.default_code


SERVICE_ERRORS = (InvalidInput, ModelNotReady)


async def service_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Answer a domain error with its status and `{"error", "code"}` body."""
    status = int(getattr(exc, "status", HTTPStatus.INTERNAL_SERVER_ERROR))
    code = getattr(exc, "code", "error")
    logger.info("request failed: %s (%s)", code, status)
    headers = {"Retry-After": "1"} if status == HTTPStatus.SERVICE_UNAVAILABLE else None
    return JSONResponse(status_code=status, content={"error": str(exc), "code": code}, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the domain errors' handlers; KServe's own stay in place for the rest."""
    for cls in SERVICE_ERRORS:
        app.add_exception_handler(cls, service_error_handler)


def _frames(exc: BaseException) -> str:
    """Where an exception happened, without its message (which may quote request data)."""
    return "".join(traceback.format_tb(exc.__traceback__)[-8:])


async def internal_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """500 without the exception's text: messages of libraries may quote the request's bytes."""
    logger.error("internal error %s at\n%s", type(exc).__name__, _frames(exc))
    return JSONResponse(status_code=500, content={"error": "internal error", "code": "internal"})


async def kserve_invalid_input_handler(_request: Request, exc: Exception) -> JSONResponse:
    """KServe's own 400s (e.g. unparseable JSON), in the platform's error body."""
    message = str(exc)
    if len(message) > 300:  # never a quoted body
        message = message[:300] + "..."
    logger.info("request failed: invalid_input (400)")
    return JSONResponse(status_code=400, content={"error": message, "code": "invalid_input"})


async def validation_error_handler(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's request validation errors, naming fields but never echoing their values."""
    fields = sorted({".".join(str(p) for p in err.get("loc", ())) for err in exc.errors()})
    return JSONResponse(status_code=400, content={"error": f"invalid request: {', '.join(fields)[:300]}",
                                                  "code": "invalid_request"})


def install_final_handlers(app: FastAPI) -> None:
    """Registered after KServe's handlers (which put exception text, and so possibly request
    bytes, into responses and logs): unexpected errors become a plain 500."""
    app.add_exception_handler(Exception, internal_error_handler)
    app.add_exception_handler(kserve_errors.InferenceError, internal_error_handler)
    app.add_exception_handler(kserve_errors.InvalidInput, kserve_invalid_input_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    for cls in SERVICE_ERRORS:  # the domain errors stay first for their own classes
        app.add_exception_handler(cls, service_error_handler)
