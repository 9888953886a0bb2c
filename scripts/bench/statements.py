#!/usr/bin/env python3
"""Benchmark of vlm-service's statement extraction on synthetic statements with ground truth.

Per layout and overall, for text PDFs and scans: transaction F1 (a transaction matches when its
date, cent-exact signed amount and normalised description match), the share of statements
that reconcile (every running balance and opening + sum = closing), pages per second and
seconds per page; side by side with monopoly-core's generic parser on the same text PDFs
(installed in a throwaway venv under the cache dir; needs Debian's poppler-utils and
libpoppler-cpp-dev).

    $(bash scripts/venv.sh services/vlm)/bin/python scripts/bench/statements.py [--seeds 5] [--scan-seeds 2]

Targets: F1 >= 0.99 on text PDFs, >= 0.95 on scans; text PDFs >= 20 pages/s on one core;
scans <= 3 s per page.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from vlm_service.normalize import fold  # noqa: E402
from vlm_service.pipeline import Pipeline  # noqa: E402
from vlm_service.settings import Settings  # noqa: E402
from vlm_service.synth import LAYOUTS, make_statement, render_pdf, scan_pdf  # noqa: E402

MONOPOLY = "monopoly-core==0.23.4"
MONOPOLY_RUNNER = r'''
import json, sys, time, logging
logging.disable(logging.CRITICAL)
from monopoly.generic import GenericBank
from monopoly.pdf import PdfDocument, PdfParser
from monopoly.pipeline import Pipeline
out = []
for path in sys.argv[1:]:
    start = time.perf_counter()
    try:
        parser = PdfParser(GenericBank, PdfDocument(path))
        pipe = Pipeline(parser)
        stmt = pipe.extract(safety_check=False)
        txns = pipe.transform(stmt)
        rows = [{"date": t.date, "description": t.description, "amount": "%.2f" % t.amount} for t in txns]
        err = None
    except Exception as exc:
        rows, err = [], type(exc).__name__
    out.append({"path": path, "transactions": rows, "error": err, "seconds": time.perf_counter() - start})
print(json.dumps(out))
'''


def key(t: dict) -> tuple:
    return t["date"], t["amount"], fold(t["description"] or "")


def counts(got: list[dict], want: list[dict]) -> tuple[int, int, int]:
    """(true positives, predicted, expected) with multiset matching."""
    pool = defaultdict(int)
    for t in want:
        pool[key(t)] += 1
    tp = 0
    for t in got:
        k = key(t)
        if pool[k] > 0:
            pool[k] -= 1
            tp += 1
    return tp, len(got), len(want)


def f1(tp: int, pred: int, exp: int) -> float:
    return 2 * tp / (pred + exp) if pred + exp else 1.0


class Tally:
    def __init__(self):
        self.tp = self.pred = self.exp = self.stmts = self.reconciled = self.pages = 0
        self.seconds = self.cpu = 0.0

    def add(self, c, reconciled: bool, pages: int, seconds: float, cpu: float = 0.0):
        self.tp += c[0]
        self.pred += c[1]
        self.exp += c[2]
        self.stmts += 1
        self.reconciled += reconciled
        self.pages += pages
        self.seconds += seconds
        self.cpu += cpu

    def row(self) -> dict:
        return {"f1": round(f1(self.tp, self.pred, self.exp), 4), "reconcile": round(self.reconciled / max(1, self.stmts), 3),
                "statements": self.stmts, "pages": self.pages,
                "pages_per_s": round(self.pages / self.seconds, 2) if self.seconds else None,
                "s_per_page": round(self.seconds / self.pages, 3) if self.pages else None,
                "cpu_s_per_page": round(self.cpu / self.pages, 3) if self.pages else None}


def run_ours(pipeline: Pipeline, docs: list[tuple[str, bytes, dict]]) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    for layout, data, truth in docs:
        start, cpu = time.perf_counter(), time.process_time()
        result = pipeline.run(data, {})
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        ok = result["checks"]["running_balance_ok"] and result["checks"]["totals_reconcile"]
        c = counts(result["transactions"], truth["transactions"])
        for name in (layout, "ALL"):
            tallies[name].add(c, ok, result["pages"], seconds, cpu)
    return tallies


def monopoly_venv() -> Path | None:
    cache = Path(os.environ.get("AIP_CACHE", Path.home() / ".cache" / "ai-platform")) / "bench" / "monopoly"
    py = cache / "bin" / "python"
    if (cache / ".complete").exists():
        return py
    print(f"installing {MONOPOLY} into {cache} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(cache)], check=True)
    res = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", MONOPOLY],
                         capture_output=True, text=True)
    if res.returncode != 0:
        print(f"monopoly-core could not be installed (it needs poppler-utils and libpoppler-cpp-dev):\n"
              f"{res.stderr[-1500:]}", file=sys.stderr)
        return None
    (cache / ".complete").touch()
    return py


def run_monopoly(docs: list[tuple[str, bytes, dict]]) -> tuple[dict[str, Tally], str | None]:
    py = monopoly_venv()
    if py is None:
        return {}, "not installed"
    tallies: dict[str, Tally] = defaultdict(Tally)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (layout, data, truth) in enumerate(docs):
            p = Path(tmp) / f"{i:04d}-{layout}.pdf"
            p.write_bytes(data)
            paths.append(str(p))
        res = subprocess.run([str(py), "-c", MONOPOLY_RUNNER, *paths], capture_output=True, text=True)
        if res.returncode != 0:
            return {}, f"failed: {res.stderr[-500:]}"
        outputs = json.loads(res.stdout.strip().splitlines()[-1])
    errors = defaultdict(int)
    for (layout, data, truth), out in zip(docs, outputs):
        c = counts(out["transactions"], truth["transactions"])
        if out["error"]:
            errors[out["error"]] += 1
        import pypdfium2 as pdfium

        pages = len(pdfium.PdfDocument(data))
        for name in (layout, "ALL"):
            tallies[name].add(c, False, pages, out["seconds"])
    note = ", ".join(f"{k} x{v}" for k, v in errors.items()) or None
    return tallies, note


def table(title: str, ours: dict[str, Tally], theirs: dict[str, Tally] | None = None) -> None:
    print(f"\n{title}")
    head = (f"{'layout':15s} {'F1':>7s} {'reconcile':>9s} {'stmts':>5s} {'pages':>5s} {'pages/s':>8s} {'s/page':>7s}"
            f" {'cpu s/page':>10s}")
    if theirs is not None:
        head += f" | {'monopoly F1':>11s} {'pages/s':>8s}"
    print(head)
    for name in [*sorted(k for k in ours if k != "ALL"), "ALL"]:
        r = ours[name].row()
        line = (f"{name:15s} {r['f1']:7.4f} {r['reconcile']:9.3f} {r['statements']:5d} {r['pages']:5d} "
                f"{r['pages_per_s'] or 0:8.2f} {r['s_per_page'] or 0:7.3f} {r['cpu_s_per_page'] or 0:10.3f}")
        if theirs is not None:
            m = theirs.get(name)
            line += f" | {m.row()['f1']:11.4f} {m.row()['pages_per_s'] or 0:8.2f}" if m else f" | {'n/a':>11s}"
        print(line)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5, help="text statements per layout")
    ap.add_argument("--scan-seeds", type=int, default=2, help="scanned statements per layout")
    ap.add_argument("--layouts", default=",".join(sorted(LAYOUTS)))
    ap.add_argument("--no-monopoly", action="store_true")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    layouts = args.layouts.split(",")
    pipeline = Pipeline(Settings(_env_file=None))

    text_docs, scan_docs = [], []
    for layout in layouts:
        for seed in range(args.seeds):
            stmt = make_statement(layout, seed)
            text_docs.append((layout, render_pdf(stmt), stmt.truth()))
        for seed in range(args.scan_seeds):
            stmt = make_statement(layout, 100 + seed)
            scan_docs.append((layout, scan_pdf(render_pdf(stmt), seed), stmt.truth()))

    pipeline.run(text_docs[0][1], {})  # warm up (imports)
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})  # text PDFs: one core
    text = run_ours(pipeline, text_docs)
    os.sched_setaffinity(0, cores)
    mono, note = ({}, "skipped") if args.no_monopoly else run_monopoly(text_docs)
    table("TEXT PDFs (vlm-service | monopoly-core generic parser)", text, mono)
    if note:
        print(f"monopoly-core: {note}")
    scans = run_ours(pipeline, scan_docs) if scan_docs else {}
    if scans:
        table(f"SCANS (150-200 dpi, rotated, noisy; {os.cpu_count()} cores for OCR)", scans)
    t, s = text["ALL"].row(), scans["ALL"].row() if scans else None
    print(f"\nTARGETS (load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"  text F1 {t['f1']:.4f} (>= 0.99)  {'OK' if t['f1'] >= 0.99 else 'MISSED'}")
    print(f"  text pages/s {t['pages_per_s']:.1f} (>= 20, one core)  {'OK' if t['pages_per_s'] >= 20 else 'MISSED'}")
    if s:
        print(f"  scan F1 {s['f1']:.4f} (>= 0.95)  {'OK' if s['f1'] >= 0.95 else 'MISSED'}")
        print(f"  scan s/page {s['s_per_page']:.2f} (<= 3)  {'OK' if s['s_per_page'] <= 3 else 'MISSED'}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "text": {k: v.row() for k, v in text.items()}, "scan": {k: v.row() for k, v in scans.items()},
            "monopoly": {k: v.row() for k, v in mono.items()}, "monopoly_note": note}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
