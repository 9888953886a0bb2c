"""Request and response schemas of the translation endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

_LANG = r"^([A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?|auto)$"


class TranslationRequest(BaseModel):
    """`POST /api/v1/translations` with a JSON body."""

    model_config = {"extra": "forbid"}

    text: str = Field(min_length=1, max_length=200_000)
    target: str = Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$", examples=["de"])
    source: str = Field("auto", pattern=_LANG, description="ISO 639-1 code, or `auto` to detect it")
    glossary: dict[str, str] | list[str] | None = Field(
        None, description="terms kept as given: {\"term\": \"its translation\"} or [\"term\", ...]")


class TranslationDocumentForm(BaseModel):
    """The form fields that come with an uploaded document."""

    target: str = Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")
    source: str = Field("auto", pattern=_LANG)
    glossary: str | None = Field(None, max_length=100_000)
    format: Literal["file", "json"] = "file"

    def glossary_value(self) -> dict[str, str] | list[str] | None:
        import json

        if not self.glossary:
            return None
        try:
            value = json.loads(self.glossary)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(t, str) for t in value):
            return value
        if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return value
        from .errors import ApiError

        raise ApiError(422, "glossary: must be JSON {\"term\": \"translation\"} or [\"term\", ...]",
                       code="validation_error")


class DetectedLanguage(BaseModel):
    language: str
    probability: float


class TranslationResult(BaseModel):
    """A translated text."""

    text: str
    source: str
    target: str
    detected: DetectedLanguage | None = Field(None, description="with source `auto`: the language found")


class TranslatedFile(BaseModel):
    b64: str = Field(description="the translated file, base64")


class DocumentTranslationResult(BaseModel):
    """A translated document (multipart upload with `format=json`, and a document job's result)."""

    document: TranslatedFile
    filename: str = Field(examples=["report.de.docx"])
    media_type: str
    kind: str = Field(description="txt, md, docx or html")
    segments: int = Field(description="text segments translated")
    source: str
    target: str
    detected: DetectedLanguage | None = None


class TranslationLanguage(BaseModel):
    code: str
    name: str
    source: bool
    target: bool


class TranslationLanguages(BaseModel):
    ready: bool
    message: str | None = None
    auto_detect: bool = False
    languages: list[TranslationLanguage]
    pairs: list[list[str]]
