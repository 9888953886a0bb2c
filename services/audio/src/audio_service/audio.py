"""Decode uploaded audio bytes (wav, mp3, flac, ogg, webm, m4a, ...) to 16 kHz mono float32.

PyAV (FFmpeg libraries bundled in its wheel) does the work, as in faster-whisper's
`decode_audio`, with three additions: bad bytes become a 400 with a stable code, the duration
limit is checked from the container header and again while decoding (so an over-long upload is
refused before it is decoded whole or transcribed), and a file that decodes to much less than
its header declares is reported as truncated.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import numpy as np

from kit.logging import get_logger
from kit_kserve.errors import InvalidInput

logger = get_logger(__name__)

SAMPLE_RATE = 16000
FORMATS = "wav, mp3, flac, ogg, webm, m4a"
# a file decoding to less than this share of its declared duration (and a second short) is truncated
_TRUNCATED_RATIO = 0.9
_GROUP_SAMPLES = 500_000


@dataclass
class DecodedAudio:
    """Mono float32 samples at 16 kHz and their duration in seconds."""

    samples: np.ndarray
    duration: float


def _too_long(seconds: float, limit: float) -> InvalidInput:
    return InvalidInput(
        f"audio is {seconds:.1f} s long; the limit is {limit:.0f} s (AUDIO_MAX_DURATION_S)",
        code="audio_too_long",
    )


def _not_audio(detail: str) -> InvalidInput:
    return InvalidInput(f"the bytes are not audio in a supported format ({FORMATS}): {detail}", code="not_audio")


def _riff_truncated(data: bytes) -> str | None:
    """For WAV (RIFF) files, which FFmpeg decodes up to wherever they stop: a message if cut short."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    declared = int.from_bytes(data[4:8], "little") + 8
    if declared in (8, 0xFFFFFFFF + 8):  # streaming writers leave the size unknown
        return None
    if declared - len(data) > 64:
        return f"the file is truncated: its WAV header declares {declared} bytes but {len(data)} arrived"
    return None


def _declared_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _frames(container, max_duration_s: float):
    """Decoded frames of the first audio stream; skips invalid frames; enforces the limit."""
    seconds = 0.0
    it = container.decode(audio=0)
    while True:
        try:
            frame = next(it)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue
        seconds += frame.samples / (frame.sample_rate or SAMPLE_RATE)
        if seconds > max_duration_s:
            raise _too_long(seconds, max_duration_s)
        frame.pts = None
        yield frame


def decode(data: bytes, max_duration_s: float) -> DecodedAudio:
    """Decode `data` to 16 kHz mono; raise InvalidInput (400) for anything unusable."""
    truncated = _riff_truncated(data)
    if truncated:
        raise InvalidInput(truncated, code="truncated_audio")
    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")
    except Exception as exc:  # PyAV raises FFmpegError subclasses, ValueError, OSError...
        logger.debug("av.open failed: %r", exc)
        raise _not_audio(str(exc) or type(exc).__name__) from None
    try:
        if not container.streams.audio:
            raise _not_audio(f"no audio stream (container {container.format.name})")
        stream = container.streams.audio[0]
        declared = _declared_duration(container, stream)
        if declared is not None and declared > max_duration_s:
            raise _too_long(declared, max_duration_s)
        resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        fifo = av.audio.fifo.AudioFifo()
        chunks: list[np.ndarray] = []

        def drain(frame) -> None:
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))

        try:
            for frame in _frames(container, max_duration_s):
                fifo.write(frame)
                if fifo.samples >= _GROUP_SAMPLES:
                    drain(fifo.read())
            if fifo.samples:
                drain(fifo.read())
            drain(None)
        except InvalidInput:
            raise
        except Exception as exc:
            logger.debug("decoding failed: %r", exc)
            raise _not_audio(f"decoding failed: {exc}") from None
    finally:
        container.close()
    samples = (np.concatenate(chunks) if chunks else np.zeros(0, np.int16)).astype(np.float32) / 32768.0
    duration = samples.size / SAMPLE_RATE
    if samples.size == 0:
        raise InvalidInput("the file holds no decodable audio (empty or truncated)", code="truncated_audio")
    if declared is not None and duration < declared * _TRUNCATED_RATIO and declared - duration > 1.0:
        raise InvalidInput(
            f"the file is truncated: it declares {declared:.1f} s of audio but holds {duration:.1f} s",
            code="truncated_audio",
        )
    if duration > max_duration_s:
        raise _too_long(duration, max_duration_s)
    return DecodedAudio(samples, duration)
