"""Stage 3b: find a transaction table from geometry and content, without knowing its header.

A row is a line with a date token followed by money tokens. The date column is the x-position
most dated lines share; amount columns are clusters of money right edges over many rows. Text
outside the table's x-range (side panels, page furniture) is not read; lines without a date in
the table are continuations (descriptions over several lines, FX and reference detail lines),
dateless amount rows (a day's further rows), balance rows (brought/carried forward) or totals.
Header words in several languages only label the columns found; which column is which, when no
header says so, is decided later by reconciliation (`readings.py`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .normalize import _MONTH_ALT, DATE_START_RE, Money, RawDate, _plausible, _raw_from_match, clean_description
from .words import Line, Page, Token

# Header words: hints only (en, de, fr, es, it, nl, pt), folded to lowercase letters.
HINTS: dict[str, tuple[str, ...]] = {
    "debit": ("debit", "debits", "withdrawal", "withdrawals", "paidout", "moneyout", "out", "payments",
              "soll", "lastschrift", "belastung", "ausgang", "ausgaben", "débit", "débits", "debito",
              "débito", "cargo", "cargos", "retiros", "uscite", "debe", "addebiti", "addebito", "af", "uitgaven",
              "debet", "saída", "saidas", "saídas", "charges", "purchases", "dr", "minus", "spent"),
    "credit": ("credit", "credits", "deposit", "deposits", "paidin", "moneyin", "in", "receipts", "haben",
               "gutschrift", "eingang", "einnahmen", "crédit", "crédits", "credito", "crédito", "abono", "haber",
               "abonos", "ingresos", "entrate", "accrediti", "bij", "inkomsten", "entrada", "entradas",
               "cr", "plus", "paymentscredits", "payments&credits"),
    "amount": ("amount", "betrag", "umsatz", "montant", "importe", "importo", "bedrag", "valor",
               "transactionamount", "amount(€)", "amount(£)", "amount($)", "betrageur", "montanteur"),
    "balance": ("balance", "saldo", "solde", "kontostand", "runningbalance", "balance(£)", "balance(€)",
                "balance($)", "saldoeur", "soldeeur", "balanceowed"),
}
_HINT = {w: kind for kind, words in HINTS.items() for w in words}
SUMMARY_RE = re.compile(
    r"^\W*(sub\s*-?\s*tota(a)?l[e]?|zwischensumme|sous-total|totale parziale|total|totals|summe|gesamt|"
    r"totaux|totale|totaal)\b", re.I)
SUBTOTAL_RE = re.compile(r"^\W*(sub|zwischen|sous|totale parziale)", re.I)
END_RE = re.compile(
    r"\b(end|ende|fin|fine|einde|fim|final)\b.{0,24}?(transac\w*|statement|buchung\w*|umsätze|umsatz\w*|"
    r"opérations?|operations?|movimient\w*|moviment\w*|transazion\w*|mouvements?|overzicht|afschrift|"
    r"extrato|extracto|relevé|auszug\w*|lançamentos)", re.I)


def _fold(text: str) -> str:
    return re.sub(r"[^\w&()€£$]", "", text.lower())


def hint_kind(text: str) -> str | None:
    return _HINT.get(_fold(text))


@dataclass
class DateHit:
    raw: RawDate
    i: int  # first token
    j: int  # token after the date
    x0: float
    x1: float
    ambiguous: bool = False  # also reads as an amount (`10.28`)


@dataclass
class MoneyHit:
    i: int
    j: int
    money: Money
    x0: float
    x1: float


@dataclass
class GeoColumn:
    x0: float
    x1: float  # span of the cells seen
    right: float  # typical right edge
    hint: str | None = None


@dataclass
class GeoRow:
    """One table row before its columns are given kinds."""

    page: int
    date: RawDate | None
    description: str
    cells: dict[int, Money]  # by column index
    score: float
    bbox: list[float]  # x0, top, x1, bottom in page units
    kind: str = "transaction"  # or "balance" (brought/carried forward) or "summary"
    lines: int = 1


@dataclass
class GeoTable:
    columns: list[GeoColumn] = field(default_factory=list)
    rows: list[GeoRow] = field(default_factory=list)
    has_date2: bool = False
    sectioned: bool = False  # read section by section (deposits, withdrawals, checks)
    ended: bool = False  # an end-of-transactions marker was read: nothing after it is a row
    multi_date: bool = False  # a page showed several date columns (one table, or tables side by side)


def money_cells(tokens: list[Token], lh: float, start: int = 0) -> list[MoneyHit]:
    from .layout import _money_cells  # one money-cell reader for both table readers

    return [MoneyHit(i + start, j + start, m, tokens[i + start].x0, tokens[j + start - 1].x1)
            for i, j, m in _money_cells(tokens[start:], lh)]


def dates_in(tokens: list[Token]) -> list[DateHit]:
    """Every date printed as whole tokens in a line (left to right, not overlapping)."""
    out: list[DateHit] = []
    k = 0
    while k < len(tokens):
        ch = tokens[k].text[:1]
        if not ch.isalnum():
            k += 1
            continue
        parts = [t.text for t in tokens[k:k + 5]]
        text = " ".join(parts)
        m = DATE_START_RE.match(text)
        hit = None
        if m:
            end = m.end()
            pos = 0
            for n, part in enumerate(parts):
                pos += len(part)
                if end <= pos:
                    rest = part[len(part) - (pos - end):]
                    glued = rest[:1].isalpha() and (m.group("c") or m.group("iy")) is not None  # OCR: `09/12/24Paiement`
                    if rest in ("", ".", ",") or glued or (rest.startswith("/") and DATE_START_RE.match(rest[1:])) \
                            or re.fullmatch(r"[/.\-]\d{0,3}", rest):  # a year cut short
                        # the date ends at a token boundary, or a second date follows (`04.01./05.01.`)
                        raw = _raw_from_match(m)
                        if raw is not None and _plausible(raw):
                            hit = DateHit(raw, k, k + n + 1, tokens[k].x0, tokens[k + n].x1)
                    break
                pos += 1
        if hit is None:
            cut = _CUT_YEAR.fullmatch(tokens[k].text)
            if cut:  # `01.05.201`: a year cut short (a narrow cell, OCR); the year comes from the period
                raw = RawDate(int(cut.group(1)), int(cut.group(3)), None, "numeric")
                if _plausible(raw):
                    hit = DateHit(raw, k, k + 1, tokens[k].x0, tokens[k].x1)
        if hit:
            out.append(hit)
            k = hit.j
        else:
            k += 1
    return out


_CUT_YEAR = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2\d{1,3}")


def _cluster(values: list[tuple[float, int]], tol: float) -> list[list[tuple[float, int]]]:
    """Greedy 1-D clusters of (x, row id) pairs, neighbours within `tol`."""
    groups: list[list[tuple[float, int]]] = []
    for v in sorted(values):
        if groups and v[0] - groups[-1][-1][0] <= tol:
            groups[-1].append(v)
        else:
            groups.append([v])
    return groups


@dataclass
class _LineInfo:
    line: Line
    dates: list[DateHit]
    cells: list[MoneyHit]


_GLUED_DATE = re.compile(r"(?:19|20)\d{2}([-/.])\d{2}\1\d{2}|\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})")


_DAY_MONTH_GLUED = re.compile(r"(\d{1,2}\.?(?:%s)\.?(?:\d{4}|\d{2})?)(?=[A-Z])" % _MONTH_ALT, re.I)
_MONTH_DAY_GLUED = re.compile(r"((?i:%s)\.?\d{1,2}|\d{2})(?=[A-Z][a-z]{2})" % _MONTH_ALT)  # `jun02Recibo`, `02Pago`
# an amount (its currency symbol and sign too) with its two decimals run into a long number or a word
# (OCR glues close columns: `30.0000036547854`, `$19.19-783754343`, `30.68ReembolsoAMAZON`)
_GLUED_MONEY = re.compile(r"([-(]?[$€£]?(?:\d{1,3}(?:[,.'’]\d{3})+|\d+)[.,]\d{2}(?:[-)]|€?(?:DR|CR)(?=[A-Z])|(?=\d{5,}))?)(\d{5,}|[A-Z][A-Za-z]{3,}.*)")
# a date without a year (`09/05PaiementCB`, `20.06.Betaal`) or a year (`2018Pinbetaling`) run into the
# description: the rest is a word, not a currency code (`12.30EUR` stays an amount)
_GLUED_SHORT_DATE = re.compile(
    r"(\d{1,2}[/.\-]\d{2}\.?|\d{1,2}\.\d{1,2}\.|(?:19|20)\d{2})(?=[A-Z]|[a-z]{2})(?![A-Z]{3}\b|(?:DR|CR|Dr|Cr|D|C)\b)"
    r"|(\d{1,2}/\d{2})(?=\d{5,}$)")  # `06/03471517684`: a date and a reference number
_TWO_DATES = re.compile(r"(\d{1,2}[/.\-]\d{2})(?=\d{1,2}[/.\-]\d{1,2})")


def _short_date_ok(text: str) -> bool:
    """A year, or a day and month in either order (`09/05`, `20.06.`)."""
    parts = [int(p) for p in re.split(r"[/.\-]", text) if p]
    if len(parts) == 1:
        return True
    a, b = parts
    return 1 <= a <= 31 and 1 <= b <= 31 and min(a, b) <= 12


def split_glued(tokens: list[Token], depth: int = 2) -> list[Token]:
    """OCR glues words that stand close (`2021-04-032021-04-02`, `LTD2021-04-21`, `09/05Paiement`,
    `02/0102/03Recibo`): a date or an amount inside a longer token becomes a token of its own, its
    box cut in proportion; the pieces are split again (`depth` times)."""
    out: list[Token] = []
    for tok in tokens:
        text = tok.text
        if len(text) < 6 or not any(ch.isdigit() for ch in text):
            out.append(tok)
            continue
        cuts = []
        two = _TWO_DATES.match(text)  # `02/1802/18`: two dates without a year (and what follows)
        if two:
            cuts.append(two.end(1))
        named = _DAY_MONTH_GLUED.match(text)  # `17oktPinbetaling`
        if named and text[named.end():named.end() + 1].isupper():
            cuts.append(named.end())
        month_day = _MONTH_DAY_GLUED.match(text)
        if month_day:
            cuts.append(month_day.end())
        money = _GLUED_MONEY.fullmatch(text)  # `30.0000036547854`: an amount and a reference number
        if money:
            cuts.append(money.end(1))
        short = _GLUED_SHORT_DATE.match(text)
        if short and not money and _short_date_ok(short.group(1) or short.group(2)):
            cuts.append(short.end())
        for m in _GLUED_DATE.finditer(text):
            if (m.start(), m.end()) != (0, len(text)) and not (money and m.start() < money.end(1)):
                cuts += [m.start(), m.end()]
        if not cuts:
            out.append(tok)
            continue
        bounds = sorted({0, len(text), *cuts})
        width = (tok.x1 - tok.x0) / len(text)
        pieces = [Token(text[a:b], tok.x0 + a * width, tok.x0 + b * width, tok.top, tok.bottom, tok.seg, tok.score)
                  for a, b in zip(bounds, bounds[1:]) if text[a:b].strip()]
        out.extend(split_glued(pieces, depth - 1) if depth > 0 and len(pieces) > 1 else pieces)
    return out


def _analyse(page: Page, lh: float) -> list[_LineInfo]:
    out = []
    for line in page.lines:
        if page.source != "text":
            line = Line(split_glued(line.tokens), line.page)
        toks = line.tokens
        dates = dates_in(toks)
        cells = money_cells(toks, lh)
        for d in dates:  # `6.17` in `6.17 € DR` is an amount, unless it stands in the date column
            d.ambiguous = any(c.i < d.j and d.i < c.j for c in cells)
        date_tokens = {k for d in dates if not d.ambiguous for k in range(d.i, d.j)}
        cells = [c for c in cells if not any(k in date_tokens for k in range(c.i, c.j))]
        out.append(_LineInfo(line, dates, cells))
    return out


def _date_columns(infos: list[_LineInfo], lh: float, min_top: int = 2) -> list[tuple[float, float]]:
    """x-ranges of date columns: the x0 shared by most lines with a date followed by money, and
    any other as strong (a page printing two tables side by side), left to right."""
    # a balance line (`Beginning balance on May 3, 2003  7,126.11`) is not a row: it does not vote
    votes = [n for n, info in enumerate(infos) if info.cells and not _balance_label(info.line.text)]
    values = [(d.x0, n) for n in votes for d in infos[n].dates if not d.ambiguous]
    if not values:  # `01.02` reads as a date and as an amount: only when no other date column shows
        values = [(d.x0, n) for n in votes for d in infos[n].dates if len(infos[n].cells) > 1]
    if not values:
        return []
    groups = [(len({n for _, n in g}), g) for g in _cluster(values, 1.0 * lh)]
    top = max(k for k, _ in groups)
    if top < min_top:
        return []
    out = [g for k, g in groups if k == top or (k >= 3 and k >= 0.5 * top)]
    ranges = sorted((min(x for x, _ in g), max(x for x, _ in g)) for g in out)
    # a second date column right after the first (transaction and posting dates) is not a table
    merged: list[tuple[float, float]] = []
    for r in ranges:
        if merged and _adjacent_dates(infos, merged[-1], r, lh):
            continue
        merged.append(r)
    return merged


def _adjacent_dates(infos: list[_LineInfo], a, b, lh: float) -> bool:
    """Whether lines dated in column `a` mostly carry their next date in column `b`."""
    both = total = 0
    for info in infos:
        da = next((d for d in info.dates if a[0] - 0.6 * lh <= d.x0 <= a[1] + 0.6 * lh), None)
        if da is None:
            continue
        total += 1
        if any(d.i == da.j and b[0] - 0.6 * lh <= d.x0 <= b[1] + 0.6 * lh for d in info.dates):
            both += 1
    return total > 0 and both >= 0.5 * total


def _row_date(info: _LineInfo, dcol: tuple[float, float], lh: float) -> DateHit | None:
    """The line's date in the date column; an amount-like date (`10.28`) there stops being money."""
    for d in info.dates:
        if dcol[0] - 0.6 * lh <= d.x0 <= dcol[1] + 0.6 * lh:
            if d.ambiguous:
                info.cells = [c for c in info.cells if c.j <= d.i or c.i >= d.j]
                d.ambiguous = False
            return d
    return None


def find_columns(infos: list[_LineInfo], dcol: tuple[float, float], lh: float) -> list[GeoColumn]:
    """Amount columns: right edges of money cells shared by many dated rows."""
    values = []
    leading = set()  # cells that open their line (nothing but a date left of them)
    rows = 0
    for n, info in enumerate(infos):
        d = _row_date(info, dcol, lh)
        if d is None:
            continue
        cells = info.cells  # amount columns may stand left or right of the date
        if not cells:
            continue
        rows += 1
        values.extend((c.x1, n) for c in cells)
        first = cells[0]
        if all(d.i <= k < d.j for k in range(first.i)):
            leading.add((first.x1, n))
    if not rows:
        return []
    need = 1 if rows <= 3 else max(2, round(0.12 * rows))
    groups = _cluster(values, 1.2 * lh)
    strong = [g for g in groups if len({n for _, n in g}) >= need]
    if not strong:
        return []
    # a rarely used column (one credit on the page) right of the strong ones' left edge is kept;
    # left of it a lone amount is description text (an FX detail, a reference)
    lo = min(min(x for x, _ in g) for g in strong) - 10 * lh
    cols = []
    for g in groups:
        xs = [x for x, _ in g]
        # ... unless it opens its lines, left of the descriptions: a column used rarely (credits)
        opens = len({n for _, n in g}) >= 2 and all(v in leading for v in g)
        if g in strong or min(xs) >= lo or opens:
            cols.append(GeoColumn(0.0, max(xs), sorted(xs)[len(xs) // 2]))
    # cell spans (x0) for the kept columns
    for info in infos:
        for c in info.cells:
            for col in cols:
                if abs(c.x1 - col.right) <= 1.2 * lh:
                    col.x0 = c.x0 if col.x0 == 0.0 else min(col.x0, c.x0)
    # a column of money that is mostly description text (left of others, ragged) is not kept:
    # descriptions rarely align their right edges, so a kept cluster is a column.
    return cols


def _column_of(cell: MoneyHit, cols: list[GeoColumn], lh: float) -> int | None:
    best, best_d = None, None
    for k, col in enumerate(cols):
        d = abs(cell.x1 - col.right)
        if d > 1.5 * lh and not (cell.x0 < col.x1 and cell.x1 > col.x0 and d < 4 * lh):
            continue
        if best_d is None or d < best_d:
            best, best_d = k, d
    return best


def _header_hints(infos: list[_LineInfo], first: int, cols: list[GeoColumn], dcol, lh: float) -> None:
    """Label columns from header words on the few lines above the first row (hints only)."""
    from .layout import _segments

    top = infos[first].line.top
    for info in reversed(infos[max(0, first - 4):first]):
        if top - info.line.bottom > 5 * lh:
            break
        unplaced = []
        for seg in _segments(info.line):
            pieces = [(" ".join(t.text for t in seg), seg[0].x0, seg[-1].x1)]
            pieces += [(t.text, t.x0, t.x1) for t in seg]
            for text, x0, x1 in pieces:
                kind = hint_kind(text)
                if kind is None:
                    continue
                for col in cols:
                    if col.hint is None and (min(x1, col.x1) - max(x0, col.x0) > 0
                                             or abs(x1 - col.right) < 1.5 * lh):
                        col.hint = kind
                        break
                else:
                    if kind in ("debit", "credit", "amount", "balance"):
                        unplaced.append((kind, x1))
        words = [t.x0 for t in info.line.tokens]
        for kind, x1 in unplaced:
            # a label left-aligned in a wide cell over right-aligned figures (`Addebito` over
            # `   650,00 EUR`): the first column right of it, with no other header word between
            near = min((c for c in cols if c.x0 >= x1 - lh), key=lambda c: c.x0, default=None)
            if near is not None and near.hint is None and near.x0 - x1 < 4 * lh \
                    and not any(x1 < w < near.x0 for w in words):
                near.hint = kind
        if any(c.hint for c in cols):
            break


def _region(infos: list[_LineInfo], x_max: float) -> list[_LineInfo]:
    """The lines' dates and cells left of `x_max` (one table of a page printing several)."""
    out = []
    for info in infos:
        out.append(_LineInfo(info.line, [d for d in info.dates if d.x1 <= x_max],
                             [c for c in info.cells if c.x1 <= x_max]))
    return out


SECONDARY_DATE_RE = re.compile(
    r"^(value|valuta|valutadat\w*|wert|valeur|val\.?|valor|f\.?\s*valor|fecha\s+valor|data\s+valuta|"
    r"post|posted|posting|post\s+date|posting\s+date|date\s+valeur|rentedatum|(?:fecha|data|date)\s+v(?:al\w*)?)(?:\b|\.|$)",
    re.I)


# `Data V` / `Date v.`: a value-date header cut to its initial (a narrow column) still names it
def _secondary_date(infos: list[_LineInfo], dcol, lh: float) -> bool:
    """Whether the header over a date column names a value or posting date (not the transaction's)."""
    first = next((n for n, info in enumerate(infos)
                  if any(dcol[0] - 0.6 * lh <= d.x0 <= dcol[1] + 0.6 * lh for d in info.dates)), None)
    if first is None:
        return False
    top = infos[first].line.top
    for info in reversed(infos[max(0, first - 3):first]):
        if top - info.line.bottom > 5 * lh:
            break
        words = [t for t in info.line.tokens if dcol[0] - 0.8 * lh <= t.x0 <= dcol[1] + 3 * lh]
        if words and SECONDARY_DATE_RE.match(" ".join(t.text for t in words)):
            return True
    return False


DEBIT_SECTION_RE = re.compile(
    r"\b(withdrawals?|debits?|checks?\s*paid|cheques?|purchases|charges|fees|belastungen|abbuchungen|lastschriften|"
    r"ausgänge|débits|retraits|cargos|retiros|prelievi|addebiti|uscite|afschrijvingen|débitos|saídas)\b", re.I)
CREDIT_SECTION_RE = re.compile(
    r"\b(deposits?|credits?|credited|refunds|gutschriften|eingänge|crédits|dépôts|versements|abonos|ingresos|"
    r"accrediti|versamenti|entrate|bijschrijvingen|créditos|depósitos|entradas)\b", re.I)


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def unglue(text: str) -> str:
    """Words OCR ran together at a case change apart again (`TotalATMWithdrawals` -> `Total ATM Withdrawals`)."""
    return _CAMEL.sub(" ", text)


def _sections(infos: list[_LineInfo]) -> list[tuple[int, int]]:
    """Line ranges of a page cut after each total line (`Total Deposits ...`): a statement printed
    in sections (deposits, withdrawals, checks) has one small table per section."""
    out, start = [], 0
    for n, info in enumerate(infos):
        if SUMMARY_RE.match(unglue(info.line.text)) and not any(d for d in info.dates if not d.ambiguous):
            out.append((start, n + 1))
            start = n + 1
    out.append((start, len(infos)))
    return [r for r in out if r[1] > r[0]]


def _section_sign(infos: list[_LineInfo]) -> int:
    """+1 / -1 when the title above a section's first row names credits or debits, else 0."""
    first = next((n for n, info in enumerate(infos) if info.cells and any(not d.ambiguous for d in info.dates)), None)
    if first is None:
        return 0
    title = unglue(" ".join(info.line.text for info in infos[max(0, first - 3):first]))
    debit, credit = bool(DEBIT_SECTION_RE.search(title)), bool(CREDIT_SECTION_RE.search(title))
    return -1 if debit and not credit else (1 if credit and not debit else 0)


def read_tables(pages: list[Page], merge_dates: bool = False, sections: bool = False,
                cache: dict | None = None) -> GeoTable:
    """All table rows of a document, found from geometry. Columns are kept relative to their
    date column, so side-by-side tables and pages that shift the table line up; a page with too
    few rows to find its own columns uses the previous page's. Several date columns on a page
    are read as tables side by side, or with `merge_dates` as one table whose rows carry several
    dates (the transaction date is the first column not headed as a value or posting date). With
    `sections`, each section of a page (cut at total lines) is its own small table, its columns
    counted from the right and its unsigned amounts signed by its title (withdrawals, deposits)."""
    table = GeoTable()
    rel_cols: list[GeoColumn] | None = None
    dcol = None
    for page in pages:
        if table.ended:
            break
        lh = page.line_height
        if cache is not None and page.number in cache:
            page_infos = cache[page.number]
        else:
            page_infos = _analyse(page, lh)
            if cache is not None:
                cache[page.number] = page_infos
        parts = _sections(page_infos) if sections else [(0, len(page_infos))]
        dated_parts = [r for r in parts if any(i.cells and any(not d.ambiguous for d in i.dates)
                                               for i in page_infos[r[0]:r[1]])]
        if sections and len(dated_parts) > 1:
            table.sectioned = True
        for a, b in parts:
            infos = page_infos[a:b]
            sign = _section_sign(infos) if sections else 0
            dcols = _date_columns(infos, lh, min_top=1 if sections else 2)
            others: list = []
            if len(dcols) > 1:
                table.multi_date = True
                if merge_dates:
                    primary = next((d for d in dcols if not _secondary_date(infos, d, lh)), dcols[0])
                    others = [d for d in dcols if d != primary]
                    dcols = [primary]
            if not dcols and dcol is not None and rel_cols and not sections:
                dcols = [dcol]
            for k, this in enumerate(dcols):
                x_max = dcols[k + 1][0] - 0.5 * lh if k + 1 < len(dcols) else float("inf")
                region = _region(infos, x_max) if x_max != float("inf") else infos
                cols = find_columns(region, this, lh)
                if not cols and rel_cols and not sections:
                    cols = [GeoColumn(c.x0 + this[0], c.x1 + this[0], c.right + this[0], c.hint) for c in rel_cols]
                if not cols:
                    continue
                dcol = this
                _read_page(page, region, cols, this, lh, table, x_max, others, by_rank=sections,
                           sign=sign if len(cols) == 1 else 0)
                if sections:  # columns counted from the right: the sections' amount columns line up
                    rel_cols = [GeoColumn(0, 0, 10000 - 100 * (len(cols) - 1 - n), c.hint) for n, c in enumerate(cols)]
                else:
                    rel_cols = [GeoColumn(c.x0 - this[0], c.x1 - this[0], c.right - this[0], c.hint) for c in cols]
                for col in rel_cols:
                    _merge_column(table, col, lh)
    table.columns.sort(key=lambda c: c.right)
    for row in table.rows:  # cells were keyed by their column's right edge, relative to the date column
        row.cells = {_nearest(table.columns, right): m for right, m in row.cells.items()}
    return table


def _merge_column(table: GeoTable, col: GeoColumn, lh: float) -> None:
    for have in table.columns:
        if abs(have.right - col.right) < 1.5 * lh:
            have.x0, have.x1 = min(have.x0, col.x0), max(have.x1, col.x1)
            have.hint = have.hint or col.hint
            return
    table.columns.append(GeoColumn(col.x0, col.x1, col.right, col.hint))


def _nearest(cols: list[GeoColumn], right: float) -> int:
    return min(range(len(cols)), key=lambda k: abs(cols[k].right - right))


def _read_page(page: Page, infos: list[_LineInfo], cols: list[GeoColumn], dcol, lh: float,
               table: GeoTable, x_max: float = float("inf"), others: list | None = None,
               by_rank: bool = False, sign: int = 0) -> None:
    dated = [n for n, info in enumerate(infos) if _row_date(info, dcol, lh) is not None
             and any(_column_of(c, cols, lh) is not None for c in info.cells)]
    if not dated:
        return
    dated = _main_blocks(infos, dated, lh)
    first, last = dated[0], dated[-1]
    panels = _panel_bands(infos, dated, dcol, lh, cols)
    if panels:
        infos = [_outside(info, panels) for info in infos]
        cols = [c for c in cols if not any(a <= c.x0 and c.x1 <= b for a, b in panels)]
        dated = [n for n in dated if _row_date(infos[n], dcol, lh) is not None]
        if not cols or not dated:
            return
        first, last = dated[0], dated[-1]
    if not any(c.hint for c in cols):
        _header_hints(infos, first, cols, dcol, lh)
    # the table spans its dated lines' words outside any panel (a description may stand left of the date)
    row_toks = [t for n in dated for t in infos[n].line.tokens if not _in_bands(t, panels) and t.x1 <= x_max]
    left = min([dcol[0]] + [c.x0 for c in cols] + [t.x0 for t in row_toks]) - 0.8 * lh
    right = min(max([c.x1 for c in cols] + [t.x1 for t in row_toks]) + 1.0 * lh, x_max)
    # the second date column: most dated rows have another date right after the first
    seconds = 0
    for n in dated:
        d = _row_date(infos[n], dcol, lh)
        if any(o.i == d.j for o in infos[n].dates):
            seconds += 1
    has_date2 = seconds >= max(2, 0.6 * len(dated))
    table.has_date2 |= has_date2
    swap = has_date2 and _secondary_date(infos, dcol, lh)  # the first date is a value/posting date
    last_row: GeoRow | None = None
    last_bottom: float | None = None
    last_date: RawDate | None = None
    # balance rows before the first dated row (brought forward) count too
    start = first
    for n in range(first - 1, max(-1, first - 4), -1):
        info = infos[n]
        if infos[start].line.top - info.line.bottom > 2.5 * lh:
            break
        text = info.line.text
        if any(_column_of(c, cols, lh) is not None for c in info.cells if c.x0 >= left) \
                and _balance_label(text) and not _closing_label(text):
            start = n  # a brought-forward balance just above the first row
    for n in range(start, len(infos)):
        info = infos[n]
        line = info.line
        if n > last and last_bottom is not None and line.top - last_bottom > 2.5 * lh:
            break
        toks = [t for t in line.tokens if left <= t.cx <= right]
        if not toks:
            continue
        d = _row_date(info, dcol, lh)
        cells: dict = {}
        used: set[int] = set()
        for c in info.cells:
            if c.x0 < left or c.x1 > right:
                continue
            k = _column_of(c, cols, lh)
            if k is None or k in cells:
                continue
            money = c.money
            if sign and not money.marker:  # a section's title says which way its amounts go
                money = Money(money.value * sign, True, "neg" if sign < 0 else "plus")
            cells[10000 - 100 * (len(cols) - 1 - k) if by_rank else cols[k].right - dcol[0]] = money
            used.update(range(c.i, c.j))
        d2 = None
        skip = set(range(d.i, d.j)) if d else set()
        for o in others or ():  # the row's other dates (value, posting) are not description
            for od in info.dates:
                if o[0] - 0.6 * lh <= od.x0 <= o[1] + 0.6 * lh:
                    skip.update(range(od.i, od.j))
        if d is not None and has_date2:
            d2 = next((o for o in info.dates if o.i == d.j), None)
            if d2 is not None:
                skip.update(range(d2.i, d2.j))
        words = [t for k, t in enumerate(line.tokens) if k not in used and k not in skip
                 and left <= t.cx <= right and not _in_bands(t, panels)]
        text = clean_description(" ".join(t.text for t in words))
        box_toks = [t for k, t in enumerate(line.tokens) if (k in used or k in skip or t in words)]
        bbox = _bbox(box_toks) if box_toks else None
        score = min((t.score for t in box_toks), default=1.0)
        if d is not None and cells:
            first_date = d2.raw if swap and d2 is not None else d.raw
            row = GeoRow(page.number, first_date, text, cells, score, bbox)
            if n < first or (len(cells) == 1 and _balance_label(text, start=True)):
                row.kind = "balance"
            elif SUMMARY_RE.search(unglue(text)):
                row.kind = "summary"
            table.rows.append(row)
            last_row, last_bottom, last_date = row, line.bottom, first_date
            continue
        if cells:
            row = GeoRow(page.number, None, text, cells, score, bbox)
            if _balance_label(text) or n < first:
                row.kind = "balance"
                if n > first and _closing_label(text):
                    table.rows.append(row)
                    break  # the closing balance ends the table; what follows is not transactions
            elif SUMMARY_RE.search(unglue(text)) or (not text and len(cells) >= 2 and len(cols) >= 3):
                row.kind = "summary"
            elif last_date is None:
                row.kind = "balance" if _balance_label(text) else "summary"
            table.rows.append(row)
            if row.kind == "transaction":
                last_row = row
            else:
                last_row = None
            last_bottom = line.bottom
            if row.kind == "summary" and not SUBTOTAL_RE.match(text):
                break  # totals close the table; what follows is not transactions
            continue
        if END_RE.search(line.text):
            table.ended = True
            break
        if not text:
            continue
        if last_row is not None and last_bottom is not None and line.top - last_bottom < 1.3 * lh \
                and n <= last + 3 and abs(words[0].x0 - dcol[0]) > 0.3 * lh:
            last_row.description = clean_description(last_row.description + " " + text)
            last_row.lines += 1
            if bbox:
                last_row.bbox = _union(last_row.bbox, bbox)
            last_bottom = line.bottom


def _main_blocks(infos: list[_LineInfo], dated: list[int], lh: float) -> list[int]:
    """Dated lines in vertically contiguous blocks (a gap of more than 2.5 lines splits); a lone
    dated line set apart (a footer, a note) is not part of the table when a larger block exists."""
    blocks: list[list[int]] = [[dated[0]]]
    for a, b in zip(dated, dated[1:]):
        gaps = [infos[k + 1].line.top - infos[k].line.bottom for k in range(a, b)]
        if max(gaps, default=0) > 2.5 * lh:
            blocks.append([b])
        else:
            blocks[-1].append(b)
    biggest = max(len(b) for b in blocks)
    return [n for b in blocks if len(b) >= 2 or len(b) == biggest for n in b]


BALANCE_WORD_RE = re.compile(r"\b(balance|saldo|solde|kontostand|stand|balans)\b", re.I)


def _balance_label(text: str, start: bool = False) -> bool:
    """An opening/closing/forward balance line (`Kontostand am 31.01.2021`, `Balance b/f`); with
    `start`, only a label the text begins with."""
    from .layout import CLOSING_RE, OPENING_RE

    if start:
        return any(r.match(text) for r in (OPENING_RE, CLOSING_RE, BALANCE_WORD_RE))
    return bool(OPENING_RE.search(text) or CLOSING_RE.search(text) or BALANCE_WORD_RE.search(text))


def _panel_bands(infos: list[_LineInfo], dated: list[int], dcol, lh: float,
                 cols: list[GeoColumn] | None = None) -> list[tuple[float, float]]:
    """x-bands beside the table that hold a panel (account summary, notes): over the dated lines,
    text split by vertical gutters into bands; a band with text on few of them, or whose text reads
    as summary labels, is a panel, and so is a sparse amount column right next to a panel's labels."""
    spans = []
    for n in dated:
        info = infos[n]
        money = {k for c in info.cells for k in range(c.i, c.j)} | {k for d in info.dates for k in range(d.i, d.j)}
        for k, t in enumerate(info.line.tokens):
            if k not in money:
                spans.append((t.x0, t.x1, n))
    spans.sort()
    bands: list[list] = []
    for x0, x1, n in spans:
        if bands and x0 <= bands[-1][1] + 1.0 * lh:
            b = bands[-1]
            b[1] = max(b[1], x1)
            b[2].add(n)
        else:
            bands.append([x0, x1, {n}])
    total = len(dated)

    def summary_labels(b) -> bool:  # "Opening balance", "Total credits": an account summary's labels
        texts = [" ".join(t.text for t in infos[n].line.tokens if b[0] <= t.x0 and t.x1 <= b[1]) for n in b[2]]
        return sum(bool(SUMMARY_RE.search(x) or _balance_label(x, start=True)) for x in texts) >= 0.5 * len(texts)

    # a description fills nearly every row; a panel's text only some, or reads as summary labels
    panels = [b for b in bands if not b[0] - lh <= dcol[0] <= b[1]
              and (len(b[2]) < 0.75 * total or summary_labels(b))]
    if not panels:
        return []
    out = [(b[0] - 0.1, b[1] + 0.1) for b in panels]
    for col in cols or ():  # the panel's figures: a sparse amount column right after its labels
        fill = sum(any(abs(c.x1 - col.right) <= 1.5 * lh for c in infos[n].cells) for n in dated)
        if fill >= 0.75 * total:
            continue
        left = [b for b in bands if b[1] <= col.x0]
        near = max(left, key=lambda b: b[1]) if left else None
        # the table's date column between the labels and the figures: they are the table's, not the panel's
        if near in panels and not near[1] <= dcol[0] < col.x0 and not any(
                o is not col and near[1] <= o.x0 < col.x0 for o in cols):
            out.append((col.x0 - 0.1, col.x1 + 0.1))
    return out


def _in_bands(t: Token, bands: list[tuple[float, float]]) -> bool:
    return any(a <= t.x0 and t.x1 <= b for a, b in bands)


def _outside(info: _LineInfo, bands: list[tuple[float, float]]) -> _LineInfo:
    """A line without its tokens' dates and cells inside the bands."""
    toks = info.line.tokens
    return _LineInfo(info.line, [d for d in info.dates if not any(a <= toks[d.i].x0 and toks[d.j - 1].x1 <= b
                                                                 for a, b in bands)],
                     [c for c in info.cells if not any(a <= c.x0 and c.x1 <= b for a, b in bands)])


def _closing_label(text: str) -> bool:
    """A closing balance (not a carried-forward one: the table goes on after that)."""
    from .layout import CARRIED_RE, CLOSING_RE

    m = CLOSING_RE.search(text)
    return bool(m) and not CARRIED_RE.search(m.group(0))


def _bbox(tokens: list[Token]) -> list[float]:
    return [min(t.x0 for t in tokens), min(t.top for t in tokens), max(t.x1 for t in tokens),
            max(t.bottom for t in tokens)]


def _union(a: list[float] | None, b: list[float]) -> list[float]:
    if a is None:
        return b
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]


def locate_amounts(page: Page, amounts: list) -> list[list[float] | None]:
    """Where rows read elsewhere (the VLM) stand on the page: the box of the first unused line
    printing each amount (sign aside), or None when no line does."""
    lh = page.line_height
    lines = [(ln, {abs(c.money.value) for c in money_cells(ln.tokens, lh)}) for ln in page.lines]
    used: set[int] = set()
    out: list[list[float] | None] = []
    for amount in amounts:
        hit = next((k for k, (ln, values) in enumerate(lines) if k not in used and abs(amount) in values), None)
        if hit is None:
            out.append(None)
            continue
        used.add(hit)
        out.append(_bbox(lines[hit][0].tokens))
    return out
