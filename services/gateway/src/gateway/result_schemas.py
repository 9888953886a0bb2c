"""Response schemas of the results the model services produce and the gateway passes on:
statements (vlm-service), transcriptions (audio-service) and their OpenAI-compatible forms, and
the messages of a live transcription.

They describe the services' real output (the platform's end-to-end tests validate real answers
against them), no stricter: fields a service leaves out in some paths are optional, and the
statement's `reading` (how the layout was read) stays an open object.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from .docqa_schemas import DocumentOut
from .schemas import ErrorOut
from .translation_schemas import DocumentTranslationResult, TranslationResult

# ---------------------------------------------------------------- statements


class StatementSummary(BaseModel):
    """The statement's header (every key present, null when not found); money as decimal
    strings, dates ISO 8601."""

    bank_name: str | None
    account_number: str | None = Field(description="masked: only the last digits are shown")
    currency: str | None
    period_start: str | None
    period_end: str | None
    opening_balance: str | None
    closing_balance: str | None
    kind: str | None = Field(None, description="`bank`, or `card`: balances are what is owed, negative")


class Transaction(BaseModel):
    date: str | None = Field(description="ISO date; null when the row has no readable date")
    description: str
    amount: str = Field(description="decimal string, negative for money out", examples=["-12.50"])
    balance: str | None = Field(description="the printed running balance, when the row has one")
    type: Literal["debit", "credit"]
    page: int
    row: int
    # bbox, source, confidence and check: absent from results stored by older versions (job results)
    bbox: list[float] | None = Field(None, description="[x0, top, x1, bottom] in the page's units, top-down")
    source: str | None = Field(None, description="text, ocr or vlm: where the row was read from")
    confidence: float | None = None
    balance_ok: bool
    check: Literal["verified", "not_checkable", "failed"] | None = Field(
        None, description="verified: its printed balance follows from the one before; not_checkable: nothing to "
                          "check it against; failed: it does not follow")
    problem: str | None


class StatementProblem(BaseModel):
    page: int | None
    row: int | None
    code: str = Field(examples=["balance_mismatch", "totals_mismatch", "date_missing", "opening_inferred"])
    message: str


class Reading(BaseModel):
    """How the document was read (layout, columns, date order, signs); open: it grows with the
    extractor's rules."""

    model_config = ConfigDict(extra="allow")

    layout: str | None = None
    columns: list[str] | None = None
    date_order: str | None = None
    date_order_from: str | None = None
    year_from: str | None = None
    signs: str | None = None
    balance_sign: str | None = None
    kind: str | None = None


class StatementChecks(BaseModel):
    running_balance_ok: bool
    totals_reconcile: bool
    problems: list[StatementProblem]
    reconciled: bool | None = Field(None, description="running balances and totals both check out")
    confidence: float | None = None
    reading: Reading | None = None


class PageInfo(BaseModel):
    page: int
    source: str = Field(description="text, ocr or vlm")
    why: str | None = None
    width: float
    height: float
    units: Literal["pt", "px"] | None = Field(None, description="PDF points or image pixels")


class VlmStatus(BaseModel):
    configured: bool
    used: bool
    message: str | None = None


class StatementResult(BaseModel):
    """`POST /api/v1/statements` (format json) and a statement job's result."""

    statement: StatementSummary
    transactions: list[Transaction]
    checks: StatementChecks
    pages: int
    page_info: list[PageInfo] = Field(default_factory=list)
    vlm: VlmStatus | None = None


# ---------------------------------------------------------------- transcriptions


class Word(BaseModel):
    start: float
    end: float
    word: str
    probability: float


class Segment(BaseModel):
    id: int | None = None
    start: float
    end: float
    text: str
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    words: list[Word] | None = Field(None, description="with word_timestamps=true")


class TranscriptionResult(BaseModel):
    """`POST /api/v1/transcriptions` (response_format json) and a transcription job's result."""

    text: str
    language: str | None = None
    language_probability: float | None = None
    duration: float | None = Field(None, description="seconds of audio")
    segments: list[Segment]


class TranscriptionStreamInfo(BaseModel):
    """`event: info`, first: what the service found out before decoding."""

    language: str | None = None
    language_probability: float | None = None
    duration: float | None = None
    batched: bool | None = None


class TranscriptionStreamSegment(BaseModel):
    """`event: segment`, one per decoded segment."""

    segment: Segment
    decoded_s: float = Field(description="seconds of the recording decoded so far")
    duration: float | None = None
    progress: float | None = Field(None, description="decoded_s / duration, 0..1")


class TranscriptionStreamEvent(RootModel[TranscriptionStreamInfo | TranscriptionStreamSegment | TranscriptionResult
                                         | ErrorOut]):
    """The `data:` of `POST /api/v1/transcriptions` with stream=true: `info`, `segment`..., then
    `done` (a TranscriptionResult) or `error` (an ErrorOut), by the event's name."""


class OpenAITranscription(BaseModel):
    """OpenAI's `json` response format."""

    text: str


class OpenAIWord(BaseModel):
    word: str
    start: float
    end: float


class OpenAISegment(BaseModel):
    id: int
    seek: int
    start: float
    end: float
    text: str
    tokens: list[int]
    temperature: float
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float


class VerboseTranscription(BaseModel):
    """OpenAI's `verbose_json` response format (also on the native route)."""

    task: Literal["transcribe", "translate"]
    language: str = Field(description="the language's English name, as OpenAI answers it")
    duration: float
    text: str
    segments: list[OpenAISegment]
    words: list[OpenAIWord] | None = Field(None, description="with timestamp_granularities[]=word")


# ---------------------------------------------------------------- a job's result

JobResult = (StatementResult | TranscriptionResult | VerboseTranscription | OpenAITranscription
             | TranslationResult | DocumentTranslationResult | DocumentOut | dict[str, Any] | list[Any])
"""`GET /api/v1/jobs/{id}/result` as JSON: the synchronous call's answer for the job's kind."""


# ---------------------------------------------------------------- live transcription (WebSocket)


class LiveSegment(BaseModel):
    id: int
    start: float
    end: float
    text: str
    words: list[Word] = Field(default_factory=list)


class LivePartial(BaseModel):
    """The words not yet agreed on (replaced by the next partial; never part of the transcript)."""

    type: Literal["partial"]
    text: str
    start: float
    end: float


class LiveFinal(BaseModel):
    """A segment agreed on: final, never revised."""

    type: Literal["final"]
    segment: LiveSegment


class LiveErrorBody(BaseModel):
    code: str
    message: str


class LiveError(BaseModel):
    type: Literal["error"]
    error: LiveErrorBody


class LiveDone(BaseModel):
    """After `stop`: the whole text; the socket then closes with 1000."""

    type: Literal["done"]
    text: str
    duration: float = Field(description="seconds of audio received")


class LiveMessage(RootModel[Annotated[LivePartial | LiveFinal | LiveError | LiveDone, Field(discriminator="type")]]):
    """A server message of `WS /api/v1/<resource>/live` (JSON text)."""
