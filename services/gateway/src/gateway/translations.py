"""Translation operations: text (JSON) and documents (upload -> translated file), now or as jobs.

The translation route's upstream is the translation service (`/v1/models/<model>:predict` with
`text` or `document`); its languages come from `GET /v1/models/<model>/languages`. A service
without a model answers 503 `model_not_configured` with the message saying how to configure one.
"""

from __future__ import annotations

import base64
import binascii
from contextvars import ContextVar
from typing import Any, Awaitable, Callable

from .errors import ApiError
from .operations import Output

OPS = ("translation", "translation_document")
DOCUMENT_EXTENSIONS = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".docx")
# set by the job runner: report a fraction (0..1) and a message for the job's events
job_progress: ContextVar[Callable[[float, str], Awaitable[None]] | None] = ContextVar("job_progress", default=None)


def not_configured(exc: ApiError) -> ApiError:
    """The upstream's 'no model configured' as 503 with its message (the gateway's generic
    mapping makes configuration gaps 501; for translation the issue asks for 503 + message)."""
    if exc.code == "model_not_configured":
        return ApiError(503, exc.message, code="model_not_configured", retry_after=30)
    return exc


async def languages(gw, route, request_id: str | None) -> dict:
    """The service's readiness and languages, as `GET /api/v1/translations/languages` answers."""
    upstream = gw.upstreams.get(route)
    headers = {"x-request-id": request_id} if request_id else {}
    doc = await upstream.call("GET", f"{route.upstream}/v1/models/{route.model}/languages", b"", headers,
                              min(route.timeout_s, 10.0))
    if not isinstance(doc, dict):
        raise ApiError(502, f"upstream '{route.name}' returned an unexpected language list",
                       code="bad_upstream_response")
    return {
        "ready": bool(doc.get("ready")),
        "message": doc.get("message"),
        "auto_detect": bool(doc.get("auto_detect")),
        "languages": doc.get("languages") or [],
        "pairs": doc.get("pairs") or [],
    }


async def execute(gw, route, spec: dict, data: bytes | None, request_id: str | None) -> Output:
    """Run a translation spec: one upstream call; a document's result keeps the file as base64."""
    upstream = gw.upstreams.get(route)
    progress = job_progress.get()
    try:
        if spec["op"] == "translation":
            prediction = await upstream.infer_json(spec["body"], request_id)
        else:
            if progress:
                await progress(0.15, "document sent to the translation service")
            options = {k: v for k, v in spec.get("options", {}).items() if v is not None}
            prediction = await upstream.infer_upload("document", data or b"", options, request_id)
    except ApiError as exc:
        raise not_configured(exc) from None
    if not isinstance(prediction, dict):
        raise ApiError(502, f"upstream '{route.name}' returned an unexpected result", code="bad_upstream_response")
    if progress:
        await progress(0.9, "translated")
    return Output(prediction)


def document_bytes(result: Any) -> tuple[bytes, str, str]:
    """(file bytes, media type, file name) of a document translation result."""
    try:
        data = base64.b64decode(result["document"]["b64"], validate=True)
        return data, str(result["media_type"]), str(result["filename"])
    except (KeyError, TypeError, binascii.Error, ValueError):
        raise ApiError(502, "the translation service returned no document", code="bad_upstream_response") from None
