"""What each product call does, independent of whether it runs now or as a job.

An operation is a typed pydantic model (one class per `op`: transcription, statement,
translation, document-QA ingest, generic...) with its route, options and output format; the
uploaded bytes travel beside it. `Operation` is their union keyed on `op`; jobs store an
operation as JSON (`model_dump(mode="json")`, the same shape as the spec dicts stored by earlier
gateways, which therefore still load) and read it back with `load_operation`. Each operation
knows how to `run` itself against its route's upstream; runner.OperationRunner finds the route
and the upstream.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .errors import ApiError
from .render import Output
from .routetable import UPLOAD_FIELD
from .upstream import Upstream

TRANSCRIPTION_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
STATEMENT_FORMATS = ("json", "csv")
CSV_COLUMNS = ("date", "description", "amount", "balance", "type", "page", "balance_ok", "problem")
TEXT_MEDIA = {
    "text": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
_LANGUAGES = {
    "en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian", "pt": "portuguese",
    "nl": "dutch", "ru": "russian", "zh": "chinese", "ja": "japanese", "ko": "korean", "ar": "arabic",
    "pl": "polish", "tr": "turkish", "sv": "swedish", "uk": "ukrainian", "hi": "hindi",
}
TranscriptionFormat = Literal["json", "text", "srt", "vtt", "verbose_json"]


# ---------------------------------------------------------------- options


class Options(BaseModel):
    """Options passed to the upstream as fields of the v1 instance (unset ones left out)."""

    model_config = ConfigDict(extra="forbid")

    def upstream(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class TranscriptionOptions(Options):
    language: str | None = None
    task: Literal["transcribe", "translate"] = "transcribe"
    word_timestamps: bool | None = None
    vad_filter: bool | None = None
    beam_size: int | None = None
    initial_prompt: str | None = None
    temperature: float | None = None
    batched: bool | None = None


class OpenAITranscriptionOptions(Options):
    language: str | None = None
    task: Literal["transcribe"] = "transcribe"
    initial_prompt: str | None = None
    temperature: float | None = None
    word_timestamps: bool | None = None


class OpenAITranslationOptions(Options):
    task: Literal["translate"] = "translate"
    initial_prompt: str | None = None
    temperature: float | None = None


class StatementOptions(Options):
    password: str | None = None
    locale: str | None = None
    date_order: Literal["DMY", "MDY", "YMD"] | None = None


class TranslationDocumentOptions(Options):
    source: str | None = None
    target: str
    glossary: dict[str, str] | list[str] | None = None
    filename: str | None = None


# ---------------------------------------------------------------- operations


class BaseOperation(BaseModel):
    """One call on a route; `kind` is the route kind it needs (None: any)."""

    model_config = ConfigDict(extra="forbid")

    route: str
    kind: ClassVar[str | None] = None
    # the formats a finished job's stored JSON result can be rendered in (GET /jobs/{id}/result)
    formats: ClassVar[tuple[str, ...]] = ("json",)

    @property
    def output_format(self) -> str:
        return getattr(self, "format", "json")

    async def run(self, upstream: Upstream, data: bytes | None, request_id: str | None) -> Output:
        raise NotImplementedError

    def reformat(self, stored: dict) -> Output:
        """A stored JSON result in `self.output_format` (only called for a format in `formats`)."""
        return Output(stored)


async def _predict_upload(upstream: Upstream, data: bytes | None, options: Options,
                          request_id: str | None) -> dict:
    route = upstream.route
    prediction = await upstream.infer_upload(UPLOAD_FIELD[route.kind], data or b"", options.upstream(), request_id)
    if not isinstance(prediction, dict):
        raise ApiError(502, f"upstream '{route.name}' returned an unexpected result", code="bad_upstream_response")
    return prediction


class Transcription(BaseOperation):
    """`POST /api/v1/transcriptions`: the audio-service result, or text, srt, vtt, verbose_json."""

    op: Literal["transcription"] = "transcription"
    options: TranscriptionOptions = Field(default_factory=TranscriptionOptions)
    format: TranscriptionFormat = "json"
    kind: ClassVar[str] = "transcription"
    formats: ClassVar[tuple[str, ...]] = TRANSCRIPTION_FORMATS
    openai: ClassVar[bool] = False

    async def run(self, upstream, data, request_id) -> Output:
        return self.reformat(await _predict_upload(upstream, data, self.options, request_id))

    def reformat(self, stored: dict) -> Output:
        return format_transcription(stored, self.format, openai=self.openai, task=self.options.task,
                                    words=bool(self.options.word_timestamps))


class OpenAITranscription(Transcription):
    """OpenAI `audio.transcriptions.create`."""

    op: Literal["openai_transcription"] = "openai_transcription"  # type: ignore[assignment]
    options: OpenAITranscriptionOptions = Field(default_factory=OpenAITranscriptionOptions)  # type: ignore[assignment]
    formats: ClassVar[tuple[str, ...]] = ("json",)
    openai: ClassVar[bool] = True


class OpenAITranslation(Transcription):
    """OpenAI `audio.translations.create`: speech to English text."""

    op: Literal["openai_translation"] = "openai_translation"  # type: ignore[assignment]
    options: OpenAITranslationOptions = Field(default_factory=OpenAITranslationOptions)  # type: ignore[assignment]
    formats: ClassVar[tuple[str, ...]] = ("json",)
    openai: ClassVar[bool] = True

    def reformat(self, stored: dict) -> Output:
        return format_transcription(stored, self.format, openai=True, task="translate", words=False)


class Statement(BaseOperation):
    """`POST /api/v1/statements`: transactions as JSON or CSV."""

    op: Literal["statement"] = "statement"
    options: StatementOptions = Field(default_factory=StatementOptions)
    format: Literal["json", "csv"] = "json"
    kind: ClassVar[str] = "statement-extraction"
    formats: ClassVar[tuple[str, ...]] = STATEMENT_FORMATS

    async def run(self, upstream, data, request_id) -> Output:
        return self.reformat(await _predict_upload(upstream, data, self.options, request_id))

    def reformat(self, stored: dict) -> Output:
        return format_statement(stored, self.format)


class Translation(BaseOperation):
    """A text translation: the JSON body goes upstream as one v1 instance."""

    op: Literal["translation"] = "translation"
    body: dict[str, Any]
    kind: ClassVar[str] = "translation"

    async def run(self, upstream, data, request_id) -> Output:
        from .translations import translate_text

        return await translate_text(upstream, self.body, request_id)


class TranslationDocument(BaseOperation):
    """A document translation: the file in, the translated file (base64 in JSON) out."""

    op: Literal["translation_document"] = "translation_document"
    options: TranslationDocumentOptions
    format: Literal["file", "json"] = "file"
    kind: ClassVar[str] = "translation"

    async def run(self, upstream, data, request_id) -> Output:
        from .translations import translate_document

        return await translate_document(upstream, data, self.options.upstream(), request_id)


class DocqaIngest(BaseOperation):
    """`POST /api/v1/documents`: one upload into the owner's documents."""

    op: Literal["docqa_ingest"] = "docqa_ingest"
    owner: str
    filename: str
    content_type: str
    kind: ClassVar[str] = "document-qa"

    async def run(self, upstream, data, request_id) -> Output:
        from .docqa import execute_ingest

        return await execute_ingest(upstream, self, data, request_id)


class Generic(BaseOperation):
    """`POST /api/v1/<resource>` of a generic route: the JSON body as one v1 instance."""

    op: Literal["generic"] = "generic"
    body: dict[str, Any]

    async def run(self, upstream, data, request_id) -> Output:
        return Output(await upstream.infer_json(self.body, request_id))


Operation = Annotated[
    Union[Transcription, OpenAITranscription, OpenAITranslation, Statement, Translation, TranslationDocument,
          DocqaIngest, Generic],
    Field(discriminator="op"),
]
OPERATION: TypeAdapter[Operation] = TypeAdapter(Operation)


def load_operation(stored: dict | None) -> Operation:
    """A job's stored operation (also a spec dict written by an earlier gateway); 500 if unreadable."""
    try:
        return OPERATION.validate_python(stored or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "operation"
        raise ApiError(500, f"the job's stored operation is not readable ({where}: {first.get('msg')})",
                       code="invalid_operation") from None


def dump_operation(op: Operation) -> dict:
    """The JSON document a job stores (its `request` column)."""
    return op.model_dump(mode="json")


# ---------------------------------------------------------------- transcriptions


def _ts(seconds: float, sep: str) -> str:
    ms = int(round(max(0.0, float(seconds or 0)) * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cues(result: dict) -> list[tuple[float, float, str]]:
    """(start, end, text) of each segment with text; line breaks inside a cue become spaces (a
    blank line would end the cue early in both formats), empty segments are no cue at all."""
    cues = []
    for seg in result.get("segments") or []:
        text = " ".join(str(seg.get("text") or "").split())
        if text:
            cues.append((seg.get("start"), seg.get("end"), text))
    return cues


def to_srt(result: dict) -> str:
    return "\n".join(f"{i}\n{_ts(start, ',')} --> {_ts(end, ',')}\n{text}\n"
                     for i, (start, end, text) in enumerate(_cues(result), 1))


def to_vtt(result: dict) -> str:
    # "-->" may not appear in a WebVTT cue's text
    blocks = ["WEBVTT\n"] + [f"{_ts(start, '.')} --> {_ts(end, '.')}\n{text.replace('-->', '->')}\n"
                              for start, end, text in _cues(result)]
    return "\n".join(blocks)


def to_openai_verbose(result: dict, task: str, words: bool) -> dict:
    segments = []
    all_words = []
    for i, seg in enumerate(result.get("segments") or []):
        segments.append({
            "id": seg.get("id", i),
            "seek": 0,
            "start": seg.get("start", 0.0),
            "end": seg.get("end", 0.0),
            "text": seg.get("text", ""),
            "tokens": [],
            "temperature": 0.0,
            "avg_logprob": seg.get("avg_logprob", 0.0),
            "compression_ratio": seg.get("compression_ratio", 0.0),
            "no_speech_prob": seg.get("no_speech_prob", 0.0),
        })
        for w in seg.get("words") or []:
            all_words.append({"word": w.get("word", ""), "start": w.get("start", 0.0), "end": w.get("end", 0.0)})
    lang = result.get("language") or ""
    doc = {
        "task": "translate" if task == "translate" else "transcribe",
        "language": _LANGUAGES.get(lang, lang),
        "duration": result.get("duration", 0.0),
        "text": result.get("text", ""),
        "segments": segments,
    }
    if words:
        doc["words"] = all_words
    return doc


def format_transcription(result: dict, fmt: str, openai: bool, task: str = "transcribe",
                         words: bool = False) -> Output:
    if fmt == "text":
        return Output(str(result.get("text", "")).strip() + "\n", TEXT_MEDIA["text"])
    if fmt == "srt":
        return Output(to_srt(result), TEXT_MEDIA["srt"])
    if fmt == "vtt":
        return Output(to_vtt(result), TEXT_MEDIA["vtt"])
    if fmt == "verbose_json":
        return Output(to_openai_verbose(result, task, words))
    if openai:
        return Output({"text": result.get("text", "")})
    return Output(result)


# ---------------------------------------------------------------- statements


# OWASP "CSV injection": a cell starting with one of these runs as a formula in spreadsheets
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def csv_cell(value) -> str:
    """One cell as text, with formula triggers neutralised by a leading apostrophe.

    Decided by value, not by column: a plain decimal number (`-12.50`, `+3`) stays a number
    so spreadsheets can sum the money columns, while any other text that starts with
    = + - @ tab or CR (`=HYPERLINK(...)`, `-fee`, `-2+3`, `@SUM(...)`) is guarded, in whatever
    column it turns up (a description, a problem note, a garbled amount).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def to_csv(result: dict) -> str:
    """The transactions as RFC 4180 CSV: CRLF line ends, quoted where needed, no formulas."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for tx in result.get("transactions") or []:
        writer.writerow([csv_cell(tx.get(col)) for col in CSV_COLUMNS])
    return buf.getvalue()


def format_statement(result: dict, fmt: str) -> Output:
    if fmt == "csv":
        return Output(to_csv(result), TEXT_MEDIA["csv"])
    return Output(result)


def reformat(op: Operation, stored, fmt: str) -> Output | None:
    """A finished job's stored result in another output format (None: the stored one).

    Only a result stored as JSON can be re-rendered; the formats are those of the
    synchronous call for the job's operation.
    """
    allowed = op.formats
    if fmt not in allowed:
        raise ApiError(422, f"format: this job's result is available as {', '.join(allowed)}",
                       code="validation_error")
    stored_fmt = op.output_format
    if fmt == stored_fmt:
        return None
    if not isinstance(stored, dict) or stored_fmt != "json":
        raise ApiError(409, f"this job's result was stored as {stored_fmt}; ask for that format or run it "
                            "again with format=json", code="format_unavailable")
    return op.model_copy(update={"format": fmt}).reformat(stored)
