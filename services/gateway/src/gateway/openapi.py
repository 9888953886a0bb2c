"""The gateway's OpenAPI document, the whole contract of its HTTP API.

FastAPI documents JSON bodies from each route's `response_model`; this adds what travels in
other shapes (the `data:` of server-sent events, the WebSocket's messages) as component
schemas, and the helpers routes use to declare their non-JSON answers. The web UI's types are
generated from this document (`make api-types`); tests/contracts/gateway-openapi.json is the
committed copy.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"
_STREAMED: dict[str, type[BaseModel]] = {}  # the models event_stream documented, for install


def text_content(*media_types: str) -> dict[str, Any]:
    """`content` entries for text answers (CSV, SRT, VTT, plain text)."""
    return {m: {"schema": {"type": "string"}} for m in media_types}


def event_stream(model: type[BaseModel] | None = None, example: str | None = None) -> dict[str, Any]:
    """A `text/event-stream` content entry; `model` is the schema of each event's `data:`."""
    schema: dict[str, Any] = {"type": "string"}
    if model is not None:
        _STREAMED[model.__name__] = model
        schema["contentMediaType"] = "text/event-stream"
        schema["contentSchema"] = {"$ref": REF.format(model=model.__name__)}
    entry: dict[str, Any] = {"schema": schema}
    if example:
        entry["example"] = example
    return {"text/event-stream": entry}


def install(app: FastAPI, extra_models: tuple[type[BaseModel], ...]) -> None:
    """Make `app.openapi()` also carry `extra_models` (models no JSON body references) and the
    models of the event streams routes declared with `event_stream`."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = base()
            models = [*extra_models, *(m for _, m in sorted(_STREAMED.items()))]
            _, defs = models_json_schema([(m, "serialization") for m in models], ref_template=REF)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in sorted(defs.get("$defs", {}).items()):
                schemas.setdefault(name, schema)
            doc["components"]["schemas"] = dict(sorted(schemas.items()))
        return app.openapi_schema

    app.openapi = openapi


def dump(app: FastAPI) -> str:
    """The document as committed: two-space indent, a final newline."""
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"
