#!/usr/bin/env python3
"""Translation throughput: transformers vs CTranslate2 on the same model, and what the service
adds over calling the backend directly.

    $(bash scripts/venv.sh services/translation)/bin/python scripts/bench/translation.py \
        [--model DIR] [--sentences 128] [--batch-sizes 1,4,16,32] [--runs 5] [--threads 1]

Without `--model` it builds the tests' tiny random MarianMT (SentencePiece vocabulary trained on
the fly): its words are noise and its decoding runs to the length limit, so the figures compare
backends and overheads, not a real model's speed. With `--model` (a real opus-mt or NLLB
directory) the same runs measure that model.

1. Sentences/s by batch size for the transformers engine and the CTranslate2 engine (converted
   from the same directory by the service's own code), and their ratio.
2. The same sentences through `python -m translation_service` over HTTP (one text, one sentence
   per line, v1 predict) vs the service's backend called directly with the same batches, runs
   interleaved; prints both medians and the ratio (target: service/direct <= 1.10).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from kit.testing import ServerProcess, free_port  # noqa: E402
from translation_service.backends import load_engine  # noqa: E402
from translation_service.testmodel import build_tiny_marian, corpus  # noqa: E402
from translation_service.translator import Translator  # noqa: E402


def sentences(n: int) -> list[str]:
    base = corpus()[:-1]
    return [base[i % len(base)].replace(".", f" number {i}.") for i in range(n)]


def throughput(engine, texts: list[str], batch: int, runs: int, source: str, target: str) -> float:
    """Median sentences/s translating `texts` in batches of `batch` (texts sorted by length)."""
    ordered = sorted(texts, key=engine.count_tokens)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for i in range(0, len(ordered), batch):
            engine.translate(ordered[i:i + batch], source, target)
        times.append(time.perf_counter() - start)
    return len(texts) / statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="a transformers model directory (default: the tiny random MarianMT)")
    ap.add_argument("--sentences", type=int, default=128)
    ap.add_argument("--batch-sizes", default="1,4,16,32")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-translation-"))
    model = Path(args.model) if args.model else build_tiny_marian(tmp / "opus-mt-en-de-tiny")
    common = dict(device="cpu", compute_type="auto", threads=args.threads, beam_size=2, max_input_tokens=0,
                  ct2_dir=str(tmp / "ct2"))
    hf = load_engine(str(model), "transformers", **common)
    ct2 = load_engine(str(model), "ctranslate2", **common)
    source, target = hf.pairs()[0]
    texts = sentences(args.sentences)
    print(f"model: {model} ({hf.family}, {source}->{target}){' - tiny random model' if not args.model else ''}")
    print(f"{len(texts)} sentences, beam 2, {args.threads} CPU thread(s), median of {args.runs} runs")
    print(f"{'batch':>5} {'transformers s/s':>17} {'ctranslate2 s/s':>16} {'ct2/transformers':>17}")
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        a = throughput(hf, texts, batch, args.runs, source, target)
        b = throughput(ct2, texts, batch, args.runs, source, target)
        print(f"{batch:>5} {a:>17.1f} {b:>16.1f} {b / a:>17.2f}")

    # the service vs its backend called directly, same batching (max 16 sentences, 2048 tokens)
    batch_size, batch_tokens = 16, 2048
    port = free_port()
    env = {"TRANSLATION_PORT": str(port), "TRANSLATION_GRPC_PORT": str(free_port()), "TRANSLATION_MODEL": str(model),
           "TRANSLATION_BACKEND": "transformers", "TRANSLATION_CPU_THREADS": str(args.threads),
           "TRANSLATION_BEAM_SIZE": "2", "TRANSLATION_MAX_BATCH_SIZE": str(batch_size),
           "TRANSLATION_MAX_BATCH_TOKENS": str(batch_tokens), "TRANSLATION_LOG_LEVEL": "WARNING"}
    url = f"http://127.0.0.1:{port}"
    text = "\n".join(texts)
    planner = Translator([hf], batch_size, batch_tokens)
    batches = planner.batches(hf, texts)
    direct_t, service_t = [], []
    with ServerProcess([sys.executable, "-m", "translation_service"], env=env, ready_url=f"{url}/v2/health/ready",
                       name="translation", timeout=180), httpx.Client(timeout=600) as client:
        body = {"instances": [{"text": text, "source": source, "target": target}]}
        client.post(f"{url}/v1/models/translation:predict", json=body).raise_for_status()  # warm-up
        for _ in range(args.runs):
            start = time.perf_counter()
            for b in batches:
                hf.translate(b, source, target)
            direct_t.append(time.perf_counter() - start)
            start = time.perf_counter()
            r = client.post(f"{url}/v1/models/translation:predict", json=body)
            r.raise_for_status()
            service_t.append(time.perf_counter() - start)
            assert r.json()["predictions"][0]["text"].count("\n") == len(texts) - 1
    d, s = statistics.median(direct_t), statistics.median(service_t)
    print(f"service vs backend directly ({len(texts)} sentences, {len(batches)} batches): "
          f"direct {d:.3f} s ({len(texts) / d:.1f} s/s), service {s:.3f} s ({len(texts) / s:.1f} s/s), "
          f"ratio {s / d:.3f} (target <= 1.10: {'met' if s / d <= 1.10 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
