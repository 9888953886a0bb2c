"""Stage 5: running balances and totals; failing rows are flagged, not dropped."""

from decimal import Decimal as D

from vlm_service.checks import Txn, infer_signs, reconciles_better, run_checks


def txn(amount, balance, row):
    return Txn(None, f"row {row}", D(amount), D(balance) if balance is not None else None, 1, row, 0.99)


def test_all_good():
    rows = [txn("-10.00", "90.00", 1), txn("5.50", "95.50", 2)]
    res = run_checks(rows, D("100.00"), D("95.50"))
    assert res.running_balance_ok and res.totals_reconcile and res.problems == []


def test_bad_row_is_flagged_and_kept():
    rows = [txn("-10.00", "90.00", 1), txn("5.50", "96.50", 2), txn("-1.00", "95.50", 3)]
    res = run_checks(rows, D("100.00"), D("95.50"))
    assert len(rows) == 3
    assert [r.balance_ok for r in rows] == [True, False, True]
    assert not res.running_balance_ok
    assert res.problems[0]["row"] == 2 and res.problems[0]["code"] == "balance_mismatch"
    assert not res.totals_reconcile  # 100 - 10 + 5.5 - 1 = 94.50, not 95.50


def test_rows_without_printed_balance_accumulate():
    rows = [txn("-10.00", None, 1), txn("-5.00", "85.00", 2)]
    res = run_checks(rows, D("100.00"), D("85.00"))
    assert res.running_balance_ok and res.totals_reconcile


def test_unknown_totals_reported():
    res = run_checks([txn("-1.00", None, 1)], None, None)
    assert not res.totals_reconcile and res.problems[-1]["code"] == "totals_unknown"


def test_infer_signs_from_balances():
    rows = [txn("10.00", "90.00", 1), txn("5.00", "95.00", 2)]
    infer_signs(rows, D("100.00"))
    assert [r.amount for r in rows] == [D("-10.00"), D("5.00")]


def test_vlm_rows_replace_a_page_only_when_they_check_better():
    old = [txn("-10.00", "90.00", 1), txn("-5.00", "80.00", 2)]
    run_checks(old, D("100.00"), None)  # row 2 fails
    good = [txn("-10.00", "90.00", 1), txn("-10.00", "80.00", 2)]
    worse = [txn("-1.00", "90.00", 1), txn("-1.00", "80.00", 2)]
    assert reconciles_better(old, good, D("100.00"))
    assert not reconciles_better(old, worse, D("100.00"))
    assert not reconciles_better(old, [], D("100.00"))
    assert reconciles_better([], good, D("100.00"))


def test_ocr_rows_that_lost_their_minus_are_flipped():
    from vlm_service.checks import repair_lost_minus

    rows = [txn("10.00", "90.00", 1), txn("5.00", "95.00", 2)]
    for r in rows:
        r.confidence = 0.9  # OCR rows
    assert repair_lost_minus(rows, D("100.00")) == 1
    assert [r.amount for r in rows] == [D("-10.00"), D("5.00")]
    text_rows = [txn("10.00", "90.00", 1)]  # a text layer is trusted: flagged, not changed
    assert repair_lost_minus(text_rows, D("100.00")) == 0 and text_rows[0].amount == D("10.00")
