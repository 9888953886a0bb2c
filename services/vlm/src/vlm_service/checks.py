"""Stage 5: reconciliation checks. Each printed running balance must equal the previous balance
plus the row's amount, and opening + sum of amounts must equal closing. Failing rows are
flagged, never dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class Txn:
    """A normalised transaction on its way to the result."""

    date: object  # datetime.date or None
    description: str
    amount: Decimal
    balance: Decimal | None
    page: int
    row: int
    confidence: float
    balance_ok: bool = True
    problem: str | None = None
    source: str = "layout"
    bbox: list[float] | None = None  # x0, top, x1, bottom in page units (PDF points or image pixels)
    checked: bool = False  # its printed balance was compared with the balance before it


@dataclass
class CheckResult:
    running_balance_ok: bool
    totals_reconcile: bool
    problems: list[dict] = field(default_factory=list)


def problem(page: int | None, row: int | None, code: str, message: str) -> dict:
    return {"page": page, "row": row, "code": code, "message": message}


def infer_signs(txns: list[Txn], opening: Decimal | None) -> None:
    """For an unsigned amount column: choose each sign so the running balance holds."""
    prev = opening
    for t in txns:
        if prev is not None and t.balance is not None:
            if prev + t.amount != t.balance and prev - t.amount == t.balance:
                t.amount = -t.amount
        if t.balance is not None:
            prev = t.balance
        elif prev is not None:
            prev += t.amount


def repair_lost_minus(txns: list[Txn], opening: Decimal | None) -> int:
    """OCR rows (confidence < 0.99) whose running balance holds only with the opposite sign lost
    their minus sign (or read a stray one): flip them. Returns how many were flipped."""
    prev, flipped = opening, 0
    for t in txns:
        if prev is not None and t.balance is not None and t.confidence < 0.99:
            if prev + t.amount != t.balance and prev - t.amount == t.balance:
                t.amount = -t.amount
                flipped += 1
        if t.balance is not None:
            prev = t.balance
        elif prev is not None:
            prev += t.amount
    return flipped


def run_checks(txns: list[Txn], opening: Decimal | None, closing: Decimal | None) -> CheckResult:
    """Flag rows whose running balance fails; check the totals. Mutates `balance_ok`/`problem`."""
    problems: list[dict] = []
    prev = opening
    pending = Decimal(0)  # sum of amounts since the last printed balance
    running_ok = True
    for t in txns:
        t.balance_ok, t.problem, t.checked = True, None, False
        pending += t.amount
        if t.balance is None:
            continue
        t.checked = prev is not None
        if prev is not None and prev + pending != t.balance:
            t.balance_ok = False
            t.problem = (f"running balance: {prev} + {pending} = {prev + pending}, "
                         f"printed balance {t.balance}")
            problems.append(problem(t.page, t.row, "balance_mismatch", t.problem))
            running_ok = False
        prev, pending = t.balance, Decimal(0)
    total = sum((t.amount for t in txns), Decimal(0))
    if opening is None or closing is None:
        problems.append(problem(None, None, "totals_unknown",
                                "opening or closing balance not found; totals cannot be reconciled"))
        return CheckResult(running_ok, False, problems)
    reconcile = opening + total == closing
    if not reconcile:
        problems.append(problem(None, None, "totals_mismatch",
                                f"opening {opening} + sum of amounts {total} = {opening + total}, "
                                f"closing balance {closing}"))
    return CheckResult(running_ok, reconcile, problems)


def reconciles_better(old: list[Txn], new: list[Txn], before: Decimal | None) -> bool:
    """Whether re-extracted rows `new` for a page check better than the rows `old` it had.
    Runs the checks on `new` (starting from the balance `before` the page)."""
    if not new:
        return False
    run_checks(new, before, None)
    if not old:
        return True
    return sum(not t.balance_ok for t in new) < sum(not t.balance_ok for t in old)


def reconciles(rows: list[Txn], before: Decimal | None) -> bool:
    """Whether rows check cent-exact from the balance `before` them: every printed running
    balance holds, and at least one was printed (rows without any balance prove nothing)."""
    if not rows or before is None or not any(t.balance is not None for t in rows):
        return False
    result = run_checks([Txn(t.date, t.description, t.amount, t.balance, t.page, t.row, t.confidence)
                         for t in rows], before, None)
    return result.running_balance_ok
