"""Request and response schemas of the document QA endpoints (documents, questions, embeddings).

The response models also check what document-qa-service answers: an answer that does not fit
them is the upstream's fault (502), never passed on half-valid.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator

DOCUMENT_ID = r"^[A-Za-z0-9_.:-]{1,128}$"
MAX_QUESTION_CHARS = 2000
MAX_EMBED_INPUTS = 2048
MAX_EMBED_CHARS = 20_000


class DocumentSources(BaseModel):
    text: int = Field(0, ge=0, description="pages read from the text layer")
    ocr: int = Field(0, ge=0, description="pages read by OCR")


class Document(BaseModel):
    """One ingested document of the caller."""

    id: str
    filename: str
    content_type: str
    bytes: int = Field(ge=0)
    pages: int = Field(ge=0)
    chunks: int = Field(ge=0)
    characters: int = Field(ge=0)
    created_at: str
    sources: DocumentSources = Field(default_factory=DocumentSources)


class DocumentOut(BaseModel):
    document: Document


class DocumentList(BaseModel):
    documents: list[Document]


class DeletedOut(BaseModel):
    deleted: str


class QuestionIn(BaseModel):
    """`POST /api/v1/questions`."""

    model_config = {"extra": "forbid"}

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    document_ids: list[str] | None = Field(None, max_length=100, description="only these documents (default: all)")
    top_k: int | None = Field(None, ge=1, le=50, description="passages to retrieve")
    stream: bool = Field(False, description="answer as server-sent events (as `Accept: text/event-stream`)")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    @field_validator("document_ids")
    @classmethod
    def _ids(cls, v: list[str] | None) -> list[str] | None:
        for i in v or []:
            if not re.match(DOCUMENT_ID, i):
                raise ValueError(f"not a document id: {i[:40]!r}")
        return v


class Citation(BaseModel):
    document_id: str
    filename: str
    page: int | None = None
    start: int = Field(ge=0, description="character offset of the passage in the document")
    end: int = Field(ge=0)
    text: str
    score: float
    answer_start: int | None = Field(None, description="the answer's span inside `text`")
    answer_end: int | None = None


class AnswerOut(BaseModel):
    found: bool = Field(description="false: not found in your documents (no invented answer)")
    answer: str | None = Field(None, description="null when not found")
    mode: str = Field(description="extractive or generative")
    citations: list[Citation]


class EmbeddingsIn(BaseModel):
    """OpenAI `embeddings.create`."""

    input: str | list[str] = Field(description="a text or a list of texts")
    model: str = Field(min_length=1, max_length=100)
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1, description="not supported: the model's size is fixed")
    user: str | None = Field(None, max_length=256)

    @field_validator("input")
    @classmethod
    def _inputs(cls, v: str | list[str]) -> str | list[str]:
        texts = [v] if isinstance(v, str) else v
        if not texts:
            raise ValueError("must hold at least one text")
        if len(texts) > MAX_EMBED_INPUTS:
            raise ValueError(f"at most {MAX_EMBED_INPUTS} texts per request")
        for t in texts:
            if not t.strip():
                raise ValueError("texts must not be empty")
            if len(t) > MAX_EMBED_CHARS:
                raise ValueError(f"each text has at most {MAX_EMBED_CHARS} characters")
        return v


class EmbeddingItem(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str = Field(description="floats, or base64 of little-endian float32")


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingsOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingUsage


class UpstreamEmbeddings(BaseModel):
    """What document-qa-service's `embed` op answers."""

    model: str
    embeddings: list[list[float]]
    tokens: int = Field(ge=0)
