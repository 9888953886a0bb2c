"""Stage 4: normalise dates and amounts. Money is Decimal, never float."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")

MONTHS = {
    # English
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
    # German
    "januar": 1, "jän": 1, "jänner": 1, "februar": 2, "mär": 3, "mrz": 3, "märz": 3, "mai": 5,
    "juni": 6, "juli": 7, "okt": 10, "oktober": 10, "dez": 12, "dezember": 12,
    # French
    "janv": 1, "janvier": 1, "févr": 2, "fevr": 2, "février": 2, "fevrier": 2, "mars": 3, "avr": 4,
    "avril": 4, "juin": 6, "juil": 7, "juillet": 7, "août": 8, "aout": 8, "aoû": 8, "aou": 8, "fév": 2, "fev": 2, "déc": 12, "décembre": 12,
    "decembre": 12, "octobre": 10, "septembre": 9, "novembre": 11,
    # Spanish, Italian, Dutch, Portuguese (abbreviations that are English words, like pt "out", left out)
    "enero": 1, "ene": 1, "febrero": 2, "marzo": 3, "abril": 4, "abr": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "ago": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    "dic": 12, "gennaio": 1, "gen": 1, "febbraio": 2, "aprile": 4, "maggio": 5, "mag": 5, "giugno": 6,
    "giu": 6, "luglio": 7, "lug": 7, "settembre": 9, "ottobre": 10, "ott": 10, "dicembre": 12,
    "januari": 1, "februari": 2, "maart": 3, "mrt": 3, "maa": 3, "mei": 5, "augustus": 8, "janeiro": 1, "fevereiro": 2,
    "fev": 2, "março": 3, "maio": 5, "junho": 6, "julho": 7, "setembro": 9, "outubro": 10, "dezembro": 12,
    # OCR reads O as 0
    "0ct": 10, "0ctober": 10, "0kt": 10, "n0v": 11, "n0vember": 11,
}
# abbreviations cut so short that they name two months (fr `jui`: juin or juillet): the statement
# period decides (`resolve`)
AMBIGUOUS_MONTHS = {"jui": (6, 7)}
MONTHS.update({k: v[0] for k, v in AMBIGUOUS_MONTHS.items()})
# pt/it abbreviations that are English words: only after a day (`02 out`, `02 set`), never before one
AFTER_DAY_ONLY = {"out": 10, "set": 9}
MONTHS.update(AFTER_DAY_ONLY)
_MONTH_ALT = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_MONTH_ALT_LEADING = "|".join(sorted((re.escape(m) for m in MONTHS if m not in AFTER_DAY_ONLY), key=len,
                                     reverse=True))

CURRENCY_SYMBOLS = {"£": "GBP", "€": "EUR", "$": "USD", "¥": "JPY", "₹": "INR", "fr.": "CHF"}
CURRENCY_CODES = ("GBP", "EUR", "USD", "CHF", "AUD", "CAD", "NZD", "JPY", "SEK", "NOK", "DKK", "PLN",
                  "CZK", "HUF", "INR", "SGD", "HKD", "ZAR", "MXN", "BRL")
_CUR = r"(?:[A-Z]{1,3}\$|[£€$¥₹]|(?:%s)(?![A-Za-z])|Fr\.)" % "|".join(CURRENCY_CODES)

_NUM = r"\d{1,3}(?:[,.'’\u00a0\u202f\u2009 ]\d{3})+[.,]\d{2}|\d+[.,]\d{2}"
MONEY_RE = re.compile(
    rf"""^(?P<pre>[-−–+(]?)\s*(?:{_CUR}\s*)?(?P<pre2>[-−–(]?)\s*(?P<num>{_NUM})\s*(?:{_CUR})?\s*
         (?P<post>\)|-|−|–|(?<![A-Za-z])(?:DR|Dr|dr|CR|Cr|cr|D|C)(?![A-Za-z])|\+)?\s*\)?$""",
    re.X,
)
MONEY_SEARCH = re.compile(
    rf"(?P<pre>[-−(]?)\s*(?:{_CUR}\s*)?(?P<num>{_NUM})(?:\s*(?P<post>\)|-(?!\d)|(?<![A-Za-z])(?:DR|CR)(?![A-Za-z])))?"
)


@dataclass(frozen=True)
class Money:
    """A parsed amount: signed value and whether the text carried an explicit sign marker."""

    value: Decimal
    explicit: bool
    marker: str = ""  # "neg" (-, (), DR), "cr" (CR), "plus" (+) or "" (unmarked)


def _number(num: str) -> Decimal:
    """`1.234,56`, `1,234.56`, `1'234.56`, `1 234,56` -> Decimal: the last separator is decimal."""
    digits = re.sub(r"[^\d.,]", "", num)
    head, frac = digits[:-3], digits[-2:]
    head = re.sub(r"[^\d]", "", head)
    return Decimal(f"{head or '0'}.{frac}")


def parse_money(text: str) -> Money | None:
    """Parse one amount cell, or None when it is not money. `(12.00)`, `12.00-`, `-12.00` and
    `12.00 DR` are negative; `12.00 CR` is an explicit credit."""
    m = MONEY_RE.match(text.strip())
    if not m:
        return None
    try:
        value = _number(m.group("num"))
    except InvalidOperation:
        return None
    pre = (m.group("pre") or "") + (m.group("pre2") or "")
    post = (m.group("post") or "").upper()
    negative = any(c in pre for c in "-−–(") or post in (")", "-", "−", "–", "DR", "D")
    explicit = negative or post in ("CR", "C", "+") or "+" in pre
    if "(" in pre and not text.rstrip().endswith(")"):
        return None
    marker = "neg" if negative else ("cr" if post in ("CR", "C") else ("plus" if explicit else ""))
    return Money(-value if negative else value, explicit, marker)


def repair_money(text: str) -> Money | None:
    """An amount whose decimal separator OCR lost (`123456` in a money column -> 1234.56)."""
    m = re.fullmatch(r"([-(]?)(\d[\d,.' ]*\d{2})([)-]?)\s*(DR|CR)?", text.strip(), re.I)
    if not m or not re.fullmatch(r"\d+", re.sub(r"[,.' ]", "", m.group(2))):
        return None
    digits = re.sub(r"[^\d]", "", m.group(2))
    if len(digits) < 3 or re.search(r"[.,]\d{2}$", m.group(2)):
        return None
    return parse_money(f"{m.group(1)}{digits[:-2]}.{digits[-2:]}{m.group(3)}{' ' + m.group(4) if m.group(4) else ''}")


def find_money(text: str) -> Money | None:
    """The first amount anywhere in `text` (for labelled values such as `Opening balance: £1.00`);
    dates with a year (`vom 31.12.2020`) are not amounts."""
    for d in DATE_RE.finditer(text):
        if d.group("iy") or d.group("c") or d.group("dm") or d.group("mm"):
            text = text[:d.start()] + " " * (d.end() - d.start()) + text[d.end():]
    m = MONEY_SEARCH.search(text)
    if not m:
        return None
    return parse_money(m.group(0).strip())


# -- dates ---------------------------------------------------------------------------------

_ISO = r"(?P<iy>\d{4})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2})"
_NUMERIC = r"(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})(?:[/.\-](?P<c>\d{4}|\d{2}))?\.?"
_D_MON = (rf"(?P<dd>\d{{1,2}})(?:st|nd|rd|th|º)?\.?[\s\-]*(?:de\s+)?(?P<dm>{_MONTH_ALT})\.?"
          # `01 nov 01 nov` (two dates without a year): a day followed by a month name is no year
          rf"(?:[\s\-,]*(?:de\s+)?(?P<dy>\d{{4}}|\d{{2}}(?!\d)(?!\.?\s*(?:{_MONTH_ALT})\b)))?")
# `set 03`, `out 12` (it/pt month first): those abbreviations lead only a two-digit day, never a word
_MON_D = rf"(?P<mm>{_MONTH_ALT_LEADING}|(?:set|out)(?=\s\d{{2}}(?![\d.,:/])))\.?\s*(?P<md>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s*(?P<my>\d{{4}}))?"
DATE_RE = re.compile(rf"(?:{_ISO}|{_D_MON}|{_MON_D}|{_NUMERIC})(?![\d])", re.I)
DATE_START_RE = re.compile(rf"^\s*(?:{_ISO}|{_D_MON}|{_MON_D}|{_NUMERIC})(?![\d,]|\.\d)", re.I)


@dataclass(frozen=True)
class RawDate:
    """A date as printed: day and month known or ambiguous (`a`, `b` numeric), year maybe missing."""

    first: int
    second: int
    year: int | None
    kind: str  # "iso", "named" (month known: first=day, second=month), "numeric" (order unknown)
    third: int | None = None  # a numeric date's third part as printed (the year, or the day in YMD)
    alt_month: int | None = None  # a named month whose abbreviation also names this month (fr `jui`)


def _year(text: str | None) -> int | None:
    if not text:
        return None
    y = int(text)
    return y + 2000 if y < 100 and y < 70 else (y + 1900 if y < 100 else y)


def _alt_month(name: str) -> int | None:
    months = AMBIGUOUS_MONTHS.get(name)
    return months[1] if months else None


def _raw_from_match(m: re.Match) -> RawDate | None:
    g = m.groupdict()
    if g.get("iy"):
        return RawDate(int(g["id"]), int(g["im"]), int(g["iy"]), "iso")
    if g.get("dm"):
        name = g["dm"].lower()
        return RawDate(int(g["dd"]), MONTHS[name], _year(g.get("dy")), "named", alt_month=_alt_month(name))
    if g.get("mm"):
        name = g["mm"].lower()
        return RawDate(int(g["md"]), MONTHS[name], _year(g.get("my")), "named", alt_month=_alt_month(name))
    if g.get("a"):
        c = g.get("c")
        return RawDate(int(g["a"]), int(g["b"]), _year(c), "numeric", int(c) if c and len(c) == 2 else None)
    return None


def match_date_prefix(text: str) -> tuple[RawDate, str] | None:
    """A date at the start of `text` and the rest of the text, or None."""
    m = DATE_START_RE.match(text)
    if not m:
        return None
    raw = _raw_from_match(m)
    if raw is None or not _plausible(raw):
        return None
    return raw, text[m.end():].strip()


def search_dates(text: str) -> list[RawDate]:
    out = []
    for m in DATE_RE.finditer(text):
        raw = _raw_from_match(m)
        if raw is not None and _plausible(raw):
            out.append(raw)
    return out


def _plausible(raw: RawDate) -> bool:
    if raw.kind == "numeric":
        if raw.third is not None and 1 <= raw.second <= 12 and 1 <= raw.third <= 31:
            return True  # may be YY/MM/DD
        return 1 <= raw.first <= 31 and 1 <= raw.second <= 31 and min(raw.first, raw.second) <= 12
    return 1 <= raw.first <= 31 and 1 <= raw.second <= 12


def infer_date_order(raws: list[RawDate], hint: str | None = None) -> str:
    """`DMY` or `MDY` for numeric dates: from the data when it decides, else the hint, else DMY."""
    numeric = [r for r in raws if r.kind == "numeric"]
    if hint == "YMD" and all(r.third is not None for r in numeric):
        return "YMD"  # only a hint decides YY/MM/DD: no data tells 13/06/25 from 25/06/13 reliably
    if any(r.first > 31 for r in numeric) and all(r.third is not None for r in numeric):
        return "YMD"
    if any(r.first > 12 for r in numeric):
        return "DMY"
    if any(r.second > 12 for r in numeric):
        return "MDY"
    return hint if hint in ("DMY", "MDY") else "DMY"


def numeric_parts(raw: RawDate, order: str) -> tuple[int, int, int | None]:
    """(day, month, year or None) of a raw date under a date order (DMY, MDY or YMD)."""
    if raw.kind != "numeric":
        return raw.first, raw.second, raw.year
    if order == "YMD" and raw.third is not None:
        return raw.third, raw.second, _year(str(raw.first))
    if order == "MDY":
        return raw.second, raw.first, raw.year
    return raw.first, raw.second, raw.year


def resolve(raw: RawDate, order: str, period: tuple[date, date] | None = None,
            default_year: int | None = None) -> date | None:
    """A calendar date; a missing year comes from the statement period (across New Year), else
    from `default_year`: an int, or an anchor date printed on the statement (its date, period,
    due date), the row taking the year nearest to it (`28 Dec` on a statement dated 13 Jan is
    last year's)."""
    if raw.alt_month:  # an abbreviation naming two months: the one nearer the period or anchor date
        cands = [d for d in (resolve(replace(raw, second=m, alt_month=None), order, period, default_year)
                             for m in (raw.second, raw.alt_month)) if d]
        target = period or ((default_year, default_year) if isinstance(default_year, date) else None)
        if not cands or target is None:
            return cands[0] if cands else None
        return min(cands, key=lambda d: 0 if target[0] <= d <= target[1]
                   else min(abs((d - target[0]).days), abs((d - target[1]).days)))
    day, month, year = numeric_parts(raw, order)
    if year is not None:
        try:
            return date(year, month, day)
        except ValueError:
            return None
    if isinstance(default_year, date) and not period:
        anchor = default_year  # the year that puts the row nearest the date printed on the statement
        best = None
        for y in (anchor.year - 1, anchor.year, anchor.year + 1):
            try:
                cand = date(y, month, day)
            except ValueError:
                continue
            key = abs((cand - anchor).days)
            if best is None or key < best[0]:
                best = (key, cand)
        return best[1] if best else None
    years = []
    if period:
        years = sorted({period[0].year, period[1].year})
    elif default_year:
        years = [default_year]
    best = None
    for y in years or [date.today().year]:
        try:
            cand = date(y, month, day)
        except ValueError:
            continue
        if period is None:
            return cand
        lo, hi = period[0] - timedelta(days=7), period[1] + timedelta(days=7)
        dist = 0 if lo <= cand <= hi else min(abs((cand - lo).days), abs((cand - hi).days))
        if best is None or dist < best[0]:
            best = (dist, cand)
    return best[1] if best else None


# -- descriptions ----------------------------------------------------------------------------

def clean_description(text: str) -> str:
    """Collapse whitespace and stray separators."""
    return re.sub(r"\s+", " ", text).strip(" |:;,-")
