"""`POST /api/v1/statements`: a bank statement (PDF or image) in, transactions out."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, Query, Request, UploadFile

from ..deps import Auth, Jobs, Runner
from ..dispatch import dispatch, wants_async
from ..openapi import text_content
from ..operations import Statement, StatementOptions
from ..result_schemas import StatementResult
from ..schemas import JobAccepted, error_responses
from ..uploads import DOCUMENT_TYPES, sniff_upload

router = APIRouter(tags=["statements"])


@router.post("/api/v1/statements", response_model=StatementResult,
             responses={200: {"content": text_content("text/csv"),
                              "description": "the statement (JSON), or its transactions as CSV (format=csv)"},
                        202: {"model": JobAccepted},
                        **error_responses(400, 401, 403, 404, 413, 415, 422, 429, 502, 503, 504)})
async def create_statement(
    request: Request,
    runner: Runner,
    jobs: Jobs,
    principal: Auth,
    file: Annotated[UploadFile, File(description="PDF, PNG, JPEG or TIFF")],
    password: Annotated[str | None, Form(max_length=256)] = None,
    locale: Annotated[str | None, Form(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")] = None,
    date_order: Annotated[Literal["DMY", "MDY", "YMD"] | None, Form()] = None,
    format: Annotated[Literal["json", "csv"] | None, Form(description="json (default) or csv")] = None,
    format_query: Annotated[Literal["json", "csv"] | None,
                            Query(alias="format", description="same as the form field; the form field wins")] = None,
    async_: Annotated[bool, Query(alias="async", description="run as a job (202)")] = False,
    prefer: Annotated[str | None, Header(description="`respond-async` runs it as a job")] = None,
):
    """Extract the statement summary and its transactions; `format=csv` for a CSV file."""
    route = runner.route_for("statements", ("statement-extraction",))
    await sniff_upload(file, DOCUMENT_TYPES, "a PDF, PNG, JPEG or TIFF document")
    op = Statement(route=route.name, options=StatementOptions(password=password, locale=locale, date_order=date_order),
                   format=format or format_query or "json")
    return await dispatch(runner, jobs, principal, route, op, file, wants_async(request, async_))
