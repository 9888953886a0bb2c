"""`POST /api/v1/translations` (text as JSON, or a document upload -> translated file) and
`GET /api/v1/translations/languages`; `GET /api/v1/translations/jobs/{id}/file` downloads the
file a document job translated. Every route of kind `translation` gets the same at
`/api/v1/<resource>` (the generic router hands its POSTs to `handle`)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from kit.logging import request_id_var
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from .. import translations
from ..auth import require_scope
from ..deps import Auth, Jobs, Runner, principal_of
from ..dispatch import dispatch, wants_async
from ..downloads import attachment
from ..errors import ApiError
from ..jobs import JobManager
from ..operations import Translation, TranslationDocument, TranslationDocumentOptions, load_operation
from ..runner import OperationRunner
from ..schemas import JobAccepted, error_responses
from ..translation_schemas import (DocumentTranslationResult, TranslationDocumentForm, TranslationLanguages,
                                   TranslationRequest, TranslationResult)

router = APIRouter(tags=["translations"])

RESOURCE = "translations"
KINDS = ("translation",)
_FORM_SCHEMA = {
    "type": "object",
    "required": ["file", "target"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": ".txt, .md, .docx or .html"},
        "target": {"type": "string", "examples": ["de"]},
        "source": {"type": "string", "default": "auto"},
        "glossary": {"type": "string", "description": "JSON: {\"term\": \"translation\"} or [\"term\", ...]"},
        "format": {"type": "string", "enum": ["file", "json"], "default": "file"},
    },
}
_OPENAPI = {
    "parameters": [
        {"name": "async", "in": "query", "required": False, "schema": {"type": "boolean", "default": False},
         "description": "run as a job (202); for large documents"},
        {"name": "prefer", "in": "header", "required": False, "schema": {"type": "string"},
         "description": "`respond-async` runs it as a job"},
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/TranslationRequest"}},
            "multipart/form-data": {"schema": _FORM_SCHEMA},
        },
    },
}
_DOC_RESPONSE = {"description": "the translated file (multipart upload, format=file)",
                 "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}


def _fields(exc: ValidationError) -> str:
    return ", ".join(sorted({".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()}))[:300]


def _async_flag(request: Request) -> bool:
    flag = request.query_params.get("async", "false").lower()
    if flag not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise ApiError(422, "async: must be a boolean", code="validation_error")
    return wants_async(request, flag in ("true", "1", "yes", "on"))


@router.post("/api/v1/translations", openapi_extra=_OPENAPI,
             response_model=TranslationResult | DocumentTranslationResult,
             responses={200: {"content": {
                 "application/octet-stream": _DOC_RESPONSE["content"]["application/octet-stream"]}},
                        202: {"model": JobAccepted},
                        **error_responses(400, 401, 403, 404, 413, 415, 422, 429, 502, 503, 504)})
async def create_translation(request: Request, runner: Runner, jobs: Jobs):
    """Translate a text (`application/json`) or a document (`multipart/form-data` with `file`)."""
    return await handle(request, runner, jobs, runner.route_for(RESOURCE, KINDS))


async def handle(request: Request, runner: OperationRunner, jobs: JobManager, route) -> Response:
    """A translation route's POST: JSON text, or a multipart document; now or as a job."""
    principal = principal_of(request)
    run_async = _async_flag(request)
    ctype = request.headers.get("content-type", "").lower()
    if ctype.startswith("multipart/form-data"):
        return await _document(request, runner, jobs, principal, route, run_async)
    if ctype and not ctype.startswith("application/json") and "+json" not in ctype:
        raise ApiError(415, "send JSON (text) or multipart/form-data (a document)", code="unsupported_media_type")
    try:
        body = TranslationRequest.model_validate(orjson.loads(await request.body()))
    except orjson.JSONDecodeError as exc:
        raise ApiError(422, f"body: invalid JSON ({exc.msg})", code="validation_error") from None
    except ValidationError as exc:
        raise ApiError(422, f"invalid request: {_fields(exc)}", code="validation_error") from None
    op = Translation(route=route.name, body=body.model_dump(exclude_none=True))
    return await dispatch(runner, jobs, principal, route, op, None, run_async)


async def _document(request: Request, runner: OperationRunner, jobs: JobManager, principal, route,
                    run_async: bool) -> Response:
    require_scope(principal, route)
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, "file: a document is required (.txt, .md, .docx or .html)", code="validation_error")
        try:
            fields = TranslationDocumentForm.model_validate(
                {k: v for k, v in form.items() if k != "file" and isinstance(v, str)})
        except ValidationError as exc:
            raise ApiError(422, f"invalid form: {_fields(exc)}", code="validation_error") from None
        name = (upload.filename or "").lower()
        if not name.endswith(translations.DOCUMENT_EXTENSIONS):
            raise ApiError(415, "the file must be .txt, .md, .docx or .html", code="unsupported_media_type")
        head = await upload.read(1)
        await upload.seek(0)
        if not head:
            raise ApiError(400, "the uploaded file is empty", code="empty_file")
        options = TranslationDocumentOptions(source=fields.source, target=fields.target,
                                             glossary=fields.glossary_value(), filename=upload.filename)
        op = TranslationDocument(route=route.name, options=options, format=fields.format)
        if run_async:
            return await dispatch(runner, jobs, principal, route, op, upload, True)
        data = await upload.read()
    finally:
        await form.close()
    output = await runner.execute(op, data, request_id_var.get())
    if fields.format == "json":
        return JSONResponse(output.content)
    content, media_type, filename = translations.document_bytes(output.content)
    return Response(content, media_type=media_type,
                    headers={**attachment(filename),
                             "X-Translation-Source": str(output.content.get("source", "")),
                             "X-Translation-Target": str(output.content.get("target", ""))})


Resource = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


@router.get("/api/v1/{resource}/languages", response_model=TranslationLanguages,
            responses=error_responses(401, 403, 404, 422, 429, 502, 503, 504))
async def get_languages(request: Request, runner: Runner, principal: Auth, resource: Resource) -> dict:
    """The languages and pairs a translation route's service serves, and whether it is ready
    (`ready: false` with `message` saying how to configure a model)."""
    route = runner.route_for(resource, KINDS)
    require_scope(principal, route)
    return await translations.languages(runner.upstream(route), request_id_var.get())


@router.get("/api/v1/{resource}/jobs/{job_id}/file", response_class=Response,
            responses={200: _DOC_RESPONSE, **error_responses(401, 404, 409, 422, 429, 502)})
async def get_job_file(runner: Runner, jobs: Jobs, principal: Auth, resource: Resource,
                       job_id: Annotated[str, Path(min_length=1, max_length=64)]):
    """The translated file of a finished document translation job of this route."""
    route = runner.route_for(resource, KINDS)
    job = await jobs.get(job_id, principal.key_id)
    if not isinstance(load_operation(job.request), TranslationDocument) or job.route != route.name:
        raise ApiError(404, "this job did not translate a document", code="not_a_document_job")
    if job.state == "failed":
        raise ApiError(409, f"job failed: {job.error_message}", code=job.error_code or "job_failed")
    if job.state != "succeeded":
        raise ApiError(409, f"job is {job.state}; no file yet", code="job_not_finished")
    content, media_type, filename = translations.document_bytes(job.result)
    return Response(content, media_type=media_type,
                    headers=attachment(filename))
