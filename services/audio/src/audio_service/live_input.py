"""Incremental decoders for live audio frames: raw 16 kHz PCM16 and the browser's Opus/WebM.

Both turn the bytes of binary WebSocket frames into 16 kHz mono float32 samples as they come.
WebM (MediaRecorder's output) is one container split over many frames, so PyAV reads it from
a blocking pipe in a thread of its own and hands decoded samples to a callback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import av
import numpy as np

from kit.logging import get_logger
from kit_kserve.errors import InvalidInput

from .audio import SAMPLE_RATE

logger = get_logger(__name__)

Sink = Callable[[np.ndarray], None]


class Pcm16Decoder:
    """Little-endian signed 16-bit mono at 16 kHz; a frame may split a sample in two."""

    def __init__(self, sink: Sink):
        self.sink = sink
        self._carry = b""

    def feed(self, data: bytes) -> None:
        data = self._carry + data
        cut = len(data) - len(data) % 2
        self._carry = data[cut:]
        if cut:
            self.sink(np.frombuffer(data[:cut], dtype="<i2").astype(np.float32) / 32768.0)

    def close(self, timeout: float = 0) -> None:
        self._carry = b""

    @property
    def error(self) -> Exception | None:
        return None


class _Pipe:
    """A blocking, non-seekable file for PyAV: `read` waits for `write` or `close`."""

    def __init__(self, max_bytes: int):
        self._chunks = bytearray()
        self._closed = False
        self._cond = threading.Condition()
        self.max_bytes = max_bytes

    def write(self, data: bytes) -> None:
        with self._cond:
            if len(self._chunks) + len(data) > self.max_bytes:
                raise InvalidInput("the decoder is behind by more than its buffer; send audio in real time",
                                   code="decoder_overrun")
            self._chunks += data
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def read(self, n: int = -1) -> bytes:
        with self._cond:
            while not self._chunks and not self._closed:
                self._cond.wait()
            n = len(self._chunks) if n is None or n < 0 else min(n, len(self._chunks))
            out = bytes(self._chunks[:n])
            del self._chunks[:n]
            return out


class WebmDecoder:
    """Opus (or Vorbis) in WebM/Matroska/Ogg, decoded while the frames arrive."""

    def __init__(self, sink: Sink, max_buffer_bytes: int = 4 * 1024 * 1024):
        self.sink = sink
        self._pipe = _Pipe(max_buffer_bytes)
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="live-webm", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            # small probe: the first audio comes out after a few hundred ms, not 5 s
            with av.open(self._pipe, mode="r", options={"probesize": "4096", "analyzeduration": "0"},
                         metadata_errors="ignore") as container:
                if not container.streams.audio:
                    raise ValueError(f"no audio stream (container {container.format.name})")
                resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
                for packet in container.demux(audio=0):
                    try:
                        frames = packet.decode()
                    except av.error.InvalidDataError:
                        continue
                    for frame in frames:
                        frame.pts = None
                        self._emit(resampler.resample(frame))
                self._emit(resampler.resample(None))
        except Exception as exc:  # PyAV raises FFmpegError subclasses, ValueError, OSError...
            logger.info("live webm decoding failed: %r", exc)
            self._error = exc
            self._pipe.close()

    def _emit(self, frames) -> None:
        for out in frames:
            self.sink(out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0)

    def feed(self, data: bytes) -> None:
        if self._error is not None:
            raise self.failure()
        self._pipe.write(data)

    def close(self, timeout: float = 10.0) -> None:
        """End of input: wait (up to `timeout`) until the rest is decoded."""
        self._pipe.close()
        self._thread.join(timeout)

    @property
    def error(self) -> Exception | None:
        return self._error

    def failure(self) -> InvalidInput:
        return InvalidInput(f"the audio frames are not WebM/Opus: {self._error}", code="not_audio")


def make_decoder(fmt: str, sink: Sink):
    """A decoder for the start message's `format`."""
    return Pcm16Decoder(sink) if fmt == "pcm16" else WebmDecoder(sink)
