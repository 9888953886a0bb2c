"""A live-transcription client: sends audio in real-time-sized chunks (optionally faster) and
records every message with the time it arrived. Used by the tests and `scripts/bench/audio.py`.

    result = asyncio.run(stream("ws://127.0.0.1:8001/v1/models/audio/live", wav_bytes_pcm16))
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import websockets

SAMPLE_RATE = 16000


@dataclass
class LiveResult:
    """Everything a session sent back, with arrival times (seconds after the first audio)."""

    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    speed: float = 1.0

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for _, e in self.events if e.get("type") == kind]

    @property
    def finals(self) -> list[dict[str, Any]]:
        return [e["segment"] for e in self.of("final")]

    @property
    def final_text(self) -> str:
        return " ".join(s["text"] for s in self.finals)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [e["error"] for e in self.of("error")]

    def word_latencies(self) -> list[tuple[float, float]]:
        """Per final word: (seconds from its end in the sent audio to its final text, to the
        first partial or final reaching its end). The audio time is the word's end timestamp;
        it was sent at `end / speed` after the first chunk."""
        out = []
        for arrived, event in self.events:
            if event.get("type") != "final":
                continue
            for w in event["segment"]["words"]:
                spoken = w["end"] / self.speed
                first = next((t for t, e in self.events if t <= arrived and e.get("type") in ("partial", "final")
                              and _end(e) >= w["end"] - 0.05), arrived)
                out.append((arrived - spoken, first - spoken))
        return out


def _end(event: dict[str, Any]) -> float:
    return event["segment"]["end"] if event.get("type") == "final" else event.get("end", 0.0)


def pcm16_of_wav(data: bytes) -> bytes:
    """The PCM16 frames of a 16 kHz mono 16-bit WAV."""
    import io
    import wave

    with wave.open(io.BytesIO(data)) as f:
        if f.getframerate() != SAMPLE_RATE or f.getnchannels() != 1 or f.getsampwidth() != 2:
            raise ValueError("need a 16 kHz mono 16-bit WAV")
        return f.readframes(f.getnframes())


async def stream(url: str, audio: bytes, *, fmt: str = "pcm16", chunk_s: float = 0.1, speed: float = 1.0,
                 headers: dict[str, str] | None = None, start: dict[str, Any] | None = None,
                 stop: bool = True, disconnect_after_s: float | None = None, duration_s: float | None = None,
                 timeout: float = 300.0) -> LiveResult:
    """Send `audio` (PCM16 bytes, or a whole WebM file with fmt="webm" and its `duration_s`)
    over a live session.

    Chunks are `chunk_s` seconds of audio (for WebM: the same share of the file), paced at
    `speed` times real time. `disconnect_after_s`: drop the connection after that much audio.
    """
    result = LiveResult(speed=speed)
    n = len(audio)
    seconds = n / 2 / SAMPLE_RATE if fmt == "pcm16" else duration_s
    if seconds is None:
        raise ValueError("give the WebM file's duration_s")
    step = max(2, int(n * chunk_s / seconds) // 2 * 2)
    async with websockets.connect(url, additional_headers=headers or {}, max_size=None,
                                  open_timeout=30) as ws:
        await ws.send(json.dumps(start or {"type": "start", "format": fmt, "sample_rate": SAMPLE_RATE}))
        t0 = time.monotonic()

        async def sender() -> None:
            for i in range(0, n, step):
                part = audio[i:i + step]
                audio_s = seconds * (i + len(part)) / n
                await asyncio.sleep(max(0.0, t0 + audio_s / speed - time.monotonic()))
                try:
                    await ws.send(part)
                except websockets.ConnectionClosed:
                    return
                if disconnect_after_s is not None and audio_s >= disconnect_after_s:
                    ws.transport.abort()
                    return
            if stop:
                try:
                    await ws.send(json.dumps({"type": "stop"}))
                except websockets.ConnectionClosed:
                    return

        task = asyncio.create_task(sender())
        try:
            async with asyncio.timeout(timeout):
                async for message in ws:
                    if isinstance(message, str):
                        result.events.append((time.monotonic() - t0, json.loads(message)))
        except websockets.ConnectionClosed:
            pass
        finally:
            task.cancel()
        result.close_code = ws.close_code
        result.close_reason = ws.close_reason or ""
    return result
