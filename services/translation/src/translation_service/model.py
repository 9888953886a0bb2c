"""The `translation` KServe model: text and documents over v1 and v2 (REST and gRPC).

Without a model configured the service still starts: it is live, its model reports not ready,
predictions answer 503 `model_not_configured` with how to configure one, and
`GET /v1/models/translation/languages` says the same.
"""

from __future__ import annotations

import base64
from typing import Any

import kserve

from kit import gpu
from kit.logging import get_logger
from kit_kserve.concurrency import BoundedExecutor, cpu_threads
from kit_kserve.errors import InvalidInput, ModelNotReady
from kit_kserve.metrics import INFERENCE_ERRORS, INFERENCE_IN_FLIGHT, observe
from kit_kserve.payload import make_response

from . import detect, documents
from .backends import NOT_CONFIGURED, ModelConfigError, load_engine, model_dirs
from .request import Item, parse_items
from .settings import Settings
from .translator import Translator

logger = get_logger(__name__)


class TranslationModel(kserve.Model):
    """One or more seq2seq models behind KServe; inference runs in a bounded thread pool."""

    def __init__(self, settings: Settings):
        super().__init__(settings.model_name)
        self.settings = settings
        self.translator: Translator | None = None
        self.message: str | None = None
        self._tried = False
        # KServe registers (serves) only models whose `ready` is set, so it always is; readiness
        # as probes and /v2/models/translation/ready see it is `healthy()`: a model is loaded
        self.ready = True
        self.executor = BoundedExecutor(settings.max_concurrency, settings.max_queue, name="translate")

    def load(self) -> bool:
        """Load the configured models; none configured (or a bad path) leaves the model not ready
        with a message, never a crash. KServe calls this again before each request while not ready."""
        if self._tried:
            return self.translator is not None
        self._tried = True
        s = self.settings
        try:
            dirs = model_dirs(s.model)
            if not dirs:
                self.message = NOT_CONFIGURED
                logger.warning("NOT CONFIGURED: %s", NOT_CONFIGURED)
                return False
            threads = cpu_threads(s.cpu_threads)
            # PyTorch honours the budget; CTranslate2 has no cap: size its model to the budget
            gpu.apply_memory_cap(s.max_memory_gb)
            engines = [load_engine(d, s.backend, s.device, s.compute_type, threads, s.beam_size, s.max_input_tokens,
                                   s.ct2_dir) for d in dirs]
        except (ModelConfigError, OSError, ValueError) as exc:
            self.message = f"translation model not loaded: {exc}"
            logger.error("NOT READY: %s", self.message)
            return False
        self.translator = Translator(engines, s.max_batch_size, s.max_batch_tokens)
        self.message = None
        logger.info("model ready: %d language pairs", len(self.translator.by_pair))
        return True

    async def healthy(self) -> bool:
        return self.translator is not None

    def status(self) -> dict[str, Any]:
        """Readiness details and the languages (GET /v1/models/translation/languages)."""
        doc: dict[str, Any] = {"model": self.name, "ready": self.translator is not None, "message": self.message}
        if self.translator is not None:
            doc.update(self.translator.languages())
            doc["auto_detect"] = True
        else:
            doc.update(languages=[], pairs=[], models=[], auto_detect=False)
        return doc

    # ------------------------------------------------------------------ work

    def _languages(self, item: Item, sample: str) -> tuple[str, str, float | None]:
        tr = self.translator
        target = tr.check_code(item.target, "target")
        if item.source.strip().lower() != "auto":
            return tr.check_code(item.source, "source"), target, None
        code, prob = detect.detect(sample)
        if code == target:
            return code, target, prob
        if (code, target) not in tr.by_pair:
            sources = ", ".join(tr.sources) or "none"
            raise InvalidInput(f"the text looks like '{code}' (p={prob:.2f}), which this service cannot translate "
                               f"to '{target}' (sources: {sources}); set 'source' if the guess is wrong",
                               code="unsupported_pair")
        return code, target, prob

    def work(self, item: Item) -> dict[str, Any]:
        """Translate one text or document (runs in a worker thread)."""
        with INFERENCE_IN_FLIGHT.labels(self.name).track_inprogress():
            if item.text is not None:
                return self._text(item)
            return self._document(item)

    def _text(self, item: Item) -> dict[str, Any]:
        source, target, prob = self._languages(item, item.text)
        if source == target:
            out = item.text
        else:
            self.translator.engine_for(source, target)
            with observe(self.name, "translate"):
                out = self.translator.translate_texts([item.text], source, target, item.glossary)[0]
        result: dict[str, Any] = {"text": out, "source": source, "target": target}
        if prob is not None:
            result["detected"] = {"language": source, "probability": round(prob, 4)}
        return result

    def _document(self, item: Item) -> dict[str, Any]:
        documents.check_size(item.document, self.settings.max_document_mb)
        found: dict[str, Any] = {}

        def translate(texts: list[str], fixed) -> list[str]:
            source, target, prob = self._languages(item, "\n".join(texts)[:5000])
            found.update(source=source, target=target, prob=prob)
            if source == target:
                return texts
            self.translator.engine_for(source, target)
            return self.translator.translate_texts(texts, source, target, item.glossary, fixed)

        with observe(self.name, "document"):
            data, media_type, kind, count = documents.translate_document(item.document, item.filename, translate)
        if not found:  # nothing to translate: still check the languages asked for
            self.translator.check_code(item.target, "target")
        target = found.get("target") or item.target
        result: dict[str, Any] = {
            "document": {"b64": base64.b64encode(data).decode()},
            "filename": documents.output_name(item.filename, target, kind),
            "media_type": media_type,
            "kind": kind,
            "segments": count,
            "source": found.get("source", item.source),
            "target": target,
        }
        if found.get("prob") is not None:
            result["detected"] = {"language": found["source"], "probability": round(found["prob"], 4)}
        return result

    async def predict(self, payload, headers=None, response_headers=None):
        if self.translator is None:
            raise ModelNotReady(self.name, self.message or NOT_CONFIGURED, code="model_not_configured")
        try:
            items = parse_items(payload, self.settings.max_instances, self.settings.max_chars)
            results = await self.executor.map(self.work, [(it,) for it in items])
        except Exception as exc:
            INFERENCE_ERRORS.labels(self.name, getattr(exc, "code", "internal")).inc()
            raise
        return make_response(payload, self.name, list(results))
