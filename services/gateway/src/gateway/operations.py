"""What each product call does, independent of whether it runs now or as a job.

An operation is a small JSON `spec` (op, route, options, output format) plus the uploaded
bytes; `execute` turns it into one OIP v1 call and formats the result. Jobs store the spec
so a restarted gateway can run it again.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from .errors import ApiError
from .routetable import UPLOAD_FIELD, Route

TRANSCRIPTION_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
STATEMENT_FORMATS = ("json", "csv")
CSV_COLUMNS = ("date", "description", "amount", "balance", "type", "page", "balance_ok", "problem")
TEXT_MEDIA = {
    "text": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
OP_KIND = {
    "transcription": "transcription",
    "openai_transcription": "transcription",
    "openai_translation": "transcription",
    "statement": "statement-extraction",
    "translation": "translation",
    "translation_document": "translation",
    "docqa_ingest": "document-qa",
}
_LANGUAGES = {
    "en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian", "pt": "portuguese",
    "nl": "dutch", "ru": "russian", "zh": "chinese", "ja": "japanese", "ko": "korean", "ar": "arabic",
    "pl": "polish", "tr": "turkish", "sv": "swedish", "uk": "ukrainian", "hi": "hindi",
}


@dataclass
class Output:
    """A formatted result: JSON (dict/list) or text with its media type."""

    content: dict | list | str
    media_type: str = "application/json"


def route_for_spec(routes, spec: dict) -> Route:
    route = routes.by_name.get(spec["route"])
    if route is None:
        raise ApiError(503, f"route '{spec['route']}' is no longer in the route table",
                       code="route_not_found", retry_after=10)
    return route


async def execute(gw, spec: dict, data: bytes | None, request_id: str | None) -> Output:
    route = route_for_spec(gw.routes, spec)
    op = spec["op"]
    expected = OP_KIND.get(op)
    if expected and route.kind != expected:
        raise ApiError(503, f"route '{route.name}' is no longer a {expected} route", code="route_not_found",
                       retry_after=10)
    if op in ("translation", "translation_document"):
        from . import translations  # imports Output from here

        return await translations.execute(gw, route, spec, data, request_id)
    upstream = gw.upstreams.get(route)
    options = {k: v for k, v in spec.get("options", {}).items() if v is not None}
    if op == "docqa_ingest":
        from .docqa import execute_ingest

        return await execute_ingest(upstream, spec, data, request_id)
    if op == "generic":
        prediction = await upstream.infer_json(spec["body"], request_id)
        return Output(prediction)
    field = UPLOAD_FIELD[route.kind]
    prediction = await upstream.infer_upload(field, data or b"", options, request_id)
    if not isinstance(prediction, dict):
        raise ApiError(502, f"upstream '{route.name}' returned an unexpected result", code="bad_upstream_response")
    fmt = spec.get("format", "json")
    if op == "statement":
        return format_statement(prediction, fmt)
    return format_transcription(prediction, fmt, openai=op != "transcription",
                                task=options.get("task", "transcribe"),
                                words=bool(options.get("word_timestamps")))


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


def reformat(spec: dict, stored, fmt: str) -> Output | None:
    """A finished job's stored result in another output format (None: the stored one).

    Only a result stored as JSON can be re-rendered; the formats are those of the
    synchronous call for the job's operation.
    """
    op = spec.get("op")
    stored_fmt = spec.get("format", "json")
    allowed = {"statement": STATEMENT_FORMATS, "transcription": TRANSCRIPTION_FORMATS}.get(op, ("json",))
    if fmt not in allowed:
        raise ApiError(422, f"format: this job's result is available as {', '.join(allowed)}",
                       code="validation_error")
    if fmt == stored_fmt:
        return None
    if not isinstance(stored, dict) or stored_fmt != "json":
        raise ApiError(409, f"this job's result was stored as {stored_fmt}; ask for that format or run it "
                            "again with format=json", code="format_unavailable")
    if op == "statement":
        return format_statement(stored, fmt)
    return format_transcription(stored, fmt, openai=False, task=spec.get("options", {}).get("task") or "transcribe",
                                words=bool(spec.get("options", {}).get("word_timestamps")))
