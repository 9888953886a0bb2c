"""OpenAI-compatible `/v1/audio/transcriptions` and `/v1/audio/translations`: existing OpenAI
clients work by changing the base URL to `<gateway>/v1`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, Query, Request, UploadFile

from ..deps import Auth, Jobs, Runner
from ..dispatch import dispatch, wants_async
from ..openapi import event_stream, text_content
from ..operations import (OpenAITranscription, OpenAITranscriptionOptions, OpenAITranslation,
                          OpenAITranslationOptions)
from ..result_schemas import OpenAITranscription as OpenAITranscriptionOut
from ..result_schemas import VerboseTranscription
from ..schemas import JobAccepted, error_responses
from ..uploads import AUDIO_TYPES, sniff_upload

router = APIRouter(tags=["openai"])

Format = Literal["json", "text", "srt", "verbose_json", "vtt"]
TEXT = text_content("text/plain", "application/x-subrip", "text/vtt")
ERRORS = {202: {"model": JobAccepted}, **error_responses(400, 401, 403, 404, 413, 415, 422, 429, 502, 503, 504)}


@router.post("/v1/audio/transcriptions", response_model=OpenAITranscriptionOut | VerboseTranscription, responses={
    200: {"description": "by `response_format`; with stream=true server-sent events: transcript.text.delta..., "
                         "transcript.text.done (or an error event)",
          "content": {**TEXT, **event_stream(example='event: transcript.text.delta\ndata: {"type": "transcript.text.delta", "delta": "Hi"}\n\n')}},
    **ERRORS})
async def openai_transcriptions(
    request: Request,
    runner: Runner,
    jobs: Jobs,
    principal: Auth,
    file: Annotated[UploadFile, File()],
    model: Annotated[str, Form(min_length=1, max_length=100)],
    language: Annotated[str | None, Form(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")] = None,
    prompt: Annotated[str | None, Form(max_length=2000)] = None,
    response_format: Annotated[Format, Form()] = "json",
    temperature: Annotated[float | None, Form(ge=0, le=1)] = None,
    timestamp_granularities: Annotated[list[Literal["word", "segment"]] | None,
                                       Form(alias="timestamp_granularities[]")] = None,
    stream: Annotated[bool, Form(description="answer server-sent events: transcript.text.delta per "
                                 "decoded segment, then transcript.text.done")] = False,
    async_: Annotated[bool, Query(alias="async")] = False,
    prefer: Annotated[str | None, Header()] = None,
):
    """OpenAI `audio.transcriptions.create` (`stream=true`: `text/event-stream`)."""
    route = runner.route_for_model("transcription", model)
    await sniff_upload(file, AUDIO_TYPES, "an audio file (wav, mp3, ogg, flac, m4a, webm)")
    words = bool(timestamp_granularities and "word" in timestamp_granularities)
    options = OpenAITranscriptionOptions(language=language, initial_prompt=prompt, temperature=temperature,
                                         word_timestamps=words or None)
    op = OpenAITranscription(route=route.name, options=options, format=response_format)
    return await dispatch(runner, jobs, principal, route, op, file, wants_async(request, async_), stream)


@router.post("/v1/audio/translations", response_model=OpenAITranscriptionOut | VerboseTranscription,
             responses={200: {"description": "English text by `response_format`", "content": TEXT}, **ERRORS})
async def openai_translations(
    request: Request,
    runner: Runner,
    jobs: Jobs,
    principal: Auth,
    file: Annotated[UploadFile, File()],
    model: Annotated[str, Form(min_length=1, max_length=100)],
    prompt: Annotated[str | None, Form(max_length=2000)] = None,
    response_format: Annotated[Format, Form()] = "json",
    temperature: Annotated[float | None, Form(ge=0, le=1)] = None,
    async_: Annotated[bool, Query(alias="async")] = False,
    prefer: Annotated[str | None, Header()] = None,
):
    """OpenAI `audio.translations.create`: speech in any language to English text."""
    route = runner.route_for_model("transcription", model)
    await sniff_upload(file, AUDIO_TYPES, "an audio file (wav, mp3, ogg, flac, m4a, webm)")
    options = OpenAITranslationOptions(initial_prompt=prompt, temperature=temperature)
    op = OpenAITranslation(route=route.name, options=options, format=response_format)
    return await dispatch(runner, jobs, principal, route, op, file, wants_async(request, async_))
