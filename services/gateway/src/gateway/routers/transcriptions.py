"""`POST /api/v1/transcriptions`: audio in, audio-service result (or text, srt, vtt) out."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, Query, Request, UploadFile

from ..deps import Auth, Jobs, Runner
from ..dispatch import dispatch, wants_async, wants_events
from ..openapi import event_stream, text_content
from ..operations import Transcription, TranscriptionOptions
from ..result_schemas import TranscriptionResult, TranscriptionStreamEvent, VerboseTranscription
from ..schemas import JobAccepted, error_responses
from ..uploads import AUDIO_TYPES, sniff_upload

router = APIRouter(tags=["transcriptions"])

TRANSCRIPTION_ERRORS = error_responses(400, 401, 403, 404, 413, 415, 422, 429, 502, 503, 504)


@router.post("/api/v1/transcriptions", response_model=TranscriptionResult | VerboseTranscription, responses={
    200: {"description": "the transcription by `response_format` (json, verbose_json, text, srt, vtt); with "
                         "stream=true server-sent events: info, segment..., done (or error)",
          "content": {**text_content("text/plain", "application/x-subrip", "text/vtt"),
                      **event_stream(TranscriptionStreamEvent,
                                     example='event: segment\ndata: {"segment": {...}, "progress": 0.4}\n\n')}},
    202: {"model": JobAccepted}, **TRANSCRIPTION_ERRORS})
async def create_transcription(
    request: Request,
    runner: Runner,
    jobs: Jobs,
    principal: Auth,
    file: Annotated[UploadFile, File(description="audio: wav, mp3, ogg, flac, m4a, webm")],
    language: Annotated[str | None, Form(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")] = None,
    task: Annotated[Literal["transcribe", "translate"], Form()] = "transcribe",
    word_timestamps: Annotated[bool, Form()] = False,
    vad_filter: Annotated[bool | None, Form()] = None,
    beam_size: Annotated[int | None, Form(ge=1, le=10)] = None,
    initial_prompt: Annotated[str | None, Form(max_length=2000)] = None,
    temperature: Annotated[float | None, Form(ge=0, le=1)] = None,
    response_format: Annotated[Literal["json", "text", "srt", "vtt", "verbose_json"], Form()] = "json",
    batched: Annotated[bool | None, Form(description="batched inference (VAD chunks, for long audio); "
                                     "unset: the service decides by length")] = None,
    stream: Annotated[bool, Form(description="answer server-sent events: info, a segment (with progress) "
                                 "per decoded segment, done; also chosen by `Accept: text/event-stream`")] = False,
    async_: Annotated[bool, Query(alias="async", description="run as a job (202)")] = False,
    prefer: Annotated[str | None, Header(description="`respond-async` runs it as a job")] = None,
):
    """Transcribe (or translate to English) an audio file with the transcription route."""
    route = runner.route_for("transcriptions", ("transcription",))
    await sniff_upload(file, AUDIO_TYPES, "an audio file (wav, mp3, ogg, flac, m4a, webm)")
    options = TranscriptionOptions(language=language, task=task, word_timestamps=word_timestamps or None,
                                   vad_filter=vad_filter, beam_size=beam_size, initial_prompt=initial_prompt,
                                   temperature=temperature, batched=batched)
    op = Transcription(route=route.name, options=options, format=response_format)
    stream = stream or wants_events(request)
    return await dispatch(runner, jobs, principal, route, op, file, wants_async(request, async_), stream)
