"""Real speech for tests and the benchmark: espeak-ng sentences, resampled by sox to 16 kHz mono.

Needs the Debian packages `espeak-ng` and `sox` (services/audio/apt.txt). Formats sox lacks
(mp3, m4a, webm) are encoded with PyAV.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import av

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please send the quarterly report to the finance team by Friday.",
    "The weather today is sunny with a light breeze from the west.",
    "She bought fresh bread and cheese at the market on her way home.",
    "Learning a new language takes patience and practice.",
    "Remember to turn off the lights when you leave the office.",
    "Our new product will be available in stores next month.",
    "The children played football in the park after school.",
]

# PyAV encoders for the formats sox does not write here
_AV_FORMATS = {"mp3": ("mp3", "libmp3lame"), "m4a": ("ipod", "aac"), "webm": ("webm", "libopus")}


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise RuntimeError(f"{tool} is not installed (apt-get install {tool}; see services/audio/apt.txt)")
    return path


def speak(text: str, out: Path, voice: str = "en-us", words_per_minute: int = 150) -> Path:
    """Say `text` with espeak-ng into `out`, a 16 kHz mono 16-bit WAV."""
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run([_need("espeak-ng"), "-v", voice, "-s", str(words_per_minute), "-w", str(raw), text],
                       check=True, capture_output=True)
        subprocess.run([_need("sox"), str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)],
                       check=True, capture_output=True)
    return out


def _spoken_parts(tmp: Path, gap_s: float) -> tuple[list[Path], Path]:
    """Each sentence spoken into `tmp`, and a WAV of `gap_s` seconds of silence."""
    parts = [speak(s, tmp / f"s{i}.wav") for i, s in enumerate(SENTENCES)]
    gap = tmp / "gap.wav"
    subprocess.run([_need("sox"), "-n", "-r", "16000", "-c", "1", "-b", "16", str(gap), "trim", "0", str(gap_s)],
                   check=True, capture_output=True)
    return parts, gap


def long_clip(out: Path, seconds: float = 60.0, gap_s: float = 0.4) -> Path:
    """A WAV of `seconds` seconds: the sentences spoken in turn, with short gaps, cut to length."""
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        parts, gap = _spoken_parts(Path(tmp), gap_s)
        total = sum(float(subprocess.run([_need("sox"), "--i", "-D", str(p)], check=True, capture_output=True,
                                         text=True).stdout) + gap_s for p in parts)
        rounds = int(seconds // total) + 1
        seq = [str(x) for _ in range(rounds) for p in parts for x in (p, gap)]
        subprocess.run([_need("sox"), *seq, str(out), "trim", "0", str(seconds)], check=True, capture_output=True)
    return out


def spoken_rounds(out: Path, rounds: int, gap_s: float = 0.6) -> tuple[Path, str]:
    """The sentences spoken in turn `rounds` times (whole sentences, short gaps) and its reference
    text: long speech with a known transcript, for accuracy over long audio."""
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        parts, gap = _spoken_parts(Path(tmp), gap_s)
        one = Path(tmp) / "round.wav"
        subprocess.run([_need("sox"), *[str(x) for p in parts for x in (p, gap)], str(one)], check=True,
                       capture_output=True)
        subprocess.run([_need("sox"), *[str(one)] * rounds, str(out)], check=True, capture_output=True)
    return out, " ".join(SENTENCES * rounds)


def convert(wav: Path, out: Path) -> Path:
    """Re-encode a WAV into the format of `out`'s suffix (flac/ogg by sox, mp3/m4a/webm by PyAV)."""
    wav, out = Path(wav), Path(out)
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in _AV_FORMATS:
        subprocess.run([_need("sox"), str(wav), str(out)], check=True, capture_output=True)
        return out
    container_fmt, codec = _AV_FORMATS[fmt]
    with av.open(str(wav)) as src, av.open(str(out), "w", format=container_fmt) as dst:
        rate = 48000 if codec == "libopus" else 16000
        stream = dst.add_stream(codec, rate=rate, layout="mono")
        stream.bit_rate = 64000  # the encoders' defaults (24 kb/s for mp3) audibly degrade speech
        resampler = av.audio.resampler.AudioResampler(format=stream.format.name, layout="mono", rate=rate)
        fifo = av.audio.fifo.AudioFifo()
        size = stream.codec_context.frame_size or 1024

        def encode_all(frame) -> None:
            for packet in stream.encode(frame):
                dst.mux(packet)

        for frame in src.decode(audio=0):
            frame.pts = None
            for res in resampler.resample(frame):
                fifo.write(res)
            while fifo.samples >= size:
                encode_all(fifo.read(size))
        for res in resampler.resample(None):
            fifo.write(res)
        if fifo.samples:
            encode_all(fifo.read())
        encode_all(None)
    return out


def wer(refs: list[str], hyps: list[str]) -> float:
    """Word error rate over (reference, hypothesis) pairs, case and punctuation ignored (jiwer)."""
    import jiwer

    norm = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                          jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])
    return jiwer.wer(refs, hyps, reference_transform=norm, hypothesis_transform=norm)
