"""Start a KServe ModelServer with the platform's logging, errors and request ids."""

from __future__ import annotations

import kserve
from kserve import model_server

from .errors import install_error_handlers
from .logging import RequestIdMiddleware, configure_logging, get_logger
from .settings import ServiceSettings

logger = get_logger(__name__)


def prepare_app(app=None):
    """Install the error handlers and request-id middleware on KServe's FastAPI app."""
    app = app or model_server.app
    if not getattr(app.state, "aip_prepared", False):
        install_error_handlers(app)
        app.add_middleware(RequestIdMiddleware)
        app.state.aip_prepared = True
    return app


def serve(model: kserve.Model, settings: ServiceSettings, service_name: str | None = None) -> None:
    """Serve a loaded model over REST (and gRPC) until SIGINT/SIGTERM."""
    name = service_name or model.name
    server = kserve.ModelServer(
        http_port=settings.port,
        grpc_port=settings.effective_grpc_port,
        enable_grpc=settings.enable_grpc,
        workers=1,
    )
    # KServe configures its own logging in the constructor; ours replaces it.
    configure_logging(name, settings.log_level)
    prepare_app()
    logger.info(
        "serving model %s on http :%d grpc :%s",
        model.name,
        settings.port,
        settings.effective_grpc_port if settings.enable_grpc else "off",
    )
    server.start([model])
