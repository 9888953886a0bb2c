"""Parallel statements against one real service process: PDFium is not thread-safe, and the
service runs VLM_MAX_CONCURRENCY inferences at once; before every PDFium call was serialised this
killed the process (SIGSEGV / 'double free' in libpdfium) within seconds (6 s here with 4
threads and 6 clients; 37 s with the default 2 threads and 4 clients on 5-page statements).

VLM_STRESS_SECONDS (default 45) sets how long the clients keep sending.
"""

import concurrent.futures
import os
import subprocess
import sys
import textwrap
import threading
import time

import httpx
import pytest

from conftest import predict, start_server
from test_service import f1
from vlm_service.synth import make_statement, render_pdf, scan_pdf

SECONDS = float(os.environ.get("VLM_STRESS_SECONDS", "45"))
CLIENTS = 6
CONCURRENCY = 4  # inference threads (VLM_MAX_CONCURRENCY); with 2 the old code crashed too, but less reliably


def test_pipeline_in_four_threads_does_not_crash(tmp_path):
    """The same in one process without HTTP: four threads through Pipeline.run on text PDFs.
    Before the lock this died with SIGSEGV / 'double free' within a few seconds."""
    script = textwrap.dedent("""
        import sys, threading, time
        from vlm_service.pipeline import Pipeline
        from vlm_service.settings import Settings
        from vlm_service.synth import make_statement, render_pdf
        docs = [render_pdf(make_statement(name, i)) for i, name in enumerate(["debit_credit", "multipage", "european"])]
        pipeline = Pipeline(Settings())
        stop = time.monotonic() + float(sys.argv[1])
        done, errors = [0], []
        def work(k):
            i = k
            while time.monotonic() < stop:
                try:
                    result = pipeline.run(docs[i % len(docs)], {})
                    assert result["transactions"], "no transactions"
                except Exception as exc:
                    errors.append(repr(exc))
                    return
                i += 1
                done[0] += 1
        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        print("documents", done[0], "errors", errors)
        sys.exit(1 if errors else 0)
    """)
    proc = subprocess.run([sys.executable, "-c", script, str(min(SECONDS, 15))], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    print(proc.stdout.strip())
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stdout[-500:]} {proc.stderr[-1500:]}"
    assert int(proc.stdout.split()[1]) >= 20


@pytest.fixture(scope="module")
def documents():
    """Text PDFs of several layouts (one multi-page) and two scanned PDFs, with their truth."""
    docs = []
    for i, layout in enumerate(["debit_credit", "multipage", "european", "signed_amount", "cr_dr"]):
        stmt = make_statement(layout, 100 + i)
        docs.append(("text", render_pdf(stmt), stmt.truth()))
    stmt = make_statement("multipage", 150, n=150)  # 5 pages: long stretches of text-layer work
    docs.append(("text", render_pdf(stmt), stmt.truth()))
    for i, layout in enumerate(["debit_credit", "signed_amount"]):
        stmt = make_statement(layout, 200 + i, n=6)
        docs.append(("scan", scan_pdf(render_pdf(stmt), seed=i), stmt.truth()))
    return docs


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    proc = start_server(tmp_path_factory.mktemp("vlm-parallel"), "vlm-parallel", VLM_MAX_CONCURRENCY=str(CONCURRENCY),
                        VLM_MAX_QUEUE="16", VLM_MAX_PAGES="10")
    yield proc
    proc.stop()


def test_parallel_text_and_scanned_statements_do_not_crash_the_service(busy_server, documents):
    stop = time.monotonic() + SECONDS
    lock = threading.Lock()
    stats = {"ok": 0, "text": 0, "scan": 0, "failed": [], "low_f1": []}

    def client(n: int) -> None:
        # clients 0 and 1 send scans (render + OCR), the others text PDFs (text layer), so
        # PDFium rendering and text extraction run in several inference threads at once
        pool = [d for d in documents if (d[0] == "scan") == (n < 2)]
        i = n
        while time.monotonic() < stop:
            kind, data, truth = pool[i % len(pool)]
            i += 1
            try:
                r = predict(busy_server.url, data, timeout=120)
            except httpx.HTTPError as exc:
                with lock:
                    stats["failed"].append(f"{kind}: {type(exc).__name__}")
                return
            with lock:
                if r.status_code != 200:
                    stats["failed"].append(f"{kind}: {r.status_code}")
                    return
                stats["ok"] += 1
                stats[kind] += 1
                score = f1(r.json()["predictions"][0], truth)
                if score < (1.0 if kind == "text" else 0.9):
                    stats["low_f1"].append((kind, round(score, 3)))

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))
    elapsed = time.monotonic() - t0
    print(f"parallel statements: {stats['ok']} answered 200 ({stats['text']} text, {stats['scan']} scans) "
          f"from {CLIENTS} clients in {elapsed:.0f} s; failures {stats['failed']}")
    assert busy_server.running, f"the service died:\n{busy_server.log_text()[-3000:]}"
    assert not stats["failed"], stats["failed"]
    assert not stats["low_f1"], stats["low_f1"]
    assert stats["text"] >= 20 and stats["scan"] >= 2

    # still up and still right afterwards
    assert httpx.get(f"{busy_server.url}/v2/health/ready", timeout=5).status_code == 200
    kind, data, truth = documents[1]
    r = predict(busy_server.url, data)
    assert r.status_code == 200 and f1(r.json()["predictions"][0], truth) == 1.0
