"""translation-service settings, read from `TRANSLATION_*` environment variables (and `.env`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kit_kserve.settings import ServiceSettings


class Settings(ServiceSettings):
    """Settings of the translation service; see the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="TRANSLATION_", env_file=".env", extra="ignore")

    port: int = 8003
    model_name: str = Field("translation", description="KServe model name")
    model: str = Field(
        "",
        description="model directories, comma-separated (one MarianMT per pair, or one multilingual "
        "NLLB-200 / M2M100 / MADLAD model); empty: /mnt/models when mounted, else none (not ready)",
    )
    backend: str = Field("auto", pattern="^(auto|transformers|ctranslate2)$",
                         description="auto: CTranslate2 for a converted directory (model.bin), else transformers")
    device: str = Field("auto", pattern="^(auto|cpu|cuda)$", description="auto: cuda when present")
    compute_type: str = Field("auto", description="CTranslate2 compute type; auto: float16 on cuda, int8 on cpu")
    cpu_threads: int = Field(0, ge=0, description="threads for inference on CPU; 0: usable CPUs, at most 4")
    ct2_dir: str = Field("/tmp/translation-ct2",
                         description="where transformers models are converted for TRANSLATION_BACKEND=ctranslate2")
    beam_size: int = Field(2, ge=1, le=8, description="beam search width")
    max_batch_size: int = Field(16, ge=1, description="sentences per model call")
    max_batch_tokens: int = Field(2048, ge=16, description="source tokens per model call (padding included)")
    max_input_tokens: int = Field(0, ge=0, description="tokens per sentence sent to the model; 0: the model's limit "
                                  "(at most 400); longer sentences are split and joined")
    max_chars: int = Field(200_000, ge=1, description="longest text accepted per item; longer get 413")
    max_document_mb: float = Field(20, gt=0, description="largest document accepted; larger get 413")
