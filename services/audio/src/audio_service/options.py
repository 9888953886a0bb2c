"""Transcription options of one request, validated with pydantic (wrong types are a 400)."""

from __future__ import annotations

from typing import Any, Literal

from faster_whisper.tokenizer import _LANGUAGE_CODES
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kit_kserve.errors import InvalidInput

LANGUAGES = frozenset(_LANGUAGE_CODES)


class TranscribeOptions(BaseModel):
    """Options accepted next to the audio (v1 instance keys, v2 parameters)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    language: str | None = Field(None, description="ISO 639-1 code; None or 'auto' detects it")
    task: Literal["transcribe", "translate"] = "transcribe"
    beam_size: int = Field(5, ge=1, le=20)
    vad_filter: bool = False
    word_timestamps: bool = False
    initial_prompt: str | None = Field(None, max_length=2000)
    temperature: float | list[float] | None = Field(
        None, description="one value, or a fallback list; None: faster-whisper's 0.0..1.0 fallback"
    )
    batched: bool | None = Field(
        None, description="batched inference (VAD chunks); None: batched from AUDIO_BATCHED_MIN_S seconds"
    )

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().lower()
        if code in ("", "auto"):
            return None
        if code not in LANGUAGES:
            raise ValueError(f"unknown language code '{value}'")
        return code

    @field_validator("temperature")
    @classmethod
    def _temperature(cls, value):
        values = value if isinstance(value, list) else [value] if value is not None else []
        if isinstance(value, list) and not value:
            raise ValueError("temperature list is empty")
        if any(not 0.0 <= t <= 1.0 for t in values):
            raise ValueError("temperature must be between 0 and 1")
        return value

    def transcribe_kwargs(self, batched: bool = False) -> dict[str, Any]:
        """Keyword arguments for `WhisperModel.transcribe` (or the batched pipeline's, which
        always segments with VAD)."""
        kwargs: dict[str, Any] = {
            "language": self.language,
            "task": self.task,
            "beam_size": self.beam_size,
            "vad_filter": True if batched else self.vad_filter,
            "word_timestamps": self.word_timestamps,
            "initial_prompt": self.initial_prompt,
        }
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        return kwargs


def parse_options(raw: dict[str, Any], english_only: bool) -> TranscribeOptions:
    """Validate raw options; raise InvalidInput naming the field and the problem."""
    try:
        opts = TranscribeOptions.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "options"
        if field == "language" and "unknown language" in err["msg"]:
            raise InvalidInput(
                f"language: {err['msg'].removeprefix('Value error, ')}; use an ISO 639-1 code "
                "such as 'en' or 'auto' to detect it",
                code="unknown_language",
            ) from None
        raise InvalidInput(f"invalid option '{field}': {err['msg']}", code="invalid_option") from None
    if english_only:
        if opts.language not in (None, "en"):
            raise InvalidInput(
                f"the model is English-only: language '{opts.language}' is not supported",
                code="english_only_model",
            )
        if opts.task == "translate":
            raise InvalidInput(
                "the model is English-only: task 'translate' is not supported",
                code="english_only_model",
            )
    return opts
