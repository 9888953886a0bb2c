"""Decoded segments as they come: one generator for the whole answer, the SSE stream and live
sessions alike.

`transcribe_iter` picks sequential or batched inference (see `batched.use_batched`), starts
faster-whisper and returns its info plus a generator of segment dicts in the documented shape;
faster-whisper decodes lazily, so each segment is yielded as soon as its window (or batch) is
done, and the caller's cancellation is checked before every next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from faster_whisper import WhisperModel

from kit_kserve.cancellation import raise_if_cancelled

from .batched import batched_pipeline, use_batched
from .options import TranscribeOptions


def _r(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


@dataclass
class Transcription:
    """A started transcription: what faster-whisper found out first, and the segments to come."""

    language: str
    language_probability: float
    duration: float
    batched: bool
    segments: Iterator[dict[str, Any]]

    def header(self) -> dict[str, Any]:
        return {"language": self.language, "language_probability": self.language_probability,
                "duration": self.duration, "batched": self.batched}


def segment_dict(seg, index: int, words: bool) -> dict[str, Any]:
    """One faster-whisper Segment as the service documents it (`id` counts from 0 in order)."""
    item: dict[str, Any] = {
        "id": index,
        "start": _r(seg.start, 2),
        "end": _r(seg.end, 2),
        "text": seg.text.strip(),
        "avg_logprob": _r(seg.avg_logprob, 4),
        "no_speech_prob": _r(seg.no_speech_prob, 4),
    }
    if words:
        item["words"] = [
            {"start": _r(w.start, 2), "end": _r(w.end, 2), "word": w.word.strip(), "probability": _r(w.probability, 4)}
            for w in seg.words or []
        ]
    return item


def transcribe_iter(whisper: WhisperModel, samples, duration: float, opts: TranscribeOptions,
                    batch_size: int, batched_min_s: float) -> Transcription:
    """Start transcribing decoded samples; segments are decoded while the caller iterates."""
    batched = use_batched(opts.batched, duration, batched_min_s)
    if batched:
        segments, info = batched_pipeline(whisper).transcribe(samples, batch_size=batch_size,
                                                              **opts.transcribe_kwargs(batched=True))
    else:
        segments, info = whisper.transcribe(samples, **opts.transcribe_kwargs())

    def generate() -> Iterator[dict[str, Any]]:
        for i, seg in enumerate(segments):  # a generator: decoding happens while iterating
            raise_if_cancelled()  # the caller has gone: stop before the next window
            yield segment_dict(seg, i, opts.word_timestamps)

    return Transcription(info.language, _r(info.language_probability, 4), _r(duration, 3), batched, generate())


def result_of(started: Transcription, segments: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole answer (as `:predict` gives it) from a started transcription and its segments."""
    return {
        "text": " ".join(s["text"] for s in segments if s["text"]),
        "language": started.language,
        "language_probability": started.language_probability,
        "duration": started.duration,
        "segments": segments,
    }
