"""Stop work whose caller has gone.

`DisconnectWatchMiddleware` gives each HTTP request a `threading.Event` (in a contextvar that
`BoundedExecutor` carries into its worker threads) and sets it when the client disconnects
after sending its body. Work checks it at natural breaks (between pages, between whisper
segments) with `raise_if_cancelled()`; `BoundedExecutor` drops queued work whose event is set.
"""

from __future__ import annotations

import asyncio
import threading
from contextvars import ContextVar

from kit.logging import get_logger

from .errors import InvalidInput

logger = get_logger(__name__)

cancel_event_var: ContextVar[threading.Event | None] = ContextVar("cancel_event", default=None)


class ClientGone(InvalidInput):
    """The caller disconnected (or the request was abandoned); the work was stopped (499)."""

    status = 499
    default_code = "client_closed_request"

    def __init__(self, message: str = "the client closed the connection; the work was stopped", code=None):
        super().__init__(message, code)


def cancelled() -> bool:
    event = cancel_event_var.get()
    return event is not None and event.is_set()


def raise_if_cancelled() -> None:
    """Raise ClientGone when this request's caller has gone (call between units of work)."""
    if cancelled():
        raise ClientGone()


def new_request_event() -> threading.Event:
    """A fresh cancellation event for the current context (what the middleware does per request)."""
    event = threading.Event()
    cancel_event_var.set(event)
    return event


class DisconnectWatchMiddleware:
    """Pure ASGI middleware: once a request's body is read, watch for `http.disconnect`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        event = threading.Event()
        token = cancel_event_var.set(event)
        watcher: asyncio.Task | None = None
        body_done = False
        status = {"sent": False}

        async def watch():
            message = await receive()
            if message["type"] == "http.disconnect" and not status["sent"]:
                logger.info("client disconnected before the response; cancelling its work")
                event.set()
            return message

        async def wrapped_receive():
            nonlocal watcher, body_done
            if body_done:
                if watcher is None:
                    watcher = asyncio.ensure_future(watch())
                return await asyncio.shield(watcher)
            message = await receive()
            if message["type"] == "http.disconnect":
                event.set()
            elif not message.get("more_body", False):
                body_done = True
                watcher = asyncio.ensure_future(watch())
            return message

        async def wrapped_send(message):
            if message["type"] == "http.response.start":
                status["sent"] = True
            await send(message)

        try:
            await self.app(scope, wrapped_receive, wrapped_send)
        finally:
            cancel_event_var.reset(token)
            if watcher is not None and not watcher.done():
                watcher.cancel()

