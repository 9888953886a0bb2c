"""Stage 3: layout-aware parsing. Find the transaction table from its header words and column
positions, then read rows (multi-line descriptions, brought/carried-forward rows) and the
statement details printed around it (bank, account, period, opening and closing balance)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .normalize import (CURRENCY_CODES, CURRENCY_SYMBOLS, DATE_RE, Money, RawDate, clean_description,
                        find_money, match_date_prefix, parse_money, repair_money, search_dates)
from .words import Line, Page, Token

HEADERS: dict[str, tuple[str, ...]] = {
    "date": ("date", "datum", "buchungstag", "buchungsdatum", "posting date", "transaction date",
             "trans date", "booking date", "fecha", "data", "date opération", "date operation", "buchung",
             "datum transactie", "data operazione", "fecha operación", "data movimento", "tran date"),
    "value_date": ("value date", "valuta", "wert", "date valeur", "valeur", "value", "posting date",
                   "post date", "fecha valor", "data valuta", "valutadatum", "data valor"),
    "description": ("description", "details", "transaction details", "particulars", "narrative",
                    "transaction", "transactions", "memo", "payee", "reference", "buchungstext",
                    "beschreibung", "verwendungszweck", "text", "libellé", "libelle", "opération",
                    "operation", "opérations", "concepto", "descrizione", "transaction description",
                    "payment type and details", "payment details", "vorgang", "buchungsinformation",
                    "descripción", "descripcion", "omschrijving", "descrição", "descricao", "causale",
                    "merchant", "activity", "détail", "detail"),
    "debit": ("debit", "debits", "withdrawal", "withdrawals", "paid out", "money out", "out",
              "payments", "soll", "lastschrift", "débit", "debit (€)", "charges", "dr", "cargo", "cargos",
            "addebiti", "uscite", "af", "débito", "debito", "saídas", "belastung", "ausgang", "debe",
            "addebito", "uscita", "salida", "salidas", "débits", "afschrijving", "afschrijvingen", "saída"),
    "credit": ("credit", "credits", "deposit", "deposits", "paid in", "money in", "in", "receipts",
               "haben", "gutschrift", "crédit", "cr", "abono", "abonos", "accrediti", "entrate", "bij",
               "crédito", "credito", "entradas", "haber", "accredito", "entrata", "entrada", "crédits",
               "bijschrijving", "bijschrijvingen"),
    "amount": ("amount", "betrag", "montant", "importe", "umsatz", "transaction amount", "importo", "bedrag",
               "valor"),
    "balance": ("balance", "saldo", "solde", "kontostand", "running balance", "balance (£)"),
}
_HEADER_LOOKUP = {}
for _kind, _words in HEADERS.items():
    for _w in _words:
        _HEADER_LOOKUP[re.sub(r"[^\w]", "", _w.lower())] = _kind
NUMERIC_KINDS = ("debit", "credit", "amount", "balance")

def _labels(*phrases: str) -> str:
    """Alternation of phrases whose spaces may be missing (OCR drops them)."""
    return "|".join(r"\s*".join(re.escape(w) for w in p.split()) for p in phrases)


OPENING_RE = re.compile("(%s)" % _labels(
    "opening balance", "balance brought forward", "brought forward", "previous balance", "starting balance",
    "beginning balance", "balance b/f", "anfangssaldo", "alter saldo", "saldo vortrag", "übertrag",
    "ubertrag", "solde initial", "solde précédent", "solde precedent", "ancien solde", "report",
    "last month's balance", "last months balance", "balance from previous statement", "balance forward",
    "previous statement balance", "balance from last statement", "previous account balance",
    "alter kontostand", "saldo anterior", "saldo inicial", "saldo iniziale", "saldo precedente",
    "beginsaldo", "vorig saldo", "oud saldo", "saldo inicial", "saldo vormonat", "saldo letzte abrechnung",
    "letzter saldo", "solde reporté", "saldo riportato", "riporto", "transporte", "suma anterior",
    "van vorige pagina", "balance inicial", "saldo de apertura", "solde d'ouverture", "saldo di apertura",
    "openingssaldo"), re.I)
CLOSING_RE = re.compile("(%s)" % _labels(
    "closing balance", "balance carried forward", "carried forward", "new balance", "ending balance",
    "balance c/f", "endsaldo", "neuer saldo", "solde final", "nouveau solde", "a reporter", "à reporter",
    "statement balance", "neuer kontostand", "saldo final", "saldo actual", "nuevo saldo", "saldo finale",
    "eindsaldo", "nieuw saldo", "saldo atual", "novo saldo", "saldo nuevo", "nuovo saldo",
    "total amount due", "total due", "amount owed", "montant total dû", "gesamtbetrag fällig",
    "da riportare", "a transportar", "suma y sigue", "naar volgende pagina", "balance final", "saldo de cierre",
    "solde de clôture", "solde de cloture", "saldo di chiusura", "slotsaldo"), re.I)
CARRIED_RE = re.compile(r"carried|c/f|reporter|übertrag|ubertrag|riportare|transportar|sigue|volgende", re.I)
CARD_RE = re.compile("(%s)" % _labels(
    "credit card", "card account", "card number", "minimum payment", "minimum amount due", "minimum due",
    "payment due", "credit limit", "available credit", "kreditkarte", "mindestbetrag", "kreditrahmen",
    "carte de crédit", "paiement minimum", "tarjeta de crédito", "pago mínimo", "límite de crédito",
    "carta di credito", "pagamento minimo", "creditcard", "minimaal te betalen", "cartão de crédito",
    "pagamento mínimo", "limite de crédito", "limite di credito", "kreditlimit", "credit line",
    "visa", "mastercard", "american express"), re.I)
WEAK_CARD_WORDS = {"visa", "mastercard", "american express", "card number"}
STATEMENT_DATE_RE = re.compile("(%s)" % _labels(
    "statement date", "date of statement", "closing date", "statement closing date", "as of", "as at",
    "auszugsdatum", "erstellt am", "stichtag", "date du relevé", "date d'arrêté", "arrêté au",
    "fecha de emisión", "fecha del extracto", "fecha de corte", "data estratto", "data di emissione",
    "datum afschrift", "data do extrato", "data de emissão"), re.I)
RANGE_RE = re.compile(r"\s*(?:to|-|–|—|bis|au|al|a|tot|até|through|thru|until)\s*$", re.I)
TOTAL_RE = re.compile(r"^\s*(total|totals|summe|totaux)\b", re.I)
ACCOUNT_RE = re.compile(
    r"(?:account\s*(?:number|no\.?|#)|acct\.?\s*(?:no\.?)?|konto\s*nummer|konto(?:-?nr\.?)?|"
    r"num[ée]ro\s*de\s*compte|n°\s*de\s*compte|iban)\s*[:.#]?\s*"
    r"(?P<num>[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{2,4}){3,8}|\d[\d\s\-]{3,24}\d|\*+\d{4})", re.I)
PERIOD_RE = re.compile("(%s)" % _labels(
    "statement period", "period", "zeitraum", "période du", "periode du", "période", "from", "vom"), re.I)
CURRENCY_RE = re.compile(r"\b(%s)\b" % "|".join(CURRENCY_CODES))


@dataclass
class Column:
    kind: str
    x0: float
    x1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass
class RawRow:
    """One table row as printed, before normalisation."""

    page: int
    date: RawDate | None
    description: str
    amounts: dict[str, Money]  # by column kind
    score: float
    kind: str = "transaction"  # or "opening" / "closing" (forward rows)
    lines: int = 1
    bbox: list[float] | None = None  # x0, top, x1, bottom in page units


@dataclass
class Parsed:
    """What the layout stage found in a document."""

    rows: list[RawRow] = field(default_factory=list)
    bank_name: str | None = None
    account_number: str | None = None
    currency: str | None = None
    symbols: set[str] = field(default_factory=set)
    period_text: tuple[str, str] | None = None
    opening: Money | None = None
    closing: Money | None = None
    table_found: bool = False
    columns: list[str] = field(default_factory=list)
    all_dates: list[RawDate] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    context_dates: list[RawDate] = field(default_factory=list)  # dates with a year outside the table
    statement_date: RawDate | None = None
    card_words: set[str] = field(default_factory=set)
    reading: str = "header"
    dropped: int = 0  # rows with amounts only in columns this reading ignores
    hints: list[str | None] = field(default_factory=list)
    # every labelled opening/closing balance and period found, with where it was printed and its
    # label text ((value, page, top, bottom, text)): one that is part of a transaction row (a
    # description reading `TRANSPORTE 11,20`, a detail line `DU 01-04-2026 AU 30-06-2026`) is not
    # the statement's
    labelled: dict[str, list[tuple]] = field(default_factory=dict)

    def outside_rows(self, what: str, default=None):
        """The first labelled `what` that is not part of one of this reading's transaction rows: its
        label text is in the row's description and it is printed on the row's own (dated) line, or,
        for a period, on any of its lines (a detail line). A labelled balance on a line a row took in
        below it (`Nouveau solde dû` after the last row) stays the statement's."""
        found = self.labelled.get(what)
        if not found:
            return default
        rows = [r for r in self.rows if r.kind == "transaction" and r.bbox]
        for value, page, top, bottom, text in found:
            key, half = _fold_text(text), (bottom - top) / 2
            last = (lambda r: r.bbox[3]) if what == "period" else (lambda r: r.bbox[1] + half)
            if not key or not any(r.page == page and r.bbox[1] - half <= top <= last(r)
                                  and key in _fold_text(r.description) for r in rows):
                return value
        return None


def _fold_text(text: str) -> str:
    return re.sub(r"[^\w]", "", text.lower())


def _segments(line: Line) -> list[list[Token]]:
    segs: list[list[Token]] = []
    for tok in line.tokens:
        if segs and segs[-1][-1].seg == tok.seg:
            segs[-1].append(tok)
        else:
            segs.append([tok])
    return segs


def _header_kind(text: str) -> str | None:
    key = re.sub(r"[^\w]", "", text.lower())
    return _HEADER_LOOKUP.get(key)


def find_header(line: Line) -> list[Column] | None:
    """Columns when `line` is a transaction table header, else None."""
    cols: list[Column] = []
    for seg in _segments(line):
        kind = _header_kind(" ".join(t.text for t in seg))
        if kind is not None:
            cols.append(Column(kind, seg[0].x0, seg[-1].x1))
            continue
        for tok in seg:  # words of adjacent headers may share one segment (OCR)
            cols.append(Column(_header_kind(tok.text) or "other", tok.x0, tok.x1))
    kinds = [c.kind for c in cols]
    known = [k for k in kinds if k != "other"]
    if "date" not in kinds or len(set(known)) < 3 or len(known) < len(kinds) / 2:
        return None
    if not any(k in kinds for k in ("debit", "credit", "amount")):
        return None
    seen: set[str] = set()
    out = []
    for c in cols:
        if c.kind in seen:
            if c.kind == "date":
                c.kind = "value_date"
            else:
                continue
        seen.add(c.kind)
        out.append(c)
    return out


def _money_cells(tokens: list[Token], lh: float) -> list[tuple[int, int, Money]]:
    """(start, end, money) spans of adjacent tokens that read as one amount (`1 234,56`,
    `12.00 DR`, or an amount OCR split into two boxes)."""
    out = []
    i = 0
    while i < len(tokens):
        best = None
        for j in range(min(len(tokens), i + 4), i, -1):
            if any(tokens[k].x0 - tokens[k - 1].x1 > 0.8 * lh for k in range(i + 1, j)):
                continue
            money = parse_money(" ".join(t.text for t in tokens[i:j]))
            if money is None and j - i > 1:
                money = parse_money("".join(t.text for t in tokens[i:j]))
            if money is not None:
                best = (i, j, money)
                break
        if best is None and tokens[i].text in LONE_SIGNS and i + 1 < len(tokens) \
                and tokens[i + 1].x0 - tokens[i].x1 <= 4 * lh:
            # a sign printed apart from its amount, in a sign column of its own (`-     50,00`)
            rest = _money_cells(tokens[i + 1:i + 5], lh)
            if rest and rest[0][0] == 0 and not rest[0][2].explicit:
                money = rest[0][2]
                negative = tokens[i].text != "+"
                best = (i, i + 1 + rest[0][1], Money(-money.value if negative else money.value, True,
                                                     "neg" if negative else "plus"))
        if best:
            out.append(best)
            i = best[1]
        else:
            i += 1
    return out


LONE_SIGNS = {"-", "+", "−", "–"}


class TableReader:
    """Reads the rows of one document's transaction tables, page after page."""

    def __init__(self):
        self.columns: list[Column] | None = None
        self.rows: list[RawRow] = []

    def _col(self, kind: str) -> Column | None:
        return next((c for c in self.columns or [] if c.kind == kind), None)

    def _numeric_column(self, x0: float, x1: float, lh: float) -> Column | None:
        """The amount column a cell at [x0, x1] belongs to: most overlap, else nearest edge."""
        best, best_d = None, None
        for col in self.columns or []:
            if col.kind not in NUMERIC_KINDS:
                continue
            overlap = min(x1, col.x1) - max(x0, col.x0)
            d = -overlap if overlap > 0 else min(abs(x1 - col.x1), abs((x0 + x1) / 2 - col.cx), abs(x0 - col.x0))
            if best_d is None or d < best_d:
                best, best_d = col, d
        if best is None or best_d > 6 * lh:
            return None
        return best

    def read_page(self, page: Page) -> bool:
        """Read the table rows of one page; True when a header was found on it."""
        lh = page.line_height
        header_found = False
        active = self.columns is not None  # continuation pages may omit the header
        last_bottom: float | None = None
        last_row: RawRow | None = None
        for line in page.lines:
            cols = find_header(line)
            if cols is not None:
                self.columns = cols
                header_found = active = True
                last_bottom, last_row = line.bottom, None
                continue
            if not active:
                continue
            if last_bottom is not None and line.top - last_bottom > 3.5 * lh:
                active = False  # a wide gap ends the table
                continue
            row = self._read_line(line, lh, page.number)
            if row == "end":
                active = False
            elif isinstance(row, tuple):  # ("continuation", text) of a multi-line description
                if last_row is not None and line.top - last_bottom < 1.2 * lh:
                    last_row.description = clean_description(last_row.description + " " + row[1])
                    last_row.lines += 1
                    last_row.bbox = _union(last_row.bbox, _line_box(line))
                    last_bottom = line.bottom
            elif row is not None:
                row.bbox = _line_box(line)
                self.rows.append(row)
                last_row = row if row.kind == "transaction" else None
                last_bottom = line.bottom
        return header_found

    def _read_line(self, line: Line, lh: float, page: int):
        """One table line: a RawRow, ("continuation", text), "end" (a totals row) or None."""
        desc_col = self._col("description")
        first_num = min((c.x0 for c in self.columns if c.kind in NUMERIC_KINDS), default=1e9)
        tokens = line.tokens
        amounts: dict[str, Money] = {}
        used: set[int] = set()
        for i, j, money in _money_cells(tokens, lh):
            x0, x1 = tokens[i].x0, tokens[j - 1].x1
            if desc_col is not None and x1 < desc_col.x0 + 2 * lh:
                continue
            col = self._numeric_column(x0, x1, lh)
            if col is None or col.kind in amounts:
                continue
            if x1 < first_num - 4 * lh:
                continue
            amounts[col.kind] = money
            used.update(range(i, j))
        for k, tok in enumerate(tokens):  # amounts whose decimal point OCR lost
            if k in used or tok.x0 < first_num - lh:
                continue
            money = repair_money(tok.text)
            col = self._numeric_column(tok.x0, tok.x1, lh) if money is not None else None
            if col is not None and col.kind not in amounts:
                amounts[col.kind] = money
                used.add(k)
        # text right of the description (noise in the amount columns) is not description
        limit = first_num - 0.5 * lh if desc_col is None else max(first_num - 0.5 * lh, desc_col.x1)
        text_tokens = [t for k, t in enumerate(tokens) if k not in used and t.cx < limit]
        text = " ".join(t.text for t in text_tokens)
        date = None
        rest = text
        date_col = self._col("date")
        if text_tokens and (desc_col is None or text_tokens[0].x0 < desc_col.x0 - 0.3 * lh
                            or (date_col and text_tokens[0].x0 <= date_col.x1)):
            found = match_date_prefix(text)
            if found:
                date, rest = found
                if self._col("value_date") is not None:
                    again = match_date_prefix(rest)
                    if again:
                        rest = again[1]
        description = clean_description(rest)
        if TOTAL_RE.match(description) and date is None:
            return "end"
        score = min((t.score for t in tokens), default=1.0)
        if date is None and not amounts:
            if description and desc_col is not None and text_tokens[0].x0 >= desc_col.x0 - 1.0 * lh:
                return "continuation", description
            return None
        has_move = any(k in amounts for k in ("debit", "credit", "amount"))
        if not has_move and "balance" in amounts:
            if OPENING_RE.search(description):
                return RawRow(page, date, description, amounts, score, kind="opening")
            if CLOSING_RE.search(description):
                return RawRow(page, date, description, amounts, score, kind="closing")
        if not has_move and date is not None and not description and not amounts:
            return None
        if date is None and ((not has_move and "balance" in amounts) or CARRIED_RE.search(description)
                             or (OPENING_RE.search(description) and CLOSING_RE.search(description))):
            # a balance line without a date (`Transport`), or a carried-forward total printed in the
            # amount column (`Übertrag auf Folgeseite`), or both balances on one line: no transaction
            return None
        return RawRow(page, date, description, amounts, score)


def _line_box(line: Line) -> list[float]:
    return [line.tokens[0].x0, line.top, max(t.x1 for t in line.tokens), line.bottom]


def _union(a: list[float] | None, b: list[float]) -> list[float]:
    if a is None:
        return b
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]


def _bank_name(line: Line, lh: float) -> str:
    """The first line's text up to a wide gap (a title on the right is not the bank)."""
    out = [line.tokens[0]]
    for tok in line.tokens[1:]:
        if tok.x0 - out[-1].x1 > 2.5 * max(lh, tok.height):
            break
        out.append(tok)
    return clean_description(" ".join(t.text for t in out))


def _without_dates(text: str) -> str:
    """`on May 3, 2003` -> `on `: what is left of a label's text once its dates are gone."""
    return DATE_RE.sub(" ", text)


def _value_below(line: Line, label: list[Token], lh: float) -> Money | None:
    """An amount printed under a label (`Opening balance` above `1,234.56`), starting in its span."""
    x0, x1 = label[0].x0 - lh, label[-1].x1 + 12 * lh
    for seg in _segments(line):
        if x0 <= seg[0].x0 <= x1:
            money = parse_money(" ".join(t.text for t in seg))
            if money is not None:
                return money
    return None


def _details(parsed: Parsed, pages: list[Page]) -> None:
    """Bank, account, period, currency and labelled balances from the text around the table."""
    for page in pages:
        for n, line in enumerate(page.lines):
            text = line.text
            if parsed.bank_name is None and page.number == pages[0].number:
                first = " ".join(t.text for t in _segments(line)[0])
                if re.search(r"[A-Za-z]{3}", first) and not re.search(
                        r"statement|page|account|tel\b|phone|fax|www\.|@|https?:|\d{5}", first, re.I):
                    parsed.bank_name = _bank_name(line, page.line_height)
            if parsed.account_number is None:
                m = ACCOUNT_RE.search(text)
                if m:
                    parsed.account_number = re.sub(r"[\s\-]", "", m.group("num"))
            if parsed.currency is None:
                m = CURRENCY_RE.search(text)
                if m:
                    parsed.currency = m.group(1)
            for sym in CURRENCY_SYMBOLS:
                if sym in text:
                    parsed.symbols.add(sym)
            period = None
            m = PERIOD_RE.search(text)
            if m:
                found = [d.group(0) for d in DATE_RE.finditer(text[m.end():])][:2]
                if len(found) == 2:
                    period = (found[0], found[1])
            if period is None:
                found = list(DATE_RE.finditer(text))
                for a, b in zip(found, found[1:]):  # "01/06/2024 - 30/06/2024", "1 June to 30 June 2024"
                    if RANGE_RE.fullmatch(text[a.end():b.start()]) and search_dates(b.group(0)) \
                            and (search_dates(b.group(0))[0].year is not None):
                        period = (a.group(0), b.group(0))
                        break
            if period is not None:
                parsed.labelled.setdefault("period", []).append((period, page.number, line.top, line.bottom,
                                                                  period[0]))
                if parsed.period_text is None:
                    parsed.period_text = period
            for m in CARD_RE.finditer(text):
                parsed.card_words.add(re.sub(r"\s+", " ", m.group(0).lower()))
            dates_here = [d for d in search_dates(text) if d.year is not None]
            parsed.context_dates.extend(dates_here)
            if parsed.statement_date is None and dates_here:
                m = STATEMENT_DATE_RE.search(text)
                if m:
                    after = search_dates(text[m.end():])
                    if after and after[0].year is not None:
                        parsed.statement_date = after[0]
            segments = _segments(line)
            segs = [" ".join(t.text for t in seg) for seg in segments]
            for k, seg_text in enumerate(segs):
                for regex, attr in ((OPENING_RE, "opening"), (CLOSING_RE, "closing")):
                    m = regex.search(seg_text)
                    if not m:
                        continue
                    if attr == "closing" and CARRIED_RE.search(m.group(0)):
                        continue  # a page's carried-forward balance, not the statement's closing one
                    rest = seg_text[m.end():]
                    money = find_money(rest)
                    if money is None and not re.search(r"\d", _without_dates(rest)):
                        # the value in the next cell of the line, or under the label on the next line
                        nxt = segs[k + 1] if k + 1 < len(segs) else ""
                        money = parse_money(nxt) if nxt else None
                        if money is None and n + 1 < len(page.lines):
                            money = _value_below(page.lines[n + 1], segments[k], page.line_height)
                    if money is not None:
                        parsed.labelled.setdefault(attr, []).append((money, page.number, line.top, line.bottom,
                                                                     m.group(0)))
                        if getattr(parsed, attr) is None:
                            setattr(parsed, attr, money)
            for y in re.findall(r"(?<!\d)(19[89]\d|20\d\d)(?!\d)", text):
                parsed.years.append(int(y))


def parse_document(pages: list[Page]) -> Parsed:
    """Find the tables and statement details of all pages."""
    parsed = Parsed()
    reader = TableReader()
    for page in pages:
        if reader.read_page(page):
            parsed.table_found = True
    parsed.rows = reader.rows
    parsed.columns = [c.kind for c in reader.columns or []]
    _details(parsed, pages)
    parsed.all_dates = [r.date for r in parsed.rows if r.date is not None]
    return parsed
