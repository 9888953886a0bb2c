"""Statement layouts of the synthetic generator: columns, labels and number/date styles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Callable

MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTHS_EN_LONG = ["January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December"]


def group(value: Decimal, thousands: str = ",", decimal: str = ".") -> str:
    """`1234.5` -> `1,234.50` with the given separators (absolute value)."""
    whole, frac = f"{abs(value):.2f}".split(".")
    parts = []
    while len(whole) > 3:
        parts.insert(0, whole[-3:])
        whole = whole[:-3]
    parts.insert(0, whole)
    return thousands.join(parts) + decimal + frac


def signed(value: Decimal, thousands: str = ",", decimal: str = ".", style: str = "minus") -> str:
    """A signed amount in one of the negative styles: minus, paren, trailing, drcr."""
    text = group(value, thousands, decimal)
    if style == "drcr":
        return f"{text} {'DR' if value < 0 else 'CR'}"
    if value >= 0:
        return text
    return {"minus": f"-{text}", "paren": f"({text})", "trailing": f"{text}-"}[style]


@dataclass
class Layout:
    """How one bank prints its statements."""

    name: str
    columns: list[tuple[str, str]]  # (kind, header label); kinds: date description amount debit credit balance
    date_fmt: Callable[[date], str]
    amount_fmt: Callable[[Decimal], str]
    balance_fmt: Callable[[Decimal], str]
    period_fmt: Callable[[date], str]
    currency: str
    symbol: str
    bank: str
    labels: dict[str, str] = field(default_factory=dict)
    wrap: int = 0  # wrap descriptions longer than this many characters (0: never)
    long_descriptions: bool = False
    n_range: tuple[int, int] = (14, 24)
    carried_forward: bool = False
    year_boundary: bool = False
    overdraft: bool = False
    vocabulary: str = "en"
    page_size: str = "A4"
    daily: bool = False  # date on a day's first row only, balance on its last row only


EN_LABELS = {
    "account": "Account number", "period": "Statement period", "to": "to",
    "opening": "Opening balance", "closing": "Closing balance", "page": "Page", "of": "of",
    "bf": "Balance brought forward", "cf": "Balance carried forward",
}
DE_LABELS = {
    "account": "Kontonummer", "period": "Zeitraum", "to": "bis",
    "opening": "Anfangssaldo", "closing": "Endsaldo", "page": "Seite", "of": "von",
    "bf": "Übertrag", "cf": "Übertrag",
}
FR_LABELS = {
    "account": "Numéro de compte", "period": "Période du", "to": "au",
    "opening": "Solde initial", "closing": "Solde final", "page": "Page", "of": "sur",
    "bf": "Report", "cf": "A reporter",
}


def _dmy(sep: str, year: bool = True, short: bool = False):
    def fmt(d: date) -> str:
        y = f"{d.year % 100:02d}" if short else f"{d.year}"
        return f"{d.day:02d}{sep}{d.month:02d}" + (f"{sep}{y}" if year else "")
    return fmt


def _d_mon(year: bool = True, short_year: bool = False):
    def fmt(d: date) -> str:
        out = f"{d.day:02d} {MONTHS_EN[d.month - 1]}"
        if year:
            out += f" {d.year % 100:02d}" if short_year else f" {d.year}"
        return out
    return fmt


def _long(d: date) -> str:
    return f"{d.day} {MONTHS_EN_LONG[d.month - 1]} {d.year}"


def _us(d: date) -> str:
    return f"{d.month:02d}/{d.day:02d}/{d.year}"


def _mon_d(d: date) -> str:
    return f"{MONTHS_EN[d.month - 1]} {d.day:02d}"


LAYOUTS: dict[str, Layout] = {}


def _add(layout: Layout) -> None:
    LAYOUTS[layout.name] = layout


_add(Layout(
    "signed_amount",
    [("date", "Date"), ("description", "Description"), ("amount", "Amount"), ("balance", "Balance")],
    _dmy("/"), lambda v: signed(v), lambda v: signed(v), _long, "GBP", "£", "Northfield Bank",
    EN_LABELS,
))
_add(Layout(
    "debit_credit",
    [("date", "Date"), ("description", "Description"), ("debit", "Withdrawals"),
     ("credit", "Deposits"), ("balance", "Balance")],
    _us, lambda v: group(v), lambda v: signed(v), _us, "USD", "$", "First Harbor Savings",
    EN_LABELS, page_size="letter",
))
_add(Layout(
    "multiline",
    [("date", "Date"), ("description", "Details"), ("debit", "Paid out"), ("credit", "Paid in"),
     ("balance", "Balance")],
    _d_mon(), lambda v: group(v), lambda v: signed(v), _long, "GBP", "£", "Kingsway Building Society",
    EN_LABELS, wrap=28, long_descriptions=True, n_range=(12, 18),
))
_add(Layout(
    "european",
    [("date", "Datum"), ("description", "Buchungstext"), ("amount", "Betrag"), ("balance", "Saldo")],
    _dmy("."), lambda v: signed(v, ".", ","), lambda v: signed(v, ".", ","), _dmy("."), "EUR", "€",
    "Rheintal Sparkasse", DE_LABELS, vocabulary="de",
))
_add(Layout(
    "french",
    [("date", "Date"), ("description", "Libellé"), ("debit", "Débit"), ("credit", "Crédit"),
     ("balance", "Solde")],
    _dmy("/"), lambda v: group(v, " ", ","), lambda v: signed(v, " ", ","), _dmy("/"), "EUR", "€",
    "Banque du Littoral", FR_LABELS, vocabulary="fr",
))
_add(Layout(
    "swiss",
    [("date", "Datum"), ("description", "Text"), ("amount", "Betrag"), ("balance", "Saldo")],
    _dmy(".", short=True), lambda v: signed(v, "'", ".", "trailing"), lambda v: signed(v, "'", "."),
    _dmy("."), "CHF", "CHF", "Alpenbank Zürich", DE_LABELS, vocabulary="de",
))
_add(Layout(
    "multipage",
    [("date", "Date"), ("description", "Description"), ("debit", "Debit"), ("credit", "Credit"),
     ("balance", "Balance")],
    lambda d: d.isoformat(), lambda v: group(v), lambda v: signed(v), lambda d: d.isoformat(), "GBP", "£",
    "Caledonia Trust", EN_LABELS, n_range=(70, 90), carried_forward=True,
))
_add(Layout(
    "year_boundary",
    [("date", "Date"), ("description", "Description"), ("amount", "Amount"), ("balance", "Balance")],
    _d_mon(year=False), lambda v: signed(v), lambda v: signed(v), _long, "USD", "$",
    "Lakeshore Credit Union", EN_LABELS, year_boundary=True, page_size="letter",
))
_add(Layout(
    "cr_dr",
    [("date", "Date"), ("description", "Transaction details"), ("amount", "Amount"), ("balance", "Balance")],
    _d_mon(short_year=True), lambda v: signed(v, style="drcr"), lambda v: signed(v, style="drcr"), _long,
    "AUD", "$", "Southern Cross Bank", EN_LABELS, overdraft=True,
))
_add(Layout(
    "parentheses",
    [("date", "Date"), ("description", "Description"), ("amount", "Amount"), ("balance", "Balance")],
    _mon_d, lambda v: signed(v, style="paren"), lambda v: signed(v, style="paren"), _us, "USD", "$",
    "Granite State Bank", EN_LABELS, page_size="letter",
))

_add(Layout(
    "daily_balance",
    [("date", "Date"), ("description", "Payment type and details"), ("debit", "Paid out"),
     ("credit", "Paid in"), ("balance", "Balance")],
    _d_mon(short_year=True), lambda v: group(v), lambda v: signed(v), _long, "GBP", "£", "Thames Valley Bank",
    EN_LABELS, n_range=(20, 30), daily=True,
))
_add(Layout(
    "no_balance",
    [("date", "Date"), ("description", "Description"), ("amount", "Amount")],
    _d_mon(), lambda v: signed(v), lambda v: signed(v), _long, "GBP", "£", "Harbourside Bank", EN_LABELS,
))

VOCAB = {
    "en": {
        "debit": ["Card payment TESCO STORES", "Direct debit Thames Water", "Card payment Pret A Manger",
                  "ATM withdrawal High Street", "Standing order Rent", "Card payment Shell Garage",
                  "Direct debit Council Tax", "Online payment Amazon Marketplace", "Monthly account fee",
                  "Card payment Boots Pharmacy", "Direct debit Vodafone", "Transfer to savings",
                  "Card payment Waitrose", "Bill payment British Gas", "Card payment Uber Trip"],
        "credit": ["Salary ACME Ltd", "Refund Amazon", "Transfer from J Smith", "Interest paid",
                   "Cash deposit branch", "Cashback reward", "Dividend Vanguard"],
        "long": ["Direct debit British Gas Services Ltd customer reference 0045 monthly plan",
                 "Card payment Sainsburys Supermarket Holborn London contactless",
                 "Faster payment received from Jonathan Smith for holiday cottage deposit",
                 "Standing order to Greenway Lettings Agency flat rent for the month",
                 "International card payment Hotel Marina Barcelona non sterling fee included"],
    },
    "de": {
        "debit": ["Kartenzahlung REWE Markt", "Lastschrift Stadtwerke", "Dauerauftrag Miete",
                  "Geldautomat Hauptbahnhof", "Lastschrift Telekom", "Kartenzahlung Aral Tankstelle",
                  "Kontoführungsgebühr", "Überweisung Versicherung", "Kartenzahlung Edeka"],
        "credit": ["Gehalt ACME GmbH", "Gutschrift Erstattung", "Zinsen", "Überweisung von M Weber"],
        "long": [],
    },
    "fr": {
        "debit": ["Paiement carte Carrefour", "Prélèvement EDF", "Virement loyer", "Retrait DAB Gare",
                  "Prélèvement Orange", "Paiement carte Total", "Frais de tenue de compte",
                  "Paiement carte Monoprix"],
        "credit": ["Salaire ACME SA", "Remboursement Amazon", "Virement reçu de P Martin", "Intérêts"],
        "long": [],
    },
}
