"""The FastAPI application: middleware stack and routers around one `Gateway` state."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from kit.logging import RequestIdMiddleware
from swagger_ui_bundle import swagger_ui_path

from . import __version__, openapi
from .errors import install_error_handlers
from .metrics import MetricsMiddleware
from .middleware import AuthMiddleware, RequestIdGuard
from .result_schemas import LiveMessage
from .translation_schemas import TranslationRequest
from .settings import Settings, get_settings
from .state import Gateway
from .uploads import UploadLimitMiddleware


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    gw = Gateway(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await gw.startup()
        try:
            yield
        finally:
            await gw.shutdown()

    app = FastAPI(
        title="ai-platform gateway",
        version=__version__,
        description="The product API in front of every ai-platform service. "
        "Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
        lifespan=lifespan,
        docs_url=None,  # served below from the pinned swagger-ui-bundle, so /docs works offline
        redoc_url=None,
    )
    app.state.gw = gw
    install_error_handlers(app)

    from .routers import (documents, generic, jobs, live, meta, openai_audio, openai_embeddings, questions,
                          statements, transcriptions, translations)

    app.include_router(transcriptions.router)
    app.include_router(live.router)
    app.include_router(statements.router)
    app.include_router(translations.router)
    app.include_router(documents.router)
    app.include_router(questions.router)
    # after the fixed POST /api/v1/<resource> routes it would shadow, before the rest (hot path)
    app.include_router(generic.router)
    app.include_router(openai_audio.router)
    app.include_router(openai_embeddings.router)
    app.include_router(jobs.router)
    app.include_router(meta.router)
    _mount_docs(app)
    # the live WebSocket's messages and the JSON body translations read themselves (routers/translations.py)
    openapi.install(app, extra_models=(LiveMessage, TranslationRequest))

    # innermost first: upload limits, auth (before any body is read), metrics, request id
    app.add_middleware(UploadLimitMiddleware, limit_for_path=gw.upload_limit)
    app.add_middleware(AuthMiddleware, gw=gw)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(RequestIdGuard)
    return app


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI at /docs with its assets from the wheel, not a CDN (laptops may be offline)."""
    app.mount(DOCS_STATIC, StaticFiles(directory=swagger_ui_path), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} - API docs",
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon-32x32.png",
        )


DOCS_STATIC = "/docs/static"
