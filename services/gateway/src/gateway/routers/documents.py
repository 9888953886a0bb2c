"""`/api/v1/documents`: upload, list, read and delete the caller's documents for question answering.

Every call names the caller's key id as the owner, so one key never sees another's documents.
Uploads larger than `GATEWAY_DOCQA_ASYNC_OVER_MB` (or with `?async=true` / `Prefer:
respond-async`) become jobs; the job's result is the same `{"document": ...}`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Header, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from kit.logging import request_id_var

from ..auth import Principal, require_scope
from ..deps import AppSettings, Auth, Jobs, Runner
from ..dispatch import dispatch, wants_async
from ..docqa import call, sniff_document
from ..docqa_schemas import DOCUMENT_ID, DeletedOut, DocumentList, DocumentOut
from ..jobs import clean_filename
from ..operations import DocqaIngest
from ..routetable import Route
from ..runner import OperationRunner
from ..schemas import JobAccepted, error_responses

router = APIRouter(tags=["documents"])

DocId = Annotated[str, Path(pattern=DOCUMENT_ID, description="a document id from the upload or the list")]
MB = 1024 * 1024


def docqa_route(runner: OperationRunner, principal: Principal) -> Route:
    """The document-qa route, after checking the key's scope for it."""
    route = runner.docqa_route()
    require_scope(principal, route)
    return route


@router.post("/api/v1/documents", status_code=201, response_model=DocumentOut,
             responses={202: {"model": JobAccepted},
                        **error_responses(400, 401, 403, 404, 413, 415, 422, 429, 502, 503, 504)})
async def upload_document(
    request: Request,
    runner: Runner,
    jobs: Jobs,
    settings: AppSettings,
    principal: Auth,
    file: Annotated[UploadFile, File(description="PDF, DOCX, HTML, Markdown or plain text")],
    async_: Annotated[bool, Query(alias="async", description="ingest as a job (202)")] = False,
    prefer: Annotated[str | None, Header(description="`respond-async` ingests it as a job")] = None,
):
    """Add a document to the caller's collection (text layer, OCR for scanned pages, chunks, embeddings)."""
    route = docqa_route(runner, principal)
    head = await file.read(4096)
    await file.seek(0)
    content_type = sniff_document(head, file.filename)
    op = DocqaIngest(route=route.name, owner=principal.key_id, filename=clean_filename(file.filename) or "document",
                     content_type=content_type)
    large = (file.size or 0) > settings.docqa_async_over_mb * MB
    if wants_async(request, async_) or large:
        return await dispatch(runner, jobs, principal, route, op, file, True)
    output = await runner.execute(op, await file.read(), request_id_var.get())
    doc_id = output.content["document"]["id"]
    return JSONResponse(output.content, status_code=201, headers={"Location": f"/api/v1/documents/{doc_id}"})


@router.get("/api/v1/documents", response_model=DocumentList,
            responses=error_responses(401, 403, 404, 429, 502, 503, 504))
async def list_documents(runner: Runner, principal: Auth) -> DocumentList:
    """The caller's documents, newest first as the service keeps them."""
    route = docqa_route(runner, principal)
    return await call(runner.upstream(route), {"op": "list", "owner": principal.key_id}, DocumentList,
                      request_id_var.get())


@router.get("/api/v1/documents/{document_id}", response_model=DocumentOut,
            responses=error_responses(401, 403, 404, 422, 429, 502, 503, 504))
async def get_document(runner: Runner, principal: Auth, document_id: DocId) -> DocumentOut:
    """One of the caller's documents (404 for an unknown id or another key's document)."""
    route = docqa_route(runner, principal)
    return await call(runner.upstream(route), {"op": "get", "owner": principal.key_id, "document_id": document_id},
                      DocumentOut, request_id_var.get())


@router.delete("/api/v1/documents/{document_id}", status_code=204, response_class=Response,
               responses=error_responses(401, 403, 404, 422, 429, 502, 503, 504))
async def delete_document(runner: Runner, principal: Auth, document_id: DocId) -> Response:
    """Delete one of the caller's documents from every index."""
    route = docqa_route(runner, principal)
    await call(runner.upstream(route), {"op": "delete", "owner": principal.key_id, "document_id": document_id},
               DeletedOut, request_id_var.get())
    return Response(status_code=204)
