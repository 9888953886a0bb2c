"""The service's own HTTP additions to KServe's app.

- `GET /v1/models/<name>/languages`: readiness details and the languages and pairs served (the
  gateway's `GET /api/v1/translations/languages` and the UI's language picker read it); without a
  model it answers 200 with `ready: false` and the message saying how to configure one.
- Predictions while no model is loaded answer 503 `model_not_configured` with that message
  (KServe's own check would answer a bare "not ready" before the model sees the request).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from kserve import model_server

from .backends import NOT_CONFIGURED


def install_routes(model, app=None) -> None:
    app = app or model_server.app
    infer_paths = (f"/v1/models/{model.name}:predict", f"/v2/models/{model.name}/infer")

    @app.get(f"/v1/models/{model.name}/languages", include_in_schema=False)
    async def languages() -> JSONResponse:
        return JSONResponse(model.status())

    @app.middleware("http")
    async def not_configured(request: Request, call_next):
        if model.translator is None and request.method == "POST" and request.url.path in infer_paths:
            message = f"Model with name {model.name} is not ready. {model.message or NOT_CONFIGURED}"
            return JSONResponse({"error": message, "code": "model_not_configured"}, status_code=503,
                                headers={"Retry-After": "30"})
        return await call_next(request)
