"""Start a KServe ModelServer with the platform's logging, errors, request ids and limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import kserve
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from kserve import model_server
from kserve.protocol.rest import server as rest_server

from kit import gpu
from kit.logging import RequestIdMiddleware, configure_logging, get_logger

from .cancellation import DisconnectWatchMiddleware
from .errors import install_error_handlers, install_final_handlers
from .limits import HeaderTimeoutProtocol, RequestLimitsMiddleware
from .metrics import export_gpu_budget
from .settings import ServiceSettings
from .v2rest import install_v2_infer_route

logger = get_logger(__name__)


async def device_details() -> JSONResponse:
    """`GET /device`: the start-up GPU check's decision (device, requested, budget, warnings)."""
    found = gpu.current()
    if found is None:
        return JSONResponse({"device": None, "verdict": None, "warnings": [], "notes": ["no start-up check ran"]})
    return JSONResponse(found)


def prepare_app(app=None, settings: ServiceSettings | None = None, dataplane=None,
                routers: Sequence[APIRouter] = ()):
    """Install on KServe's FastAPI app: error handlers, the v2 infer route (when `dataplane` is
    given), `GET /device` (the start-up GPU check's decision), the service's own `routers`, and
    the middlewares (outermost first): request id, body size/time limits, disconnect watch."""
    app = app or model_server.app
    if not getattr(app.state, "aip_prepared", False):
        install_error_handlers(app)
        app.add_api_route("/device", device_details, methods=["GET"], tags=["health"])
        if dataplane is not None:
            install_v2_infer_route(app, dataplane)
        for router in routers:
            app.include_router(router)
        app.add_middleware(DisconnectWatchMiddleware)
        if settings is not None:
            app.add_middleware(RequestLimitsMiddleware, max_body_bytes=settings.max_request_bytes,
                               body_timeout_s=settings.body_timeout_s)
        app.add_middleware(RequestIdMiddleware)
        app.state.aip_prepared = True
    return app


def _rest_server_class(settings: ServiceSettings):
    """KServe's RESTServer with a header-read timeout on uvicorn's protocol, and our final
    error handlers installed after KServe's own (which echo exception messages)."""

    class RESTServer(rest_server.RESTServer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.config.http = HeaderTimeoutProtocol.with_timeout(settings.header_timeout_s)

        def create_application(self):
            super().create_application()
            install_final_handlers(model_server.app)

    return RESTServer


def serve(model: kserve.Model, settings: ServiceSettings, service_name: str | None = None,
          routers: Sequence[APIRouter] = ()) -> None:
    """Serve a loaded model over REST (and gRPC) until SIGINT/SIGTERM; `routers` (the
    service's own routes, e.g. a stream or a WebSocket) are included on KServe's app."""
    name = service_name or model.name
    model_server.RESTServer = _rest_server_class(settings)
    # gRPC messages are bounded like REST bodies (KServe reads these from its parsed args)
    model_server.args.grpc_max_receive_message_length = settings.max_request_bytes
    server = kserve.ModelServer(
        http_port=settings.port,
        grpc_port=settings.effective_grpc_port,
        enable_grpc=settings.enable_grpc,
        workers=1,
    )
    # KServe configures its own logging in the constructor; ours replaces it.
    configure_logging(name, settings.log_level)
    prepare_app(settings=settings, dataplane=server.dataplane, routers=routers)
    export_gpu_budget(model.name, settings.max_memory_gb)
    logger.info(
        "serving model %s on http :%d grpc :%s (max request %.0f MB, header %.0f s, body %.0f s)",
        model.name,
        settings.port,
        settings.effective_grpc_port if settings.enable_grpc else "off",
        settings.max_request_mb,
        settings.header_timeout_s,
        settings.body_timeout_s,
    )
    server.start([model])


def run(service_name: str, settings: ServiceSettings, make_model: Callable[[ServiceSettings], kserve.Model],
        routers: Callable[[kserve.Model], Sequence[APIRouter] | None] | None = None) -> None:
    """A model service's `python -m` entry point: JSON logging, the model built and loaded (a
    failed start-up GPU check exits 78 with its reason), then `serve` with the routers that
    `routers(model)` returns (the service's own routes)."""
    configure_logging(service_name, settings.log_level)
    model = make_model(settings)
    try:
        model.load()
    except gpu.GPUCheckFailed as exc:  # the device asked for cannot be served: say why, exit 78
        gpu.exit_on_failed_check(exc)
    serve(model, settings, service_name=service_name, routers=(routers(model) if routers else None) or ())
