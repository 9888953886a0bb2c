"""OpenAI-compatible `POST /v1/embeddings`, served by the document-qa route's embedding model:
OpenAI clients embed through the platform by changing the base URL to `<gateway>/v1`."""

from __future__ import annotations

import base64
import struct

from fastapi import APIRouter
from kit.logging import request_id_var

from ..auth import require_scope
from ..deps import Auth, Runner
from ..docqa import call
from ..docqa_schemas import EmbeddingItem, EmbeddingsIn, EmbeddingsOut, EmbeddingUsage, UpstreamEmbeddings
from ..errors import ApiError
from ..schemas import error_responses

router = APIRouter(tags=["openai"])


def encode(vector: list[float], fmt: str) -> list[float] | str:
    """OpenAI's base64 format: the little-endian float32 bytes of the vector."""
    if fmt == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


@router.post("/v1/embeddings", response_model=EmbeddingsOut,
             responses=error_responses(400, 401, 403, 404, 413, 422, 429, 502, 503, 504))
async def create_embeddings(runner: Runner, principal: Auth, body: EmbeddingsIn) -> EmbeddingsOut:
    """OpenAI `embeddings.create`: one vector per input text, in input order."""
    route = runner.route_for_model("document-qa", body.model)
    require_scope(principal, route)
    if body.dimensions is not None:
        raise ApiError(400, "dimensions: this model's vectors have a fixed size; leave it out",
                       code="unsupported_parameter")
    texts = [body.input] if isinstance(body.input, str) else body.input
    out = await call(runner.upstream(route), {"op": "embed", "input": texts}, UpstreamEmbeddings,
                     request_id_var.get())
    if len(out.embeddings) != len(texts):
        raise ApiError(502, f"upstream '{route.name}' returned {len(out.embeddings)} vectors for {len(texts)} texts",
                       code="bad_upstream_response")
    data = [EmbeddingItem(index=i, embedding=encode(v, body.encoding_format)) for i, v in enumerate(out.embeddings)]
    return EmbeddingsOut(data=data, model=out.model, usage=EmbeddingUsage(prompt_tokens=out.tokens,
                                                                          total_tokens=out.tokens))
