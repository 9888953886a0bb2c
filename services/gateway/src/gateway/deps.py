"""`Annotated` FastAPI dependencies shared by the routers: the parts of the gateway's state a
handler needs, and the caller's key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from .auth import Principal
from .errors import ApiError
from .jobs import JobManager
from .middleware import PRINCIPAL_KEY
from .pages import PageImages
from .runner import OperationRunner
from .settings import Settings
from .state import Gateway

_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key header")


def get_gw(request: Request) -> Gateway:
    return request.app.state.gw


def get_runner(request: Request) -> OperationRunner:
    return request.app.state.gw.runner


def get_jobs(request: Request) -> JobManager:
    return request.app.state.gw.jobs


def get_pages(request: Request) -> PageImages:
    return request.app.state.gw.pages


def get_settings(request: Request) -> Settings:
    return request.app.state.gw.settings


GW = Annotated[Gateway, Depends(get_gw)]
Runner = Annotated[OperationRunner, Depends(get_runner)]
Jobs = Annotated[JobManager, Depends(get_jobs)]
Pages = Annotated[PageImages, Depends(get_pages)]
AppSettings = Annotated[Settings, Depends(get_settings)]


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
