"""The `document-qa` KServe model: one operation per v1 request (ingest, list, get, delete, ask,
embed), run in a bounded thread pool off the event loop."""

from __future__ import annotations

from typing import Any

import kserve

from kit.logging import get_logger
from kit_kserve.concurrency import BoundedExecutor
from kit_kserve.errors import InvalidInput, ModelNotReady
from kit_kserve.metrics import INFERENCE_ERRORS, INFERENCE_IN_FLIGHT, observe

from .engine import Engine
from .schemas import parse_instance
from .settings import Settings

logger = get_logger(__name__)


class DocumentQAModel(kserve.Model):
    """Documents, questions and embeddings behind KServe's v1 predict."""

    def __init__(self, settings: Settings):
        super().__init__(settings.model_name)
        self.settings = settings
        self.engine: Engine | None = None
        self.executor = BoundedExecutor(settings.max_concurrency, settings.max_queue, name="docqa")

    def load(self) -> bool:
        self.engine = Engine(self.settings)
        logger.info("model ready (%s answers)", self.engine.mode)
        self.ready = True
        return self.ready

    def _work(self, op) -> dict:
        with INFERENCE_IN_FLIGHT.labels(self.name).track_inprogress():
            with observe(self.name, op.op):
                return self.engine.run(op)

    async def predict(self, payload, headers=None, response_headers=None) -> dict[str, Any]:
        if self.engine is None:
            raise ModelNotReady(self.name)
        if isinstance(payload, kserve.InferRequest):
            raise InvalidInput("document-qa speaks v1 JSON: POST /v1/models/document-qa:predict",
                               code="unsupported_protocol")
        try:
            op = parse_instance(payload)
            result = await self.executor.run(self._work, op)
        except Exception as exc:
            INFERENCE_ERRORS.labels(self.name, getattr(exc, "code", "internal")).inc()
            raise
        # ingest answers {"predictions": [{"document": ...}]}; the others their object as it is
        return {"predictions": [result]} if op.op == "ingest" else result
