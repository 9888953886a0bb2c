"""The KServe model `vlm`: bank statements (PDF or page images) to reconciled transactions."""

from __future__ import annotations

import kserve

from kit import gpu
from kit.logging import get_logger
from kit_kserve.concurrency import BoundedExecutor
from kit_kserve.metrics import INFERENCE_ERRORS
from kit_kserve.payload import binary_inputs, bytes_io_metadata, make_response

from .pipeline import Pipeline
from .settings import Settings

logger = get_logger(__name__)


class StatementModel(kserve.Model):
    """v1: `{"instances": [{"document": {"b64": ...}, "password": ..., "task": ...}]}`;
    v2: a BYTES input `document`, options as parameters. One JSON result per document."""

    def __init__(self, settings: Settings):
        super().__init__(settings.model_name)
        self.settings = settings
        self.executor = BoundedExecutor(settings.max_concurrency, settings.max_queue, name="vlm")
        self.pipeline: Pipeline | None = None

    def get_input_types(self) -> list[dict]:
        return bytes_io_metadata("document")[0]

    def get_output_types(self) -> list[dict]:
        return bytes_io_metadata("document")[1]

    def load(self) -> bool:
        from . import ocr

        vlm = None
        if self.settings.model:
            from .vlm import VLM

            device = self._checked_device()
            try:
                vlm = VLM(self.settings.model, self.settings.max_memory_gb, device,
                          self.settings.max_new_tokens, self.settings.image_side).load()
            except Exception as exc:
                logger.error("VLM_MODEL=%s could not be loaded (%s: %s); nothing is downloaded at run "
                             "time: mount the weights or pre-populate the hub cache",
                             self.settings.model, type(exc).__name__, exc)
                raise
        else:
            logger.info("VLM_MODEL not set: extracting with the text layer, OCR and layout rules only")
            gpu.record_without_gpu("VLM", self.settings.device, self.settings.max_memory_gb,
                                   "VLM_MODEL not set: no model runs on a GPU")
        ocr.engine(self.settings.ocr_threads, self.settings.ocr_stretch)  # load the OCR models now, not on the first scan
        self.pipeline = Pipeline(self.settings, vlm)
        self.pipeline.limits.max_render_pixels = int(self.settings.max_render_megapixels * 1_000_000)
        self.ready = True
        return self.ready

    def _checked_device(self) -> str:
        """The VLM's torch device after the start-up GPU check (raises GPUCheckFailed)."""
        requested = self.settings.device
        checked = gpu.startup_check("VLM", requested, self.settings.max_memory_gb, frameworks=("torch",))
        if checked.device == "cuda" and requested and requested.startswith("cuda"):
            return requested  # keep an explicit index (cuda:1)
        return checked.device

    async def predict(self, payload, headers=None, response_headers=None):
        try:
            items = binary_inputs(payload, field="document", max_items=self.settings.max_instances)
            results = [await self.executor.run(self.pipeline.run, it.data, it.options) for it in items]
        except Exception as exc:
            INFERENCE_ERRORS.labels(self.name, getattr(exc, "code", "internal")).inc()
            raise
        return make_response(payload, self.name, results)
