"""Upload limits enforced while the body streams in (413 before it is read whole) and
content sniffing by magic bytes (415)."""

from __future__ import annotations

import asyncio

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from .errors import ApiError, error_response

# room for the multipart envelope and the small form fields around the file
ENVELOPE_BYTES = 64 * 1024
DEFAULT_BODY_LIMIT = 1024 * 1024
# Lingering close for early answers (RFC 9112, 9.6): when the gateway answers before it has read
# a request's body (413, 401, 403, 429, a 4xx from the handler), it sends the whole answer at once
# and then keeps reading and dropping the body before the connection closes. A direct client sees
# the answer as early as before; a proxy in front (the web UI's nginx, an ingress) that is still
# sending the body sees the answer too, instead of a reset connection that it would turn into 502.
DRAIN_MAX_BYTES = 256 * 1024 * 1024
DRAIN_IDLE_S = 2.0
DRAIN_TIMEOUT_S = 60.0


def expects_body(scope) -> bool:
    """Whether the request announced a body (a non-zero Content-Length, or chunked)."""
    if scope.get("method") not in ("POST", "PUT", "PATCH"):
        return False
    for k, v in scope.get("headers", ()):
        if k == b"content-length":
            return v.strip() not in (b"0", b"")
        if k == b"transfer-encoding":
            return True
    return False


async def drain(receive, already: int = 0) -> None:
    """Read and drop what is left of the request body: until its end, DRAIN_IDLE_S without a
    byte, DRAIN_MAX_BYTES, or DRAIN_TIMEOUT_S, whichever comes first."""

    async def _read() -> None:
        seen = already
        while seen <= DRAIN_MAX_BYTES:
            message = await asyncio.wait_for(receive(), DRAIN_IDLE_S)
            if message["type"] != "http.request":
                return
            seen += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    try:
        await asyncio.wait_for(_read(), DRAIN_TIMEOUT_S)
    except (asyncio.TimeoutError, OSError):
        pass


class LingeringSend:
    """Wraps `send` for a request whose body may be unread: the final body message of the answer
    goes out as not-final, the rest of the request body is drained, then the answer ends."""

    def __init__(self, send, receive, body_unread):
        self.send = send
        self.receive = receive
        self.body_unread = body_unread  # callable: is part of the body still unread?
        self.already = 0

    async def __call__(self, message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False) and self.body_unread():
            await self.send({**message, "more_body": True})
            await drain(self.receive, self.already)
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await self.send(message)


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
        announced = expects_body(scope)
        seen = 0
        body_done = not announced
        lingering = LingeringSend(send, receive, lambda: not body_done)
        for k, v in scope.get("headers", ()):
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    await _send_error(scope, receive, send, 400, "invalid_content_length",
                                      "Content-Length is not a number")
                    return
                if declared > limit:
                    lingering.body_unread = (lambda: declared <= DRAIN_MAX_BYTES)
                    await _send_error(scope, receive, lingering, 413, "payload_too_large",
                                      BodyTooLarge(limit - ENVELOPE_BYTES).detail)
                    return
                break
        started = False

        async def counting_receive():
            nonlocal seen, body_done
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                lingering.already = seen
                body_done = not message.get("more_body", False)
                if seen > limit:
                    raise BodyTooLarge(limit - ENVELOPE_BYTES)
            else:
                body_done = True
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await lingering(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            if not started:
                await _send_error(scope, receive, lingering, 413, "payload_too_large", exc.detail)


async def _send_error(scope, receive, send, status: int, code: str, message: str) -> None:
    await error_response(status, code, message, headers={"Connection": "close"})(scope, receive, send)


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
    """The sniffed media type of an upload's first bytes: 400 if empty, 415 if not `allowed`."""
    if not head:
        raise ApiError(400, "the uploaded file is empty", code="empty_file")
    kind = sniff(head)
    if kind not in allowed:
        found = f"looks like {kind}" if kind else "is not a recognised format"
        raise ApiError(415, f"the uploaded file {found}; expected {what}", code="unsupported_media_type")
    return kind


async def sniff_upload(file: UploadFile, allowed: set[str], what: str) -> str:
    """Check an upload's type by its first bytes (then rewind it); see `check_type`."""
    head = await file.read(4096)
    await file.seek(0)
    return check_type(head, allowed, what)
