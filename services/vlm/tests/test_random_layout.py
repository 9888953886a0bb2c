"""The second statement generator (synth/random_layout.py): deterministic, its truth reconciles, its PDFs carry
the text; and the pipeline's F1 on a fixed seed set (a floor equal to the figure measured when it was added)."""

import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from vlm_service.synth import random_layout as rl

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
import corpus  # noqa: E402

SEEDS = range(24)          # fixed seed set run through the pipeline
TEXT_F1_FLOOR = 0.98       # measured 0.9969 (issue 10 parser); was 0.194 when the generator was added. Raise it as the parser improves


def page_texts(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [page.get_textpage().get_text_range() for page in doc]
    finally:
        doc.close()


def page_pixels(pdf: bytes) -> list[bytes]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=0.5).to_pil().tobytes() for page in doc]
    finally:
        doc.close()


def test_same_seed_same_statement_and_bytes():
    for seed in (0, 5, 17):
        a, b = rl.make(seed), rl.make(seed)
        assert a.truth() == b.truth()
        assert a.pdf() == b.pdf()
    assert rl.make(1).truth() != rl.make(2).truth()


def test_truth_reconciles_cent_exact():
    for seed in range(200):
        t = rl.make(seed).truth()
        st, rows = t["statement"], t["transactions"]
        assert rows
        amounts = [Decimal(r["amount"]) for r in rows]
        assert all(a == a.quantize(Decimal("0.01")) and a != 0 for a in amounts)
        assert Decimal(st["opening_balance"]) + sum(amounts) == Decimal(st["closing_balance"]), seed
        assert all(st["period_start"] <= r["date"] <= st["period_end"] for r in rows), seed
        assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)


def test_sign_rule_cards_owe_negative_spending_negative():
    cards = [rl.make(s) for s in range(120) if rl.make(s).kind == "card"]
    assert len(cards) >= 15
    for st in cards:
        assert st.opening <= 0  # balance owed is negative from the holder's view
        pay = [r for r in st.rows if r.category == "payment"]
        assert pay and all(r.amount > 0 for r in pay)
    rows = [r for s in range(60) for r in rl.make(s).rows]
    assert {r.category for r in rows} == {"spend", "fee", "income", "refund", "payment"}
    assert all((r.amount < 0) == (r.category in ("spend", "fee")) for r in rows)


def test_pdf_opens_and_carries_rows_and_amounts():
    for seed in range(0, 60, 3):
        st = rl.make(seed)
        pdf = st.pdf()
        texts = page_texts(pdf)
        text = "\n".join(texts)
        assert len(texts) >= 1 and (len(texts) > 1) == ("multipage" in st.features)
        assert st.bank in text
        for r in st.rows:
            words = r.description.split()
            assert words[0][:4] in text, (seed, r.description)
            printed = rl._num(r.amount, rl.NUM[st.opt["num"]])
            assert printed in text, (seed, printed)


def test_scan_has_no_text_layer_and_is_deterministic():
    st = rl.make(4)
    a, b = st.scan(), st.scan()
    assert a.startswith(b"%PDF") and page_pixels(a) == page_pixels(b)  # bytes carry a creation time
    assert all(not t.strip() for t in page_texts(a))
    assert len(page_texts(a)) == len(page_texts(st.pdf()))


def test_features_cover_the_issue_list():
    seen = Counter(f for s in range(300) for f in rl.make(s).features)
    for lang in rl.LANGS:
        assert seen[f"lang:{lang}"] >= 10
    for feat in ("bank", "card", "no_header", "two_dates", "reference_col", "amount:signed", "amount:debit_credit",
                 "balance_col", "date:dmy", "date:mdy", "date:ymd", "date:name", "date_no_year", "two_digit_year",
                 "new_year", "num:comma-dot", "num:dot-comma", "num:apos-dot", "num:space-comma", "neg:trailing",
                 "neg:parens", "neg:drcr", "symbol", "side_panel", "footer", "multiline", "detail", "subtotals",
                 "carried_forward", "end_junk", "multipage", "card_issuer_signs", "shuffle"):
        assert seen[feat] >= 5, feat


@pytest.fixture(scope="module")
def pipeline():
    from vlm_service.pipeline import Pipeline
    from vlm_service.settings import Settings

    return Pipeline(Settings(_env_file=None))


def scored(pipeline, seeds, what: str, capsys) -> dict:
    """The pipeline's figures on each seed's text PDF (`pdf`) or scan (`scan`), printed."""
    tally = corpus.Tally()
    for seed in seeds:
        st = rl.make(seed)
        tally.add(corpus.score(pipeline.run(getattr(st, what)(), {}), st.truth()))
    row = tally.row()
    with capsys.disabled():
        print(f"\nrandom_layout {what}, seeds {min(seeds)}-{max(seeds)} ({len(seeds)}): F1 {row['f1']}, fully correct "
              f"{row['fully_correct']}, silent wrong {row['silent_wrong']}")
    return row


def test_pipeline_f1_on_fixed_seeds(pipeline, capsys):
    assert scored(pipeline, SEEDS, "pdf", capsys)["f1"] >= TEXT_F1_FLOOR


# one-page scans whose OCR showed the slip classes: dates without a year glued to the description (2, 6, 7),
# amounts glued to a reference number (14), a rarely used money column and an amount glued to a word (16)
SCAN_SEEDS = (2, 6, 7, 14, 16)
SCAN_F1_FLOOR = 0.95       # measured 1.000; 0.814 before the OCR repairs (glued dates/amounts, skew from rows)


def test_pipeline_f1_on_fixed_scan_seeds(pipeline, capsys):
    """Real OCR on scans (150-200 dpi, turned up to a degree, noisy) of random-layout statements."""
    row = scored(pipeline, SCAN_SEEDS, "scan", capsys)
    assert row["f1"] >= SCAN_F1_FLOOR
    assert row["silent_wrong"] == 0


def test_cli_writes_random_layout_pdf_and_truth(tmp_path):
    from vlm_service.synth.__main__ import main

    assert main(["--layout", "random", "--seed", "9", "--out", str(tmp_path / "r.pdf"), "--truth", str(tmp_path / "r.json")]) == 0
    assert (tmp_path / "r.pdf").read_bytes() == rl.make(9).pdf()
    import json

    assert json.loads((tmp_path / "r.json").read_text()) == json.loads(json.dumps(rl.make(9).truth()))


def test_no_column_prints_narrower_than_its_content():
    """Crowded layouts (side panel, value date, reference, debit, credit and balance columns) keep every
    date whole: the description column gives way and wraps instead of clipping other columns."""
    crowded = [s for s in range(300) if (o := rl.make(s).opt)["panel"] and o["value_col"] and o["ref_col"]
               and o["balance_col"] and o["amount_style"] == "debit_credit"][:6]
    assert crowded
    for seed in crowded:
        st = rl.make(seed)
        text = "\n".join(page_texts(st.pdf()))
        for r in st.rows:
            assert rl._fmt_date(st, r.date) in text, (seed, rl._fmt_date(st, r.date))
