"""Stages 1-5 in process on synthetic text PDFs: every layout extracts exactly and reconciles."""

import pytest

from textkeys import key
from vlm_service.pipeline import Pipeline
from vlm_service.settings import Settings
from vlm_service.synth import LAYOUTS, make_statement, render_pdf


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline(Settings(_env_file=None))


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("seed", [0, 1])
def test_text_pdf_layouts_extract_exactly(pipeline, layout, seed):
    stmt = make_statement(layout, seed)
    truth = stmt.truth()
    result = pipeline.run(render_pdf(stmt), {})
    assert [key(t) for t in result["transactions"]] == [key(t) for t in truth["transactions"]]
    balances = [(t["balance"], w["balance"]) for t, w in zip(result["transactions"], truth["transactions"])]
    if "balance" not in dict(LAYOUTS[layout].columns):
        assert all(got is None for got, _ in balances)
    elif LAYOUTS[layout].daily:  # balances printed on each day's last row only
        assert all(got in (None, want) for got, want in balances) and balances[-1][0] is not None
    else:
        assert all(got == want for got, want in balances)
    assert result["statement"] == truth["statement"]
    checks = result["checks"]
    assert (checks["running_balance_ok"], checks["totals_reconcile"], checks["problems"]) == (True, True, [])
    assert checks["reconciled"] is True and checks["confidence"] >= 0.95
    assert [p["source"] for p in result["page_info"]] == ["text"] * result["pages"]
    assert all(t["balance_ok"] and t["problem"] is None for t in result["transactions"])
    assert result["vlm"]["configured"] is False and result["vlm"]["used"] is False


def test_multipage_carried_forward_rows_are_not_transactions(pipeline):
    stmt = make_statement("multipage", 2)
    result = pipeline.run(render_pdf(stmt), {})
    assert result["pages"] >= 3
    assert {t["page"] for t in result["transactions"]} == set(range(1, result["pages"] + 1))
    assert not any("forward" in t["description"].lower() for t in result["transactions"])
    assert len(result["transactions"]) == len(stmt.transactions)


def test_multiline_descriptions_are_joined(pipeline):
    stmt = make_statement("multiline", 0)
    result = pipeline.run(render_pdf(stmt), {})
    longest = max(stmt.transactions, key=lambda t: len(t.description))
    assert longest.description in [t["description"] for t in result["transactions"]]


def test_year_boundary_dates(pipeline):
    stmt = make_statement("year_boundary", 0)
    result = pipeline.run(render_pdf(stmt), {})
    years = {t["date"][:4] for t in result["transactions"]}
    assert years == {str(stmt.period_start.year), str(stmt.period_end.year)}


def test_tampered_balance_is_flagged_not_dropped(pipeline):
    stmt = make_statement("signed_amount", 3)
    stmt.transactions[4].balance += 1  # a misprinted running balance
    result = pipeline.run(render_pdf(stmt), {})
    assert len(result["transactions"]) == len(stmt.transactions)
    bad = [t for t in result["transactions"] if not t["balance_ok"]]
    assert bad and bad[0]["row"] == 5 and bad[0]["problem"]
    assert bad[0]["confidence"] < 0.9
    assert result["checks"]["running_balance_ok"] is False
    assert {"page": 1, "row": 5} == {k: result["checks"]["problems"][0][k] for k in ("page", "row")}


def test_date_order_hint_decides_ambiguous_dates(pipeline):
    stmt = make_statement("signed_amount", 0, n=3)
    for t in stmt.transactions:  # all days <= 12: order cannot be read from the data
        t.date = t.date.replace(day=min(t.date.day, 12))
    pdf = render_pdf(stmt)
    dmy = pipeline.run(pdf, {"date_order": "DMY"})["transactions"][0]["date"]
    mdy = pipeline.run(pdf, {"date_order": "MDY"})["transactions"][0]["date"]
    d = stmt.transactions[0].date
    assert dmy == d.isoformat()
    if d.day != d.month:
        assert mdy == d.replace(month=d.day, day=d.month).isoformat()
