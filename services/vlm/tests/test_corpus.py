"""The statement pipeline on the real-world corpus (tests/corpus/): per-file F1 floors guard against regressions.

Each expected file carries `f1_floor`: the signed date + amount F1 the parser must reach on that document.
The documents themselves are looked up in $VLM_CORPUS_DIR, <repo>/shared/vlm-corpus and tests/corpus
(see tests/corpus/README.md); an expected file whose document is in none of them is skipped, and said so.
"""

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
import corpus  # noqa: E402

ENTRIES = corpus.entries()


@pytest.fixture(scope="module")
def pipeline():
    from vlm_service.pipeline import Pipeline
    from vlm_service.settings import Settings

    return Pipeline(Settings(_env_file=None))


def test_corpus_expected_files_are_consistent():
    """Every expected file: ISO dates, cent amounts, a floor, source and licence noted, and printed totals as stated."""
    assert len(ENTRIES) >= 8
    layouts = {e.layout for e in ENTRIES}
    held = {e.layout for e in ENTRIES if e.split == "heldout"}
    assert held and not held & {e.layout for e in ENTRIES if e.split == "dev"}, "a layout is in both splits"
    assert len(held) * 4 >= len(layouts), "at least about a third of the layouts are held out"
    for e in ENTRIES:
        x = e.expected
        assert x["split"] == e.split and 0.0 <= x["f1_floor"] <= 1.0
        assert x["source"]["repo"] and x["source"]["commit"] and x["source"]["licence"] and x["why_not_real"]
        assert x["statement"]["kind"] in ("bank", "card")
        for t in x["transactions"]:
            assert len(t["date"]) == 10 and t["date"][4] == "-" and corpus.money(t["amount"]) == Decimal(t["amount"])
        st = x["statement"]
        if st["opening_balance"] is not None and st["closing_balance"] is not None:
            total = sum(Decimal(t["amount"]) for t in x["transactions"])
            assert (Decimal(st["opening_balance"]) + total == Decimal(st["closing_balance"])) == x["printed_totals_reconcile"]


def test_scorer_matches_dates_and_signed_amounts():
    want = [{"date": "2024-01-02", "amount": "-5.00"}, {"date": "2024-01-02", "amount": "-5.00"},
            {"date": "2024-01-03", "alt_date": "2024-01-04", "amount": "7.10"}]
    assert corpus.match_counts([{"date": "2024-01-02", "amount": "-5"}, {"date": "2024-01-04", "amount": "7.1"}], want) == (2, 2, 3)
    assert corpus.match_counts([{"date": "2024-01-02", "amount": "5.00"}], want) == (0, 1, 3)  # sign counts
    assert corpus.match_counts([{"date": "2024-01-02", "amount": "-5.00"}] * 3, want) == (2, 3, 3)  # multiset


@pytest.mark.parametrize("entry", ENTRIES, ids=[f"{e.split}/{e.name}" for e in ENTRIES])
def test_corpus_file_reaches_its_floor(pipeline, entry):
    if entry.path is None:
        pytest.skip(f"document {entry.split}/{entry.name} not found in {[str(d) for d in corpus.doc_dirs()]}")
    result = pipeline.run(entry.path.read_bytes(), {})
    s = corpus.score(result, entry.expected)
    assert s.f1 >= entry.expected["f1_floor"], (
        f"{entry.name}: F1 {s.f1:.3f} < floor {entry.expected['f1_floor']} (tp {s.tp}, predicted {s.pred}, expected {s.exp})")
    if not s.self_reconciles:
        # a result whose own rows do not add up from opening to closing must say so
        assert s.flagged, f"{entry.name}: rows do not reconcile but the result is not flagged"
