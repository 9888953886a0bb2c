"""Upload limits enforced while the body streams in (413 before it is read whole) and
content sniffing by magic bytes (415)."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException as StarletteHTTPException

# room for the multipart envelope and the small form fields around the file
ENVELOPE_BYTES = 64 * 1024
DEFAULT_BODY_LIMIT = 1024 * 1024


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int):
        mb = limit / (1024 * 1024)
        super().__init__(413, f"request body exceeds this route's limit of {mb:g} MB")


class UploadLimitMiddleware:
    """Pure ASGI: refuse a too-large Content-Length at once, and count streamed bytes so a
    chunked or lying upload is cut off as soon as it passes the route's limit."""

    def __init__(self, app, limit_for_path):
        self.app = app
        self.limit_for_path = limit_for_path

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for_path(scope["path"])
        if limit is None:
            limit = DEFAULT_BODY_LIMIT
        else:
            limit += ENVELOPE_BYTES
        for k, v in scope.get("headers", ()):
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    await _send_error(send, 400, "invalid_content_length", "Content-Length is not a number")
                    return
                if declared > limit:
                    await _send_error(send, 413, "payload_too_large", BodyTooLarge(limit - ENVELOPE_BYTES).detail)
                    return
                break
        seen = 0
        started = False

        async def counting_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit - ENVELOPE_BYTES)
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            if not started:
                await _send_error(send, 413, "payload_too_large", exc.detail)


async def _send_error(send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close")],
    })
    await send({"type": "http.response.body", "body": body})


AUDIO_TYPES = {"audio/wav", "audio/mpeg", "audio/ogg", "audio/flac", "audio/mp4", "audio/webm", "audio/aiff"}
DOCUMENT_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/tiff"}


def sniff(head: bytes) -> str | None:
    """The media type that the first bytes of a file show, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and head[1] & 0x06):
        return "audio/mpeg"
    if head[:4] == b"OggS":
        return "audio/ogg"
    if head[:4] == b"fLaC":
        return "audio/flac"
    if head[4:8] == b"ftyp":
        return "audio/mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "audio/webm"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if head[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    return None


def check_type(head: bytes, allowed: set[str], what: str) -> str:
    from .errors import ApiError

    if not head:
        raise ApiError(400, "the uploaded file is empty", code="empty_file")
    kind = sniff(head)
    if kind not in allowed:
        found = f"looks like {kind}" if kind else "is not a recognised format"
        raise ApiError(415, f"the uploaded file {found}; expected {what}", code="unsupported_media_type")
    return kind
