"""A formatted result (`Output`) and the HTTP response that carries it."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from fastapi.responses import Response


@dataclass
class Output:
    """A formatted result: JSON (dict/list) or text with its media type."""

    content: dict | list | str
    media_type: str = "application/json"


def render(output: Output, headers: dict[str, str] | None = None) -> Response:
    """The response for an operation's output: text as it is, JSON serialised with orjson."""
    if isinstance(output.content, str):
        return Response(output.content, media_type=output.media_type, headers=headers)
    return Response(orjson.dumps(output.content), media_type="application/json", headers=headers)
