"""Stages 3-5 together: parsed rows -> normalised transactions -> checks -> the result document."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .checks import CheckResult, Txn, infer_signs, problem, repair_lost_minus, run_checks
from .layout import Parsed, parse_document
from .normalize import infer_date_order, resolve, search_dates
from .words import Page

LOCALE_MDY = ("en_us", "en-us", "us", "en_ph", "en-ph")
SYMBOL_CURRENCY = {"£": "GBP", "€": "EUR", "¥": "JPY", "₹": "INR"}
DOLLAR_BY_LOCALE = {"au": "AUD", "ca": "CAD", "nz": "NZD", "sg": "SGD", "hk": "HKD"}


@dataclass
class Options:
    """Request options that steer parsing."""

    locale: str | None = None
    date_order: str | None = None

    def order_hint(self) -> str | None:
        if self.date_order:
            return self.date_order.upper()
        if self.locale and self.locale.lower().replace("-", "_") in LOCALE_MDY:
            return "MDY"
        return None


def mask_account(number: str | None) -> str | None:
    if not number:
        return None
    tail = re.sub(r"[^0-9A-Za-z]", "", number)[-4:]
    return "****" + tail


@dataclass
class Extraction:
    """Everything the pipeline knows about one document."""

    statement: dict
    txns: list[Txn]
    opening: Decimal | None
    closing: Decimal | None
    checks: CheckResult
    table_found: bool
    account_number: str | None  # unmasked, never leaves the service
    notes: list[dict]  # problems found while parsing (not from the checks)
    order: str = "DMY"
    period: tuple | None = None
    default_year: int | None = None

    def recheck(self, extra: list[dict] | None = None) -> None:
        """Run the checks again (after the VLM replaced rows) and renumber problems."""
        self.checks = run_checks(self.txns, self.opening, self.closing)
        self.checks.problems[:0] = self.notes + (extra or [])


def _currency(parsed: Parsed, opts: Options) -> str | None:
    if parsed.currency:
        return parsed.currency
    for sym, code in SYMBOL_CURRENCY.items():
        if sym in parsed.symbols:
            return code
    if "$" in parsed.symbols:
        country = (opts.locale or "").lower().replace("-", "_").split("_")[-1]
        return DOLLAR_BY_LOCALE.get(country, "USD")
    return None


def _period(parsed: Parsed, order: str) -> tuple[date, date] | None:
    if not parsed.period_text:
        return None
    a = search_dates(parsed.period_text[0])
    b = search_dates(parsed.period_text[1])
    if not a or not b:
        return None
    start = resolve(a[0], order, default_year=b[0].year)
    end = resolve(b[0], order, default_year=a[0].year)
    if start and end and start > end and a[0].year is None:
        start = start.replace(year=start.year - 1)
    return (start, end) if start and end and start <= end else None


def build(parsed: Parsed, opts: Options) -> Extraction:
    """Normalise the parsed rows and run the checks."""
    period_raws = [d for side in parsed.period_text or () for d in search_dates(side)]
    hint = opts.order_hint()
    if hint is None and _currency(parsed, opts) == "USD":
        hint = "MDY"  # US statements write month first
    order = infer_date_order(parsed.all_dates + period_raws, hint)
    period = _period(parsed, order)
    default_year = max(set(parsed.years), key=parsed.years.count) if parsed.years else None
    txns: list[Txn] = []
    opening_row = closing_row = None
    last_date = None
    rows_on_page: dict[int, int] = {}
    problems: list[dict] = []
    explicit = False
    prev_date = None
    for raw in parsed.rows:
        if raw.kind == "opening":
            if opening_row is None and not txns:
                opening_row = raw.amounts["balance"].value
            continue
        if raw.kind == "closing":
            closing_row = raw.amounts["balance"].value
            continue
        rows_on_page[raw.page] = rows_on_page.get(raw.page, 0) + 1
        row_no = rows_on_page[raw.page]
        when = resolve(raw.date, order, period, default_year) if raw.date else last_date
        if raw.date and period is None and raw.date.year is None and prev_date and when and when < prev_date:
            when = when.replace(year=when.year + 1)  # rolled over New Year without a period
        if when is None:
            problems.append(problem(raw.page, row_no, "date_missing", "row has no readable date"))
        last_date = prev_date = when or last_date
        a = raw.amounts
        if "amount" in a:
            amount = a["amount"].value
            explicit |= a["amount"].explicit
        else:
            debit, credit = a.get("debit"), a.get("credit")
            amount = (credit.value if credit else Decimal(0)) - (abs(debit.value) if debit else Decimal(0))
            explicit = True
        balance = a["balance"].value if "balance" in a else None
        txns.append(Txn(when, raw.description, amount, balance, raw.page, row_no, round(raw.score, 3)))

    opening = parsed.opening.value if parsed.opening else opening_row
    closing = parsed.closing.value if parsed.closing else closing_row
    if opening is None and txns and txns[0].balance is not None:
        opening = txns[0].balance - txns[0].amount
        problems.append(problem(txns[0].page, txns[0].row, "opening_inferred",
                                "no opening balance printed; inferred from the first row"))
    if "amount" in parsed.columns and not explicit:
        infer_signs(txns, opening)
    else:
        repair_lost_minus(txns, opening)
        if opening is not None and parsed.opening is None and opening_row is None and txns:
            opening = txns[0].balance - txns[0].amount if txns[0].balance is not None else opening
    if closing is None and txns:
        closing = next((t.balance for t in reversed(txns) if t.balance is not None), None)
    if not parsed.table_found:
        problems.insert(0, problem(None, None, "no_transaction_table",
                                   "no transaction table found (no header with date, description and "
                                   "amount or debit/credit columns)"))
    elif not txns:
        problems.insert(0, problem(None, None, "no_transactions", "the transaction table is empty"))
    checks = run_checks(txns, opening, closing)
    checks.problems[:0] = problems
    account = parsed.account_number
    masked = mask_account(account)
    statement = {
        "bank_name": parsed.bank_name,
        "account_number": masked,
        "currency": _currency(parsed, opts),
        "period_start": period[0].isoformat() if period else None,
        "period_end": period[1].isoformat() if period else None,
        "opening_balance": str(opening) if opening is not None else None,
        "closing_balance": str(closing) if closing is not None else None,
    }
    return Extraction(statement, txns, opening, closing, checks, parsed.table_found, account, problems,
                      order, period, default_year)


def extract(pages: list[Page], opts: Options) -> Extraction:
    return build(parse_document(pages), opts)


def txn_json(t: Txn) -> dict:
    """One transaction in the result schema (money as decimal strings)."""
    confidence = t.confidence if t.balance_ok else round(t.confidence * 0.5, 3)
    return {
        "date": t.date.isoformat() if t.date else None,
        "description": t.description,
        "amount": str(t.amount),
        "balance": str(t.balance) if t.balance is not None else None,
        "type": "debit" if t.amount < 0 else "credit",
        "page": t.page,
        "row": t.row,
        "confidence": confidence,
        "balance_ok": t.balance_ok,
        "problem": t.problem,
    }


def mask_text(text: str, account: str | None) -> str:
    """Mask the statement's account number and any long digit run (IBAN, card) in free text."""
    if account and len(account) >= 5:
        text = text.replace(account, mask_account(account))
    return re.sub(r"\b(?:[A-Z]{2}\d{2} ?)?(?:\d ?){7,}\d\b",
                  lambda m: mask_account(m.group(0)), text)


def result_json(ex: Extraction, pages: int, vlm: dict) -> dict:
    for t in ex.txns:  # account numbers never leave unmasked
        t.description = mask_text(t.description, ex.account_number)
    return {
        "statement": ex.statement,
        "transactions": [txn_json(t) for t in ex.txns],
        "checks": {"running_balance_ok": ex.checks.running_balance_ok,
                   "totals_reconcile": ex.checks.totals_reconcile,
                   "problems": ex.checks.problems},
        "pages": pages,
        "vlm": vlm,
    }
