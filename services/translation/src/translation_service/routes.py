"""`GET /v1/models/<name>/languages`: readiness details and the languages and pairs served.

The gateway's `GET /api/v1/translations/languages` and the UI's language picker read it; when
no model is configured it answers 200 with `ready: false` and the message saying how to set one.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from kserve import model_server


def install_routes(model, app=None) -> None:
    app = app or model_server.app

    @app.get(f"/v1/models/{model.name}/languages", include_in_schema=False)
    async def languages() -> JSONResponse:
        return JSONResponse(model.status())
