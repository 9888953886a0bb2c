"""Stages 3-5 together: parsed rows -> normalised transactions -> checks -> the result document."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from .checks import CheckResult, Txn, infer_signs, problem, repair_lost_minus, run_checks
from .geometry import read_tables
from .layout import Parsed, parse_document
from .normalize import infer_date_order, resolve, search_dates
from .readings import Reading, geometry_readings
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
    default_year: object = None  # an int year or the anchor date of yearless rows
    reading: dict | None = None

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
    text = parsed.outside_rows("period", parsed.period_text)
    if not text:
        return None
    a = search_dates(text[0])
    b = search_dates(text[1])
    if not a or not b:
        return None
    best = None
    # a month abbreviation naming two months (fr `jui`): the reading whose period spans nearest a month
    for ra in _month_readings(a[0]):
        for rb in _month_readings(b[0]):
            start = resolve(ra, order, default_year=rb.year)
            end = resolve(rb, order, default_year=ra.year)
            if start and end and start > end and ra.year is None:
                start = start.replace(year=start.year - 1)
            if start and end and start <= end:
                key = abs((end - start).days - 30)
                if best is None or key < best[0]:
                    best = (key, (start, end))
    return best[1] if best else None


def _month_readings(raw) -> list:
    return [raw] if not raw.alt_month else [replace(raw, alt_month=None),
                                            replace(raw, second=raw.alt_month, alt_month=None)]


def _ignores_balance(txns: list[Txn], ignored: list[dict]) -> bool:
    """Whether a column this reading ignores runs like a balance (its change from row to row is
    the row's amount on most rows): a reading that ignores it cannot claim to reconcile."""
    keys = {k for d in ignored for k in d}
    for key in keys:
        hits = total = 0
        prev = None
        for t, d in zip(txns, ignored):
            v = d.get(key)
            if v is None:
                continue
            if prev is not None:
                total += 1
                hits += abs(v - prev) == abs(t.amount)
            prev = v
        if total >= 2 and hits >= 0.5 * total:
            return True
    return False


def _near(when: date, period: tuple[date, date], days: int = 45) -> bool:
    return period[0] - timedelta(days=days) <= when <= period[1] + timedelta(days=days)


def _anchor(parsed: Parsed, order: str) -> tuple[date | int | None, str]:
    """Where a date without a year takes its year from: the statement date, else the latest
    date printed on the statement (period, due date) in its most common year, else a bare year."""
    if parsed.statement_date is not None:
        when = resolve(parsed.statement_date, order)
        if when:
            return when, "statement date"
    dates = [d for d in (resolve(r, order) for r in parsed.context_dates) if d]
    if dates:
        years = [d.year for d in dates]
        common = max(set(years), key=years.count)
        near = [d for d in dates if abs(d.year - common) <= 1]
        return max(near), "latest date printed"
    if parsed.years:
        return max(set(parsed.years), key=parsed.years.count), "year printed"
    return None, "none printed"


def _order(parsed: Parsed, period_raws: list, hint: str | None) -> tuple[str, str]:
    """Date order (DMY/MDY/YMD) and why: the data when it decides, else the hint, else the order
    under which the rows' dates run forward in time (and stay in the period)."""
    raws = parsed.all_dates + period_raws
    if hint == "YMD":
        return infer_date_order(raws, hint), "requested"
    decided = infer_date_order(raws, None)
    numeric = [r for r in raws if r.kind == "numeric"]
    if not numeric:
        return decided, "no numeric dates"
    if any(r.first > 12 or r.second > 12 for r in numeric) or (decided == "YMD"):
        return decided, "day > 12 seen"
    if hint:
        return infer_date_order(raws, hint), "requested" if hint else "default"
    best = None
    for order in ("DMY", "MDY"):
        seq = [resolve(r, order, default_year=2000) for r in parsed.all_dates]
        seq = [d for d in seq if d]
        back = sum(1 for a, b in zip(seq, seq[1:]) if b < a)
        key = (back, order != "DMY")
        if best is None or key < best[0]:
            best = (key, order)
    return best[1], "dates run forward"


def build(parsed: Parsed, opts: Options, b_sign: int = 1) -> Extraction:
    """Normalise the parsed rows and run the checks. `b_sign` reads printed balances (running,
    opening, closing) with the opposite sign (a card printing the balance owed as positive)."""
    period_raws = [d for side in parsed.outside_rows("period", parsed.period_text) or () for d in search_dates(side)]
    hint = opts.order_hint()
    if hint is None and _currency(parsed, opts) == "USD":
        hint = "MDY"  # US statements write month first
    order, order_why = _order(parsed, period_raws, hint)
    period = _period(parsed, order)
    anchor, anchor_why = _anchor(parsed, order)
    default_year = anchor
    txns: list[Txn] = []
    opening_row = closing_row = None
    last_date = None
    rows_on_page: dict[int, int] = {}
    problems: list[dict] = []
    explicit = False
    prev_date = None
    ignored_vals: list[dict] = []
    # a column marking only credits (`CR`) leaves its debits unmarked: those are negative
    markers = {raw.amounts["amount"].marker for raw in parsed.rows
               if raw.kind == "transaction" and "amount" in raw.amounts}
    unmarked_debits = "cr" in markers and "neg" not in markers
    for raw in parsed.rows:
        if raw.kind == "opening":
            if opening_row is None and not txns:
                opening_row = raw.amounts["balance"].value * b_sign
            continue
        if raw.kind == "closing":
            closing_row = raw.amounts["balance"].value * b_sign
            continue
        rows_on_page[raw.page] = rows_on_page.get(raw.page, 0) + 1
        row_no = rows_on_page[raw.page]
        when = resolve(raw.date, order, period, default_year) if raw.date else last_date
        if when and period and raw.date and raw.date.year is not None and not _near(when, period):
            again = resolve(replace(raw.date, year=None), order, period, default_year)
            if again and _near(again, period):
                when = again  # a printed year that cannot be right (cut off, misread): the period's
        if raw.date and raw.date.alt_month and prev_date:  # `jui`: rows run in date order, the next month comes next
            later = [d for d in (resolve(replace(raw.date, second=m, alt_month=None), order, period, default_year)
                                 for m in (raw.date.second, raw.date.alt_month)) if d and d >= prev_date]
            when = min(later) if later else when
        if raw.date and period is None and not isinstance(default_year, date) and raw.date.year is None \
                and prev_date and when and when < prev_date:
            when = when.replace(year=when.year + 1)  # rolled over New Year without a period
        if when is None:
            problems.append(problem(raw.page, row_no, "date_missing", "row has no readable date"))
        last_date = prev_date = when or last_date
        a = raw.amounts
        if "amount" in a:
            amount = a["amount"].value
            explicit |= a["amount"].explicit
            if unmarked_debits and not a["amount"].explicit:
                amount = -amount
        else:
            debit, credit = a.get("debit"), a.get("credit")
            amount = (credit.value if credit else Decimal(0)) - (abs(debit.value) if debit else Decimal(0))
            explicit = True
        balance = a["balance"].value * b_sign if "balance" in a else None
        txns.append(Txn(when, raw.description, amount, balance, raw.page, row_no, round(raw.score, 3),
                        bbox=raw.bbox))
        ignored_vals.append({k: v.value for k, v in a.items() if k.startswith("ignored")})

    labelled_opening = parsed.outside_rows("opening", parsed.opening)
    labelled_closing = parsed.outside_rows("closing", parsed.closing)
    opening = labelled_opening.value * b_sign if labelled_opening else opening_row
    closing = labelled_closing.value * b_sign if labelled_closing else closing_row
    opening_printed = opening is not None
    if opening is None and txns and txns[0].balance is not None:
        opening = txns[0].balance - txns[0].amount
        problems.append(problem(txns[0].page, txns[0].row, "opening_inferred",
                                "no opening balance printed; inferred from the first row"))
    signs = "as printed"
    if "amount" in parsed.columns and not explicit:
        infer_signs(txns, opening)
        signs = "from running balances"
    else:
        repair_lost_minus(txns, opening)
        if opening is not None and labelled_opening is None and opening_row is None and txns:
            opening = txns[0].balance - txns[0].amount if txns[0].balance is not None else opening
    closing_printed = closing is not None
    if closing is None and txns:
        closing = next((t.balance for t in reversed(txns) if t.balance is not None), None)
    if not parsed.table_found:
        problems.insert(0, problem(None, None, "no_transaction_table",
                                   "no transaction table found (no lines with a date followed by amounts "
                                   "in aligned columns)"))
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
    reading = {"layout": parsed.reading, "columns": list(parsed.columns), "date_order": order,
               "date_order_from": order_why, "year_from": "statement period" if period else anchor_why,
               "signs": signs, "balance_sign": "as printed" if b_sign == 1 else "negated",
               "opening_printed": opening_printed, "closing_printed": closing_printed,
               "dropped": parsed.dropped, "ignores_balance": _ignores_balance(txns, ignored_vals)}
    ex = Extraction(statement, txns, opening, closing, checks, parsed.table_found, account, problems,
                    order, period, default_year)
    ex.reading = reading
    return ex


def score(ex: Extraction) -> tuple:
    """How well a reading reconciles (higher is better): cent-exact totals against printed
    balances, then running balances, then how much was checked and read."""
    checked = sum(t.balance is not None for t in ex.txns)
    bad = sum(not t.balance_ok for t in ex.txns)
    r = ex.reading
    both = r["opening_printed"] and r["closing_printed"]
    ok = ex.checks.running_balance_ok and ex.checks.totals_reconcile and bool(ex.txns) \
        and all(t.date is not None for t in ex.txns)
    verified = checked - bad - sum(t.date is None for t in ex.txns)
    dropped = ex.reading.get("dropped", 0) + 1000 * ex.reading.get("ignores_balance", False)
    ok = ok and not dropped
    gap = float("inf")  # how far the printed totals are from reconciling: nearer is the likelier reading
    if both and ex.opening is not None and ex.closing is not None:
        gap = float(abs(ex.opening + sum((t.amount for t in ex.txns), Decimal(0)) - ex.closing))
    unread = sum(t.amount == 0 for t in ex.txns)  # a row whose amount this reading found in no column
    return (ok and (both or checked > 0), ok, verified - bad - dropped - unread, ex.checks.totals_reconcile and both,
            -gap, len(ex.txns))


def confidence(ex: Extraction) -> float:
    """Per-statement confidence from what the checks could prove."""
    if not ex.txns:
        return 0.0
    r = ex.reading
    checked = sum(t.balance is not None for t in ex.txns)
    bad = sum(not t.balance_ok for t in ex.txns)
    if ex.checks.running_balance_ok and ex.checks.totals_reconcile:
        if r["opening_printed"] and r["closing_printed"]:
            return 0.99
        return 0.95 if checked >= len(ex.txns) / 2 else 0.8
    if ex.checks.running_balance_ok and checked == 0:
        return 0.5  # nothing printed to check against
    return round(max(0.05, 0.5 * (1 - bad / max(1, checked))), 2)


def account_kind(parsed: Parsed) -> str:
    """`card` when the statement speaks of a card account (a credit limit, a minimum payment, a
    credit card; or two brand words), else `bank`."""
    from .layout import WEAK_CARD_WORDS

    strong = parsed.card_words - WEAK_CARD_WORDS
    return "card" if strong or len(parsed.card_words) >= 2 else "bank"


CREDIT_WORDS_RE = re.compile(
    r"\b(refund|thank you|payment received|payment - thank|cashback|return|gutschrift|erstattung|rückzahlung|"
    r"zahlung erhalten|zahlungseingang|remboursement|paiement reçu|reembolso|devoluci[oó]n|pago recibido|"
    r"rimborso|storno|pagamento ricevuto|terugbetaling|betaling ontvangen|terugstorting|estorno|"
    r"pagamento recebido)\b", re.I)


def issuer_view(ex: Extraction) -> bool:
    """Amounts printed from the card issuer's view: the rows that name a payment or refund are
    mostly negative while the other rows (purchases) are mostly positive."""
    credits = [t for t in ex.txns if CREDIT_WORDS_RE.search(t.description or "")]
    others = [t for t in ex.txns if t not in credits]
    if not credits or not others:
        return False
    return sum(t.amount < 0 for t in credits) >= 0.67 * len(credits) and \
        sum(t.amount > 0 for t in others) >= 0.67 * len(others)


def orient(ex: Extraction, kind: str) -> tuple[bool, str]:
    """The one sign rule: a card's purchases negative, its balance owed negative. A card statement
    (by its wording, or printed from the issuer's view) is negated when its rows read the issuer's
    way; negating every amount and balance keeps every check as it was. (flipped, kind)"""
    if not ex.txns:
        return False, kind
    columns = ex.reading.get("columns") or []
    if issuer_view(ex):
        kind = "card"
    elif kind != "card" or sum(t.amount < 0 for t in ex.txns) >= sum(t.amount > 0 for t in ex.txns):
        return False, kind
    elif "debit" in columns and "credit" in columns:
        return False, kind  # charges stand in the debit column in either view: their sign is the column's
    for t in ex.txns:
        t.amount = -t.amount
        if t.balance is not None:
            t.balance = -t.balance
    ex.opening = -ex.opening if ex.opening is not None else None
    ex.closing = -ex.closing if ex.closing is not None else None
    for key, value in (("opening_balance", ex.opening), ("closing_balance", ex.closing)):
        ex.statement[key] = str(value) if value is not None else None
    ex.recheck()
    return True, kind


def readings(pages: list[Page]):
    """The header reading, then every geometric reading of the document (built lazily)."""
    parsed = parse_document(pages)
    if parsed.table_found:
        yield Reading("header", parsed)
    cache: dict = {}
    table = read_tables(pages, cache=cache)
    geo = []
    if table.multi_date:  # several date columns: one table with several dates per row, or side by side
        geo = geometry_readings(read_tables(pages, merge_dates=True, cache=cache), parsed)
        yield from geo
    more = geometry_readings(table, parsed)
    yield from more
    geo += more
    sectioned = read_tables(pages, merge_dates=True, sections=True, cache=cache)
    if sectioned.sectioned:  # deposits, withdrawals and checks printed as separate small tables
        more = geometry_readings(sectioned, parsed)
        yield from more
        geo += more
    if not parsed.table_found and not geo:
        yield Reading("header", parsed)


def extract(pages: list[Page], opts: Options) -> Extraction:
    """Build every reading, with balances as printed and negated; the one that reconciles best wins.
    Ties go to the earlier reading (header words, then hint-compatible column kinds)."""
    best = None
    tried = 0
    for reading in readings(pages):
        for b_sign in (1, -1):
            ex = build(reading.parsed, opts, b_sign)
            tried += 1
            # on a tie, a statement without card words reads its balances as printed (not as owed)
            plain = b_sign == 1 or account_kind(reading.parsed) == "card"
            key = score(ex) + (reading.hinted, plain)
            if best is None or key > best[0]:
                best = (key, ex, reading)
            if b_sign == 1 and not any(t.balance is not None for t in ex.txns) and ex.opening is None:
                break  # no balance printed: its sign cannot matter
        if best[0][0] and best[2].name == "header" and best[0][3]:
            break  # the header reading reconciles against printed balances: nothing can beat it
    _, ex, reading = best
    kind = account_kind(reading.parsed)
    if ex.reading["balance_sign"] == "negated" and score(ex)[1]:
        kind = "card"  # it reconciles only with its printed balances read as owed: a credit account
    flipped, kind = orient(ex, kind)
    ex.statement["kind"] = kind
    ex.reading["kind"] = kind
    ex.reading["tried"] = tried
    if flipped:
        ex.reading["signs"] = "card: charges negative, balance owed negative"
    ex.reading["reconciled"] = bool(ex.txns) and ex.checks.running_balance_ok and ex.checks.totals_reconcile
    ex.reading["confidence"] = confidence(ex)
    return ex


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
        "bbox": [round(v, 1) for v in t.bbox] if t.bbox else None,
        "source": t.source,
        "confidence": confidence,
        "balance_ok": t.balance_ok,
        "check": check_state(t),
        "problem": t.problem,
    }


def check_state(t: Txn) -> str:
    """`verified` (its printed balance follows from the one before), `failed` (it does not) or
    `not_checkable` (no printed balance on the row, or none before it to start from)."""
    if not t.balance_ok:
        return "failed"
    return "verified" if t.checked else "not_checkable"


def mask_text(text: str, account: str | None) -> str:
    """Mask the statement's account number and any long digit run (IBAN, card) in free text."""
    if account and len(account) >= 5:
        text = text.replace(account, mask_account(account))
    return re.sub(r"\b(?:[A-Z]{2}\d{2} ?)?(?:\d ?){7,}\d\b",
                  lambda m: mask_account(m.group(0)), text)


def result_json(ex: Extraction, pages: int, vlm: dict, page_info: list[dict] | None = None) -> dict:
    for t in ex.txns:  # account numbers never leave unmasked
        t.description = mask_text(t.description, ex.account_number)
    reading = dict(ex.reading or {})
    if ex.txns and any(p.get("code") == "opening_inferred" for p in ex.checks.problems):
        ex.txns[0].checked = False  # the opening came from this row: its check proves nothing
    return {
        "statement": ex.statement,
        "transactions": [txn_json(t) for t in ex.txns],
        "checks": {"running_balance_ok": ex.checks.running_balance_ok,
                   "totals_reconcile": ex.checks.totals_reconcile,
                   "problems": ex.checks.problems,
                   "reconciled": bool(ex.txns) and ex.checks.running_balance_ok and ex.checks.totals_reconcile,
                   "confidence": reading.pop("confidence", confidence(ex) if ex.reading else 0.0),
                   "reading": reading},
        "pages": pages,
        "page_info": page_info or [],
        "vlm": vlm,
    }
