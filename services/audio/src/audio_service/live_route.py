"""The live-transcription WebSocket, `/v1/models/<name>/live` (protocol in the README).

The client sends a JSON `start` message, then binary audio frames, then `{"type": "stop"}`;
the service answers `partial`, `final`, `error` and `done` messages. A receiver task feeds the
decoder while a processor task steps the session in a worker thread whenever enough new audio
has arrived, so slow transcription never stops frames being read (the buffer is bounded).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from typing import Literal

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from prometheus_client import Gauge
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kit.logging import get_logger
from kit_kserve.errors import InvalidInput

from .live import LiveOptions, LiveSession
from .live_input import make_decoder
from .live_step import StepLoad
from .options import parse_options

logger = get_logger(__name__)

LIVE_SESSIONS = Gauge("aip_live_sessions", "Live transcription sessions open now", ["model"])

# close codes (RFC 6455 and the registered 1013)
NORMAL, PROTOCOL, INTERNAL, BUSY = 1000, 1008, 1011, 1013


class StartMessage(BaseModel):
    """The first message of a live session."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["start"]
    format: Literal["pcm16", "webm"] = "pcm16"
    sample_rate: Literal[16000] = Field(16000, description="pcm16 only: the one rate accepted")
    language: str | None = None


class LiveClosed(Exception):
    """End the session with an error message and a close code."""

    def __init__(self, code: str, message: str, close_code: int = PROTOCOL):
        super().__init__(message)
        self.code, self.message, self.close_code = code, message, close_code


async def _send_error(ws: WebSocket, exc: LiveClosed) -> None:
    with contextlib.suppress(Exception):
        await ws.send_json({"type": "error", "error": {"code": exc.code, "message": exc.message}})
        await ws.close(exc.close_code, exc.message[:120])


def parse_start(text: str | None, english_only: bool) -> StartMessage:
    """Validate the start message; raise LiveClosed naming what is wrong."""
    if text is None:
        raise LiveClosed("invalid_message", "the first message must be a JSON start message, not binary audio")
    try:
        start = StartMessage.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "message"
        raise LiveClosed("invalid_message", f"start message: {where}: {err['msg']}") from None
    try:
        parse_options({"language": start.language}, english_only)
    except InvalidInput as exc:
        raise LiveClosed(exc.code, str(exc)) from None
    return start


class LiveHandler:
    """One WebSocket session: receive, decode, step, send."""

    def __init__(self, ws: WebSocket, model, start: StartMessage, load: StepLoad | None = None):
        s = model.settings
        self.ws, self.model, self.settings = ws, model, s
        language = parse_options({"language": start.language}, model.english_only).language
        if model.english_only:
            language = "en"
        self.session = LiveSession(model.whisper, LiveOptions(
            language=language, step_s=s.live_step_s, max_step_s=s.live_max_step_s, settle_s=s.live_settle_s,
            max_backlog_s=s.live_max_backlog_s, trim_s=s.live_trim_s, max_buffer_s=s.live_max_buffer_s), load=load)
        self.wake = asyncio.Event()
        loop = asyncio.get_running_loop()

        def sink(samples) -> None:
            self.session.append(samples)
            loop.call_soon_threadsafe(self.wake.set)

        self.decoder = make_decoder(start.format, sink)
        self.stopped = False

    def _step(self, final: bool):
        self.model.renice_current_thread()
        return self.session.step(final)

    async def _send(self, events) -> None:
        for event in events:
            await self.ws.send_json(event)

    async def receive(self) -> None:
        """Feed binary frames to the decoder until `stop` (or the limit)."""
        while True:
            msg = await self.ws.receive()
            if msg["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(msg.get("code", 1000))
            if msg.get("bytes") is not None:
                try:
                    await asyncio.to_thread(self.decoder.feed, msg["bytes"])
                except InvalidInput as exc:
                    raise LiveClosed(exc.code, str(exc)) from None
                if self.session.duration > self.settings.live_max_duration_s:
                    raise LiveClosed("audio_too_long", f"a live session takes at most "
                                     f"{self.settings.live_max_duration_s:.0f} s of audio (AUDIO_LIVE_MAX_DURATION_S)")
                continue
            try:
                kind = json.loads(msg.get("text") or "").get("type")
            except (ValueError, AttributeError):
                kind = None
            if kind == "stop":
                return
            raise LiveClosed("invalid_message", "after start, send binary audio frames and then {\"type\": \"stop\"}")

    async def process(self) -> None:
        """Step the session whenever enough audio is in (its adaptive step) and the previous
        step is done, until stopped; audio keeps arriving meanwhile."""
        while not self.stopped:
            await self.wake.wait()
            self.wake.clear()
            if self.session.due():
                await self._send(await asyncio.to_thread(self._step, False))

    async def finish(self) -> None:
        """Decode the rest, make every remaining word final, say done."""
        await asyncio.to_thread(self.decoder.close)
        if self.decoder.error is not None and self.session.received == 0:
            raise LiveClosed("not_audio", str(self.decoder.failure()))
        await self._send(await asyncio.to_thread(self._step, True))
        text = " ".join(w.text for w in self.session.agreement.committed)
        await self.ws.send_json({"type": "done", "text": text, "duration": round(self.session.duration, 3)})
        await self.ws.close(NORMAL)

    async def run(self) -> None:
        processor = asyncio.create_task(self.process())
        try:
            receiver = asyncio.create_task(self.receive())
            done, _ = await asyncio.wait({receiver, processor}, return_when=asyncio.FIRST_COMPLETED)
            if processor in done:  # it only ends by raising
                receiver.cancel()
                processor.result()
            receiver.result()
            self.stopped = True
            self.wake.set()
            await processor  # let a running step end before the last one
            await self.finish()
        finally:
            self.stopped = True
            self.wake.set()
            processor.cancel()
            with contextlib.suppress(BaseException):
                await processor
            self.decoder.close(timeout=0)


def live_router(model) -> APIRouter:
    """The WebSocket route for `model` (an AudioModel)."""
    router = APIRouter()
    active = {"n": 0}
    lock = threading.Lock()
    load = StepLoad()  # step times of all sessions: a new session starts from them

    @router.websocket("/v1/models/{model_name}/live")
    async def live(ws: WebSocket, model_name: str) -> None:
        await ws.accept()
        if model_name != model.name:
            await _send_error(ws, LiveClosed("model_not_found", f"no model '{model_name}'; this service serves "
                                             f"'{model.name}'", PROTOCOL))
            return
        if model.whisper is None:
            await _send_error(ws, LiveClosed("model_not_ready", "the model is not loaded yet", BUSY))
            return
        with lock:
            full = active["n"] >= model.settings.live_max_sessions
            if not full:
                active["n"] += 1
        if full:
            await _send_error(ws, LiveClosed("too_many_sessions", f"{model.settings.live_max_sessions} live sessions "
                                             "are open (AUDIO_LIVE_MAX_SESSIONS); try again later", BUSY))
            return
        LIVE_SESSIONS.labels(model.name).inc()
        try:
            try:
                first = await asyncio.wait_for(ws.receive(), model.settings.live_start_timeout_s)
            except TimeoutError:
                raise LiveClosed("start_timeout", "no start message within "
                                 f"{model.settings.live_start_timeout_s:g} s") from None
            if first["type"] == "websocket.disconnect":
                return
            start = parse_start(first.get("text"), model.english_only)
            logger.info("live session started (%s, language %s)", start.format, start.language or "auto")
            handler = LiveHandler(ws, model, start, load)
            with load.session():
                await handler.run()
            st = handler.session.stepper
            logger.info("live session done: %.1f s of audio, %d steps (last step %.2f s, interval %.2f s, %d behind), "
                        "%.1f s skipped", handler.session.duration, st.steps, st.average_s, st.interval_s, st.behind,
                        handler.session.skipped_s)
        except LiveClosed as exc:
            logger.info("live session closed: %s", exc.code)
            await _send_error(ws, exc)
        except WebSocketDisconnect:
            logger.info("live client disconnected")
        except Exception:
            logger.exception("live session failed")
            await _send_error(ws, LiveClosed("internal", "the live session failed", INTERNAL))
        finally:
            with lock:
                active["n"] -= 1
            LIVE_SESSIONS.labels(model.name).dec()

    return router
