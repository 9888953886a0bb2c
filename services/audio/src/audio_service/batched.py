"""Long audio: faster-whisper's BatchedInferencePipeline.

The pipeline cuts the audio at silences with Silero VAD (its ONNX model ships inside
faster-whisper) and decodes up to `AUDIO_BATCH_SIZE` chunks in one batch, instead of one 30 s
window after another conditioned on the previous text. It is used when a request asks for it
(`batched: true`) or, when the request does not say, for audio of `AUDIO_BATCHED_MIN_S` seconds or more.
"""

from __future__ import annotations

from faster_whisper import BatchedInferencePipeline, WhisperModel


def use_batched(requested: bool | None, duration: float, batched_min_s: float) -> bool:
    """The request's choice, else batched for audio at least `batched_min_s` long (0: never)."""
    if requested is not None:
        return requested
    return batched_min_s > 0 and duration >= batched_min_s


def batched_pipeline(whisper: WhisperModel) -> BatchedInferencePipeline:
    """A pipeline over a loaded model, one per request: it keeps word-timing state while decoding."""
    return BatchedInferencePipeline(model=whisper)
