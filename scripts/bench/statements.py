#!/usr/bin/env python3
"""Benchmark of vlm-service's statement extraction, on documents it was not written against first.

1. REAL-WORLD CORPUS (services/vlm/tests/corpus, development and held-out parts apart): signed
   date + amount F1, share of statements fully correct (every row, and the printed balances),
   reconciled (the result's own opening + sum == closing and the checks pass), flagged when not
   reconciled, silent wrong results; pages/s; monopoly-core's generic parser on the same PDFs.
2. RANDOM-LAYOUT GENERATOR (synth/random_layout.py, written apart from the parser): the same
   figures on text PDFs and scans, and F1 by generator feature so a weak feature shows.
3. OLD GENERATOR (synth/generate.py, 12 layouts): per layout, text PDFs and scans, F1 with the
   description also matched, reconcile rate, pages/s, s/page; monopoly-core on the same PDFs.

monopoly-core is installed in a throwaway venv under the cache dir (needs Debian's poppler-utils
and libpoppler-cpp-dev).

    $(bash scripts/venv.sh services/vlm)/bin/python scripts/bench/statements.py [--quick]
        [--random N] [--random-scans N] [--seeds 5] [--scan-seeds 2] [--no-monopoly] [--json out.json]
        [--splits dev]   (develop on dev only; the held-out part runs once, at the end)

Targets (issue 10): held-out corpus F1 >= 0.97; random generator text >= 0.99, scans >= 0.95;
every statement that does not reconcile flagged; text PDFs >= 20 pages/s on one core; scans
<= 3 s per page.
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
from vlm_service.synth import random_layout  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services" / "vlm" / "tests" / "corpus"))
import corpus  # noqa: E402

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


def monopoly_outputs(docs: list[tuple[str, bytes, dict]]) -> tuple[list[dict] | None, str | None]:
    """monopoly-core's generic parser on each PDF: [{transactions, error, seconds}], or None and why not."""
    py = monopoly_venv()
    if py is None:
        return None, "not installed"
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (layout, data, truth) in enumerate(docs):
            p = Path(tmp) / f"{i:04d}-{layout}.pdf"
            p.write_bytes(data)
            paths.append(str(p))
        res = subprocess.run([str(py), "-c", MONOPOLY_RUNNER, *paths], capture_output=True, text=True)
        if res.returncode != 0:
            return None, f"failed: {res.stderr[-500:]}"
        return json.loads(res.stdout.strip().splitlines()[-1]), None


def run_monopoly(docs: list[tuple[str, bytes, dict]]) -> tuple[dict[str, Tally], str | None]:
    outputs, why = monopoly_outputs(docs)
    if outputs is None:
        return {}, why
    tallies: dict[str, Tally] = defaultdict(Tally)
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


def run_scored(pipeline: Pipeline, docs: list[tuple[list[str], bytes, dict]]) -> dict[str, corpus.Tally]:
    """Each doc (its groups, bytes, expected) through the pipeline, scored with the corpus scorer."""
    tallies: dict[str, corpus.Tally] = defaultdict(corpus.Tally)
    for groups, data, expected in docs:
        start = time.perf_counter()
        result = pipeline.run(data, {})
        seconds = time.perf_counter() - start
        sc = corpus.score(result, expected)
        for g in [*groups, "ALL"]:
            tallies[g].add(sc, result.get("pages", 1), seconds)
    return tallies


def scored_table(title: str, tallies: dict[str, corpus.Tally], order: list[str] | None = None,
                 monopoly: dict[str, corpus.Tally] | None = None) -> None:
    print(f"\n{title}")
    head = (f"{'set':34s} {'stmts':>5s} {'F1':>6s} {'fileF1':>6s} {'full':>5s} {'recon':>5s} {'flag|nr':>7s} "
            f"{'silent':>6s} {'pages':>5s} {'pages/s':>7s} {'s/page':>6s}")
    if monopoly is not None:
        head += f" | {'monopoly F1':>11s}"
    print(head)
    names = order or [*sorted(k for k in tallies if k != "ALL"), "ALL"]
    for name in names:
        if name not in tallies:
            continue
        r = tallies[name].row()
        fl = "-" if r["flagged_when_not_reconciled"] is None else f"{r['flagged_when_not_reconciled']:.2f}"
        line = (f"{name[:34]:34s} {r['statements']:5d} {r['f1']:6.3f} {r['mean_file_f1']:6.3f} {r['fully_correct']:5.2f} "
                f"{r['reconciled']:5.2f} {fl:>7s} {r['silent_wrong']:6d} {r['pages']:5d} {r['pages_per_s'] or 0:7.1f} "
                f"{r['s_per_page'] or 0:6.2f}")
        if monopoly is not None:
            m = monopoly.get(name)
            line += f" | {m.row()['f1']:11.3f}" if m else f" | {'n/a':>11s}"
        print(line)


def corpus_monopoly(entries: list) -> tuple[dict[str, corpus.Tally], str | None]:
    pdfs = [e for e in entries if e.path is not None and e.path.suffix == ".pdf"]
    outputs, why = monopoly_outputs([(e.layout, e.path.read_bytes(), e.expected) for e in pdfs])
    if outputs is None:
        return {}, why
    tallies: dict[str, corpus.Tally] = defaultdict(corpus.Tally)
    for e, out in zip(pdfs, outputs):
        sc = corpus.score({"transactions": out["transactions"], "statement": {}, "checks": {}}, e.expected)
        for g in (f"{e.split}/{e.name}", e.split, "ALL"):
            tallies[g].add(sc, 0, out["seconds"])
    errors = [out["error"] for out in outputs if out["error"]]
    return tallies, (f"{len(pdfs)} PDFs (images not supported); errors: " + ", ".join(errors)) if errors else f"{len(pdfs)} PDFs"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer statements: 40 random text, 8 random scans, 1 seed per old layout")
    ap.add_argument("--random", type=int, default=300, help="random-layout text statements")
    ap.add_argument("--random-scans", type=int, default=300, help="random-layout scanned statements")
    ap.add_argument("--seeds", type=int, default=5, help="old generator: text statements per layout")
    ap.add_argument("--scan-seeds", type=int, default=2, help="old generator: scanned statements per layout")
    ap.add_argument("--layouts", default=",".join(sorted(LAYOUTS)))
    ap.add_argument("--no-monopoly", action="store_true")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--splits", default=",".join(corpus.SPLITS),
                    help="corpus parts to run (dev while developing: the held-out part is run once, at the end)")
    args = ap.parse_args()
    if args.quick:
        args.random, args.random_scans, args.seeds, args.scan_seeds = 40, 8, 1, 1
    layouts = args.layouts.split(",")
    pipeline = Pipeline(Settings(_env_file=None))
    cores = os.sched_getaffinity(0)
    figures: dict = {}

    # ---------------------------------------------------------------- 1. real-world corpus
    entries = [e for e in corpus.entries() if e.split in args.splits.split(",")]
    missing = [f"{e.split}/{e.name}" for e in entries if e.path is None]
    found = [e for e in entries if e.path is not None]
    pipeline.run(render_pdf(make_statement(layouts[0], 0)), {})  # warm up (imports, OCR models load lazily)
    docs = [([f"{e.split}/{e.name}", e.split, f"{e.split}:{'text' if e.expected['media'] == 'text-pdf' else 'image/scan'}"],
             e.path.read_bytes(), e.expected) for e in found]
    corpus_t = run_scored(pipeline, docs)
    mono_c, note_c = ({}, "skipped") if args.no_monopoly else corpus_monopoly(found)
    order = [f"{e.split}/{e.name}" for e in found] + ["dev:text", "dev:image/scan", "dev", "heldout:text",
                                                       "heldout:image/scan", "heldout", "ALL"]
    scored_table("REAL-WORLD CORPUS (per file, then dev / held-out; held-out is never developed on)", corpus_t, order,
                 mono_c if not args.no_monopoly else None)
    print("columns: F1 = signed date+amount F1 over all rows; fileF1 = mean per-file F1; full = share fully correct; "
          "recon = share reconciled and unflagged; flag|nr = share flagged among results whose rows do not reconcile; "
          "silent = wrong results not flagged")
    if missing:
        print(f"corpus documents not found (see services/vlm/tests/corpus/README.md): {', '.join(missing)}")
    print(f"monopoly-core on the corpus: {note_c}")
    figures["corpus"] = {k: v.row() for k, v in corpus_t.items()}
    figures["corpus_monopoly"] = {k: v.row() for k, v in mono_c.items()}

    # ---------------------------------------------------------------- 2. random-layout generator
    statements = [random_layout.make(seed) for seed in range(args.random)]
    text_docs = [(st.features, st.pdf(), st.truth()) for st in statements]
    os.sched_setaffinity(0, {min(cores)})  # text PDFs: one core
    rand_text = run_scored(pipeline, text_docs)
    os.sched_setaffinity(0, cores)
    scan_docs = [(st.features, st.scan(), st.truth()) for st in statements[: args.random_scans]]
    rand_scan = run_scored(pipeline, scan_docs) if scan_docs else {}
    feats = sorted({f for st in statements for f in st.features})
    print(f"\nRANDOM-LAYOUT GENERATOR ({len(text_docs)} text statements, {len(scan_docs)} scans)")
    scored_table("  text PDFs (one core), ALL:", rand_text, ["ALL"])
    if rand_scan:
        scored_table(f"  scans (150-200 dpi, rotated, noisy; {len(cores)} cores), ALL:", rand_scan, ["ALL"])
    print("\n  F1 by generator feature (statements carrying it):")
    print(f"  {'feature':26s} {'n text':>6s} {'F1 text':>7s} {'full':>5s} | {'n scan':>6s} {'F1 scan':>7s} {'full':>5s}")
    for feat in feats:
        t = rand_text[feat].row() if feat in rand_text else None
        sc = rand_scan[feat].row() if feat in rand_scan else None
        line = f"  {feat:26s} {t['statements'] if t else 0:6d} {t['f1'] if t else 0:7.3f} {t['fully_correct'] if t else 0:5.2f}"
        line += f" | {sc['statements']:6d} {sc['f1']:7.3f} {sc['fully_correct']:5.2f}" if sc else f" | {0:6d} {'-':>7s} {'-':>5s}"
        print(line)
    figures["random_text"] = {k: v.row() for k, v in rand_text.items()}
    figures["random_scan"] = {k: v.row() for k, v in rand_scan.items()}

    # ---------------------------------------------------------------- 3. old generator (figures as before)
    old_text, old_scan = [], []
    for layout in layouts:
        for seed in range(args.seeds):
            stmt = make_statement(layout, seed)
            old_text.append((layout, render_pdf(stmt), stmt.truth()))
        for seed in range(args.scan_seeds):
            stmt = make_statement(layout, 100 + seed)
            old_scan.append((layout, scan_pdf(render_pdf(stmt), seed), stmt.truth()))
    os.sched_setaffinity(0, {min(cores)})
    text = run_ours(pipeline, old_text)
    os.sched_setaffinity(0, cores)
    mono, note = ({}, "skipped") if args.no_monopoly else run_monopoly(old_text)
    print("\nOLD GENERATOR (synth/generate.py; F1 here also matches the description)")
    table("TEXT PDFs (vlm-service | monopoly-core generic parser)", text, mono)
    if note:
        print(f"monopoly-core: {note}")
    scans = run_ours(pipeline, old_scan) if old_scan else {}
    if scans:
        table(f"SCANS (150-200 dpi, rotated, noisy; {os.cpu_count()} cores for OCR)", scans)
    figures.update({"text": {k: v.row() for k, v in text.items()}, "scan": {k: v.row() for k, v in scans.items()},
                    "monopoly": {k: v.row() for k, v in mono.items()}, "monopoly_note": note})

    # ---------------------------------------------------------------- targets
    def ok(flag: bool) -> str:
        return "OK" if flag else "MISSED"

    held = corpus_t["heldout"].row() if "heldout" in corpus_t else None
    rt, rs = rand_text["ALL"].row(), rand_scan["ALL"].row() if rand_scan else None
    every = [t for tallies in (corpus_t, rand_text, rand_scan) for t in [tallies.get("ALL")] if t]
    silent = sum(t.row()["silent_wrong"] for t in every)
    nr = [s for t in every for s in t.scores if not s.self_reconciles]
    unflagged = sum(not s.flagged for s in nr)
    t, s = text["ALL"].row(), scans["ALL"].row() if scans else None
    print(f"\nTARGETS (load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    if held:
        print(f"  held-out corpus F1 {held['f1']:.4f} (>= 0.97)  {ok(held['f1'] >= 0.97)}")
    print(f"  random text F1 {rt['f1']:.4f} (>= 0.99)  {ok(rt['f1'] >= 0.99)}")
    if rs:
        print(f"  random scan F1 {rs['f1']:.4f} (>= 0.95)  {ok(rs['f1'] >= 0.95)}")
    print(f"  not reconciled but not flagged: {unflagged} of {len(nr)} (0)  {ok(unflagged == 0)};"
          f" wrong but not flagged: {silent}")
    print(f"  random text pages/s {rt['pages_per_s'] or 0:.1f} (>= 20, one core)  {ok((rt['pages_per_s'] or 0) >= 20)}")
    if rs:
        print(f"  random scan s/page {rs['s_per_page']:.2f} (<= 3)  {ok(rs['s_per_page'] <= 3)}")
    print(f"  old generator text F1 {t['f1']:.4f} (>= 0.99)  {ok(t['f1'] >= 0.99)}")
    print(f"  old generator text pages/s {t['pages_per_s']:.1f} (>= 20, one core)  {ok(t['pages_per_s'] >= 20)}")
    if s:
        print(f"  old generator scan F1 {s['f1']:.4f} (>= 0.95)  {ok(s['f1'] >= 0.95)}")
        print(f"  old generator scan s/page {s['s_per_page']:.2f} (<= 3)  {ok(s['s_per_page'] <= 3)}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
