"""File names for downloads: the one place that writes `Content-Disposition`.

Exports (a transcript as text, SRT or VTT; a statement as CSV) are named after the uploaded
file with the format's extension (`talk.wav` -> `talk.srt`), so a browser or `curl -OJ`
saves them under a name the user recognises; translated documents bring their own name.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from .operations import TEXT_MEDIA, BaseOperation

# the file extension of each text format the operations answer: text/plain -> txt, text/vtt -> vtt
EXTENSIONS = {media.split(";")[0]: "txt" if fmt == "text" else fmt for fmt, media in TEXT_MEDIA.items()}
FALLBACK = {"transcription": "transcript", "statement-extraction": "statement"}
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def export_name(source: str | None, media_type: str, fallback: str) -> str | None:
    """`talk.wav` + `text/vtt` -> `talk.vtt`; `fallback` when there is no usable source name;
    None for a media type that is not a text export (JSON is an API answer, not a file)."""
    ext = EXTENSIONS.get(media_type.split(";")[0].strip().lower())
    if ext is None:
        return None
    base = (source or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    stem = _UNSAFE.sub("_", stem).strip(" ._")[:200]
    return f"{stem or fallback}.{ext}"


def export_headers(op: BaseOperation | None, media_type: str, source: str | None) -> dict[str, str]:
    """`Content-Disposition` for an operation's answer when it is a text export (else none)."""
    name = export_name(source, media_type, FALLBACK.get(op.kind if op else None, "result"))
    return attachment(name) if name else {}


def attachment(filename: str) -> dict[str, str]:
    """The `Content-Disposition` header that saves a response as `filename` (RFC 6266): a
    plain ASCII `filename` for every client, plus `filename*` (RFC 8187) when the name has
    other characters."""
    name = _UNSAFE.sub("_", filename)
    plain = name.encode("ascii", "replace").decode("ascii").replace("?", "_")
    value = f'attachment; filename="{plain}"'
    if plain != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return {"Content-Disposition": value}
