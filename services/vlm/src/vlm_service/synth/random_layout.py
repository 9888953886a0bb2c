"""A second statement generator, written apart from the parser: every layout decision is drawn at random.

Column set and order (date, value date, description, reference, debit + credit or one signed amount,
balance), header words in en/de/fr/es/it/nl/pt or no header, date formats (day-month-year, month-day-year,
year-month-day, month names, no year, two-digit years, periods over New Year), number formats (1,234.56 /
1.234,56 / 1'234.56 / 1 234,56), negatives (-x, x-, (x), DR/CR), currency symbols, bank accounts and cards
(the issuer's or the holder's sign convention), balances in the header, a side panel or table rows, footers
and page numbers, multi-line descriptions, FX and reference detail lines, sub-totals, carried-forward rows,
junk after an end marker, several pages. Deterministic per seed.

The truth uses the project's sign rule: amounts from the account holder's view (spending negative,
deposits, payments and refunds positive; a card's balance owed negative), so opening + sum == closing.

    from vlm_service.synth.random_layout import make
    st = make(7)
    pdf, truth, scan = st.pdf(), st.truth(), st.scan()
    st.features   # e.g. ['bank', 'lang:fr', 'date:dmy', 'num:dot-comma', 'side_panel', ...]
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .generate import scan_pdf as _scan_pdf
from .layouts import group

CENT = Decimal("0.01")
LANGS = ("en", "de", "fr", "es", "it", "nl", "pt")

HEAD = {
    "en": {"date": ["Date", "Trans. Date", "Posting Date", "Txn Date"], "value": ["Value Date", "Post Date", "Posted"],
           "desc": ["Description", "Details", "Transaction Details", "Particulars", "Narrative"],
           "ref": ["Reference", "Ref No", "Ref."], "debit": ["Debit", "Withdrawals", "Paid out", "Money out", "Charges"],
           "credit": ["Credit", "Deposits", "Paid in", "Money in", "Payments"], "amount": ["Amount", "Value"],
           "balance": ["Balance", "Running Balance"]},
    "de": {"date": ["Datum", "Buchungstag", "Buchung"], "value": ["Valuta", "Wert", "Wertstellung"],
           "desc": ["Verwendungszweck", "Buchungstext", "Vorgang", "Beschreibung"], "ref": ["Referenz", "Beleg"],
           "debit": ["Soll", "Belastung", "Ausgang"], "credit": ["Haben", "Gutschrift", "Eingang"],
           "amount": ["Betrag", "Umsatz"], "balance": ["Saldo", "Kontostand"]},
    "fr": {"date": ["Date", "Date opé."], "value": ["Valeur", "Date valeur"], "desc": ["Libellé", "Opération", "Désignation"],
           "ref": ["Référence", "Réf."], "debit": ["Débit", "Débits"], "credit": ["Crédit", "Crédits"],
           "amount": ["Montant"], "balance": ["Solde"]},
    "es": {"date": ["Fecha", "F. Operación"], "value": ["F. Valor", "Fecha valor"], "desc": ["Concepto", "Descripción", "Movimiento"],
           "ref": ["Referencia"], "debit": ["Cargo", "Debe", "Cargos"], "credit": ["Abono", "Haber", "Abonos"],
           "amount": ["Importe"], "balance": ["Saldo"]},
    "it": {"date": ["Data", "Data contabile"], "value": ["Valuta", "Data valuta"], "desc": ["Descrizione", "Causale", "Operazione"],
           "ref": ["Riferimento"], "debit": ["Addebiti", "Dare", "Uscite"], "credit": ["Accrediti", "Avere", "Entrate"],
           "amount": ["Importo"], "balance": ["Saldo"]},
    "nl": {"date": ["Datum", "Boekdatum"], "value": ["Valutadatum", "Rentedatum"], "desc": ["Omschrijving", "Mededelingen"],
           "ref": ["Kenmerk", "Referentie"], "debit": ["Af", "Debet"], "credit": ["Bij", "Credit"], "amount": ["Bedrag"],
           "balance": ["Saldo"]},
    "pt": {"date": ["Data", "Data Mov."], "value": ["Data Valor"], "desc": ["Descrição", "Histórico", "Movimento"],
           "ref": ["Documento", "Referência"], "debit": ["Débito", "Débitos"], "credit": ["Crédito", "Créditos"],
           "amount": ["Valor", "Montante"], "balance": ["Saldo"]},
}

LABEL = {  # opening, closing, card previous, card new, period, statement date, page, of, b/f, c/f, subtotal, end, total in, total out, summary
    "en": ("Opening balance", "Closing balance", "Previous balance", "New balance", "Statement period", "Statement date",
           "Page", "of", "Balance brought forward", "Balance carried forward", "Subtotal", "*** End of transactions ***",
           "Total credits", "Total debits", "Account summary"),
    "de": ("Alter Kontostand", "Neuer Kontostand", "Saldo Vormonat", "Neuer Saldo", "Zeitraum", "Auszugsdatum",
           "Seite", "von", "Übertrag", "Übertrag auf Folgeseite", "Zwischensumme", "*** Ende der Umsätze ***",
           "Summe Eingänge", "Summe Ausgänge", "Kontoübersicht"),
    "fr": ("Ancien solde", "Nouveau solde", "Solde précédent", "Nouveau solde dû", "Période", "Date d'arrêté",
           "Page", "sur", "Report", "A reporter", "Sous-total", "*** Fin des opérations ***",
           "Total crédits", "Total débits", "Synthèse du compte"),
    "es": ("Saldo anterior", "Saldo final", "Saldo anterior", "Nuevo saldo", "Periodo", "Fecha de emisión",
           "Página", "de", "Suma anterior", "Suma y sigue", "Subtotal", "*** Fin de movimientos ***",
           "Total abonos", "Total cargos", "Resumen de la cuenta"),
    "it": ("Saldo iniziale", "Saldo finale", "Saldo precedente", "Nuovo saldo", "Periodo", "Data estratto",
           "Pagina", "di", "Riporto", "Da riportare", "Subtotale", "*** Fine movimenti ***",
           "Totale entrate", "Totale uscite", "Riepilogo conto"),
    "nl": ("Beginsaldo", "Eindsaldo", "Vorig saldo", "Nieuw saldo", "Periode", "Datum afschrift",
           "Pagina", "van", "Transport", "Transport naar volgende pagina", "Subtotaal", "*** Einde transacties ***",
           "Totaal bij", "Totaal af", "Rekeningoverzicht"),
    "pt": ("Saldo anterior", "Saldo final", "Saldo anterior", "Novo saldo", "Período", "Data do extrato",
           "Página", "de", "Transporte", "A transportar", "Subtotal", "*** Fim dos movimentos ***",
           "Total créditos", "Total débitos", "Resumo da conta"),
}
KEYS = ("opening", "closing", "prev", "new", "period", "stmt_date", "page", "of", "bf", "cf", "subtotal", "end",
        "total_in", "total_out", "summary")

MONTHS = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
}

SPEND = {
    "en": ["Card payment", "Direct debit", "Contactless", "POS purchase"], "de": ["Kartenzahlung", "Lastschrift", "SEPA-Lastschrift"],
    "fr": ["Paiement CB", "Prélèvement", "Achat carte"], "es": ["Pago con tarjeta", "Recibo", "Compra"],
    "it": ["Pagamento POS", "Addebito SDD", "Pagamento carta"], "nl": ["Betaalautomaat", "Incasso", "Pinbetaling"],
    "pt": ["Compra cartão", "Débito direto", "Pagamento"],
}
INCOME = {"en": ["Salary", "Transfer from", "Refund"], "de": ["Gehalt", "Gutschrift", "Erstattung"],
          "fr": ["Salaire", "Virement reçu", "Remboursement"], "es": ["Nómina", "Transferencia recibida", "Devolución"],
          "it": ["Stipendio", "Bonifico a vostro favore", "Rimborso"], "nl": ["Salaris", "Overboeking van", "Terugbetaling"],
          "pt": ["Salário", "Transferência recebida", "Reembolso"]}
FEES = {"en": "Account fee", "de": "Kontoführungsentgelt", "fr": "Frais de tenue de compte", "es": "Comisión mantenimiento",
        "it": "Canone conto", "nl": "Kosten betaalpakket", "pt": "Comissão de manutenção"}
CARD_PAY = {"en": "Payment received - thank you", "de": "Zahlung erhalten - danke", "fr": "Paiement reçu - merci",
            "es": "Pago recibido - gracias", "it": "Pagamento ricevuto - grazie", "nl": "Betaling ontvangen - dank u",
            "pt": "Pagamento recebido - obrigado"}
MERCHANTS = ["TESCO STORES 3117", "AMAZON MKTPLACE", "SHELL 0042 SERVICE", "NETFLIX.COM", "CAFE CENTRAL", "IKEA 412",
             "DECATHLON", "SPOTIFY P1A2B3", "CITY PARKING", "PHARMACY ST JOHN", "UBER TRIP", "APPLE.COM/BILL",
             "LIDL 0815", "CARREFOUR MARKET", "MERCADONA", "ESSELUNGA", "ALBERT HEIJN 1342", "PINGO DOCE", "EDEKA",
             "BOOKSHOP & CO", "HOTEL DU PARC", "RAIL TICKETS ONLINE", "WATER UTILITY", "ENERGY SUPPLIER SA"]
PEOPLE = ["J. MARTIN", "ACME GMBH", "NORTHWIND LTD", "A. ROSSI", "M. GARCIA", "VAN DIJK BV", "SILVA & FILHOS"]
BANKS = ["Harbour Savings Bank", "Banque du Lac", "Nordstern Bank AG", "Caja del Sol", "Banca Collina", "Polder Bank NV",
         "Banco Atlântico", "First Meadow Credit Union", "Alpine Cantonal Bank", "Crescent Card Services"]
CURRENCY = {"en": ["GBP", "USD", "AUD", "EUR"], "de": ["EUR", "CHF"], "fr": ["EUR", "CHF"], "es": ["EUR"],
            "it": ["EUR", "CHF"], "nl": ["EUR"], "pt": ["EUR", "BRL"]}
SYMBOL = {"GBP": "£", "USD": "$", "AUD": "$", "EUR": "€", "CHF": "CHF ", "BRL": "R$ "}
NUM = {"comma-dot": (",", "."), "dot-comma": (".", ","), "apos-dot": ("'", "."), "space-comma": (" ", ","),
       "plain-dot": ("", "."), "plain-comma": ("", ",")}
DATE_FORMATS = {  # name -> (order family, has year, two-digit year, month names)
    "dmy/": ("dmy", True, False, False), "dmy.": ("dmy", True, False, False), "dmy-": ("dmy", True, False, False),
    "dmy.yy": ("dmy", True, True, False), "dmy/yy": ("dmy", True, True, False), "dm.": ("dmy", False, False, False),
    "dm/": ("dmy", False, False, False), "mdy/": ("mdy", True, False, False), "mdy/yy": ("mdy", True, True, False),
    "md/": ("mdy", False, False, False), "ymd-": ("ymd", True, False, False), "ymd/": ("ymd", True, False, False),
    "d mon yyyy": ("name", True, False, True), "d mon": ("name", False, False, True), "mon d": ("name", False, False, True),
    "d month yyyy": ("name", True, False, True), "d mon yy": ("name", True, True, True),
}


@dataclass
class Row:
    date: date
    amount: Decimal            # holder's view
    description: str
    value_date: date
    reference: str
    extra: list[str] = field(default_factory=list)   # continuation lines of the description
    detail: list[str] = field(default_factory=list)  # FX / reference detail lines (not part of the truth)
    balance: Decimal = Decimal(0)                    # holder's view, after the row
    category: str = "spend"                          # spend | fee | income | refund | payment


@dataclass
class RandomStatement:
    seed: int
    kind: str
    lang: str
    currency: str
    bank: str
    period_start: date
    period_end: date
    opening: Decimal
    rows: list[Row]
    opt: dict
    features: list[str]

    @property
    def closing(self) -> Decimal:
        return self.rows[-1].balance if self.rows else self.opening

    def truth(self) -> dict:
        """Ground truth in the corpus expected-file schema (holder's view)."""
        return {"statement": {"kind": self.kind, "currency": self.currency, "opening_balance": str(self.opening),
                              "closing_balance": str(self.closing), "period_start": self.period_start.isoformat(),
                              "period_end": self.period_end.isoformat()},
                "transactions": [{"date": r.date.isoformat(), "amount": str(r.amount), "description": r.description,
                                  **({"alt_date": r.value_date.isoformat()} if self.opt["value_col"] else {})}
                                 for r in self.rows],
                "features": list(self.features), "seed": self.seed}

    def pdf(self) -> bytes:
        return _render(self)

    def scan(self, seed: int | None = None) -> bytes:
        return scan_pdf(self.pdf(), self.seed if seed is None else seed)


# ------------------------------------------------------------------ building
def make(seed: int, kind: str | None = None, lang: str | None = None) -> RandomStatement:
    """One random statement; the same seed always gives the same statement."""
    rnd = random.Random(f"random-layout-{seed}")
    kind = kind or rnd.choices(["bank", "card"], [0.7, 0.3])[0]
    lang = lang or rnd.choice(LANGS)
    currency = rnd.choice(CURRENCY[lang])
    o: dict = {}
    f: list[str] = [kind, f"lang:{lang}"]
    o["header"] = rnd.random() > 0.15
    o["head_words"] = {k: rnd.choice(v) for k, v in HEAD[lang].items()}
    o["value_col"] = rnd.random() < 0.3
    o["ref_col"] = rnd.random() < 0.3
    o["amount_style"] = rnd.choice(["signed", "debit_credit"])
    o["balance_col"] = rnd.random() < (0.65 if kind == "bank" else 0.2)
    o["date_fmt"] = rnd.choice(list(DATE_FORMATS))
    o["num"] = rnd.choice(list(NUM))
    o["neg"] = rnd.choice(["minus", "trailing", "parens", "drcr"])
    o["symbol"] = rnd.random() < 0.3
    o["card_issuer_view"] = kind == "card" and rnd.random() < 0.6
    o["panel"] = rnd.choice([None, None, "left", "right"])
    o["balances_at"] = rnd.choice(["header", "rows", "bottom"] + (["panel"] * 2 if o["panel"] else []))
    o["footer"] = rnd.random() < 0.6
    o["multiline"] = rnd.random() < 0.35
    o["detail"] = rnd.random() < 0.3
    o["subtotals"] = rnd.random() < 0.2
    o["end_junk"] = rnd.random() < 0.2
    o["new_year"] = rnd.random() < 0.15
    o["shuffle"] = rnd.random() < 0.25
    o["page"] = rnd.choice(["A4", "letter"])
    o["font_size"] = rnd.choice([8, 9, 9, 10])
    o["line_h"] = o["font_size"] + rnd.choice([3, 4, 5])
    o["stmt_date_yy"] = rnd.random() < 0.3
    o["carried"] = False
    n = rnd.choice([rnd.randint(4, 14), rnd.randint(15, 35), rnd.randint(36, 70)])

    # period and dates
    year = rnd.randint(2018, 2026)
    month = 12 if o["new_year"] else rnd.randint(1, 12)
    start = date(year, month, rnd.randint(1, 20) if o["new_year"] else 1)
    end = start + timedelta(days=rnd.randint(27, 33))
    if o["new_year"]:
        end = max(end, date(year + 1, 1, rnd.randint(3, 15)))
    days = sorted(rnd.randint(0, (end - start).days) for _ in range(n))

    # amounts, holder's view
    opening = Decimal(rnd.randint(50000, 2500000)) / 100 if kind == "bank" else -Decimal(rnd.randint(0, 400000)) / 100
    rows, bal = [], opening
    pays = {rnd.randrange(n)} if kind == "card" else set()
    for i, d in enumerate(days):
        day = start + timedelta(days=d)
        r = rnd.random()
        if kind == "card" and i in pays:
            amt = (-opening if opening < 0 and rnd.random() < 0.5 else Decimal(rnd.randint(2000, 200000)) / 100)
            desc, cat = CARD_PAY[lang], "payment"
        elif kind == "bank" and r < 0.15:
            amt = Decimal(rnd.randint(20000, 500000)) / 100
            desc, cat = f"{rnd.choice(INCOME[lang])} {rnd.choice(PEOPLE)}", "income"
        elif r < 0.08 and kind == "card":
            amt = Decimal(rnd.randint(100, 9000)) / 100
            desc, cat = f"{INCOME[lang][2]} {rnd.choice(MERCHANTS)}", "refund"
        elif r < 0.25:
            amt = -Decimal(rnd.randint(100, 3000)) / 100
            desc, cat = FEES[lang], "fee"
        else:
            amt = -Decimal(rnd.choice([rnd.randint(100, 8000), rnd.randint(100, 25000), rnd.randint(25000, 150000)])) / 100
            desc, cat = f"{rnd.choice(SPEND[lang])} {rnd.choice(MERCHANTS)}", "spend"
        amt = amt.quantize(CENT)
        bal += amt
        ref = f"{rnd.randint(10**7, 10**9 - 1)}"
        extra = []
        if o["multiline"] and rnd.random() < 0.4:
            extra = [rnd.choice(["Ref", "Mandate", "IBAN DE89 3704", "End-to-end", "Order"]) + f" {rnd.randint(10**5, 10**8)}"]
            if rnd.random() < 0.3:
                extra.append(rnd.choice(["Monthly plan", "Invoice", "Contract"]) + f" {rnd.randint(100, 999)}/{day.year}")
        detail = []
        if o["detail"] and amt < 0 and rnd.random() < 0.35:
            fx = (amt * Decimal(rnd.uniform(1.05, 1.4))).quantize(CENT)
            rate = Decimal(rnd.uniform(0.7, 1.4)).quantize(Decimal("0.0001"))
            detail = [f"{rnd.choice(['USD', 'GBP', 'SEK', 'JPY'])} {_num(-fx, NUM[o['num']])} @ {rate}"]
        rows.append(Row(day, amt, desc, day + timedelta(days=rnd.choice([0, 0, 1, 2])), ref, extra, detail, bal, cat))

    for k in ("header", "value_col", "ref_col", "balance_col", "symbol", "footer", "multiline", "detail", "subtotals",
              "end_junk", "new_year", "shuffle"):
        if o[k]:
            f.append({"header": "header", "value_col": "two_dates", "ref_col": "reference_col"}.get(k, k))
    if not o["header"]:
        f.append("no_header")
    fam, has_year, yy, _ = DATE_FORMATS[o["date_fmt"]]
    f += [f"amount:{o['amount_style']}", f"date:{fam}", f"num:{o['num']}", f"balances:{o['balances_at']}"]
    if o["amount_style"] == "signed" or o["balance_col"]:
        f.append(f"neg:{o['neg']}")
    f += (["date_no_year"] if not has_year else []) + (["two_digit_year"] if yy else [])
    if o["panel"]:
        f.append("side_panel")
    if kind == "card":
        f.append("card_issuer_signs" if o["card_issuer_view"] else "card_holder_signs")
    st = RandomStatement(seed, kind, lang, currency, rnd.choice(BANKS), start, end, opening, rows, o, f)
    geo = _geometry(st)
    if len(geo["pages"]) > 1:
        f.append("multipage")
        o["carried"] = o["balance_col"] or rnd.random() < 0.5
        if o["carried"]:
            f.append("carried_forward")
    st.opt["rnd_state"] = rnd.getstate()
    return st


# ------------------------------------------------------------------ formatting
def _num(v: Decimal, seps: tuple[str, str]) -> str:
    return group(v, *seps)


def _fmt_amount(st: RandomStatement, v: Decimal, signed: bool = True) -> str:
    """An amount as the document shows it (`v` already in the document's own sign view); `signed` False prints
    the magnitude (debit/credit columns). A card issuer writing DR/CR marks only credits: '25.00 CR'."""
    o = st.opt
    body = _num(v, NUM[o["num"]])
    if o["symbol"]:
        sym = SYMBOL[st.currency]
        body = f"{sym}{body}" if st.lang == "en" or len(sym) > 1 else f"{body} {sym}"
    if not signed:
        return body
    if o["neg"] == "drcr" and st.kind == "card" and o["card_issuer_view"]:
        return f"{body} CR" if v < 0 else body
    if v < 0:
        return {"minus": f"-{body}", "trailing": f"{body}-", "parens": f"({body})", "drcr": f"{body} DR"}[o["neg"]]
    return f"{body} CR" if o["neg"] == "drcr" else body


def _fmt_date(st: RandomStatement, d: date, fmt: str | None = None) -> str:
    fmt = fmt or st.opt["date_fmt"]
    names = MONTHS[st.lang].split()
    mon, month = names[d.month - 1][:3].capitalize(), names[d.month - 1].capitalize()
    if st.lang in ("fr", "es", "it", "pt", "nl"):
        mon, month = mon.lower(), month.lower()
    return {
        "dmy/": f"{d:%d/%m/%Y}", "dmy.": f"{d:%d.%m.%Y}", "dmy-": f"{d:%d-%m-%Y}", "dmy.yy": f"{d:%d.%m.%y}",
        "dmy/yy": f"{d:%d/%m/%y}", "dm.": f"{d:%d.%m.}", "dm/": f"{d:%d/%m}", "mdy/": f"{d:%m/%d/%Y}",
        "mdy/yy": f"{d:%m/%d/%y}", "md/": f"{d:%m/%d}", "ymd-": d.isoformat(), "ymd/": f"{d:%Y/%m/%d}",
        "d mon yyyy": f"{d.day:02d} {mon} {d.year}", "d mon": f"{d.day:02d} {mon}", "mon d": f"{mon} {d.day:02d}",
        "d month yyyy": f"{d.day} {month} {d.year}", "d mon yy": f"{d.day:02d} {mon} {d:%y}",
    }[fmt]


def _period_fmt(st: RandomStatement) -> str:
    """The format of dates printed outside the table: always with a year (two digits on some statements)."""
    fam, has_year, _, names = DATE_FORMATS[st.opt["date_fmt"]]
    if has_year:
        return st.opt["date_fmt"]
    yy = st.opt["stmt_date_yy"]
    return {"dmy": "dmy.yy" if yy else "dmy.", "mdy": "mdy/yy" if yy else "mdy/", "ymd": "ymd-"}.get(
        fam, "d mon yy" if yy else "d month yyyy")


# ------------------------------------------------------------------ rendering
def _columns(st: RandomStatement, x0: float, x1: float, widths) -> list[tuple[str, float, float, str]]:
    """(kind, left, right, align) per column, fitted into [x0, x1]."""
    o = st.opt
    lead = ["date"] + (["value"] if o["value_col"] else [])
    mid = ["desc"] + (["ref"] if o["ref_col"] else [])
    money = (["debit", "credit"] if o["amount_style"] == "debit_credit" else ["amount"]) + (["balance"] if o["balance_col"] else [])
    rnd = random.Random(f"cols-{st.seed}")
    if o["shuffle"]:
        order = lead + mid + money
        rnd.shuffle(order)
    else:
        if rnd.random() < 0.3:
            rnd.shuffle(mid)
        if rnd.random() < 0.3 and "value" in lead:
            lead.reverse()
        order = lead + mid + money
    base = {"date": widths["date"] + 10, "value": widths["date"] + 10, "ref": 62, "debit": 70, "credit": 70, "amount": 82,
            "balance": 82}
    fixed = sum(base[k] for k in order if k != "desc")
    desc_w = max(110.0, (x1 - x0) - fixed)
    scale = min(1.0, (x1 - x0) / (fixed + desc_w))
    width = {k: (desc_w if k == "desc" else base[k]) * scale for k in order}
    if scale < 1.0:  # too wide: no column narrower than what it prints; the description gives way (and wraps)
        for k in order:
            if k != "desc":
                width[k] = max(width[k], widths.get(k, 0.0) + 9)  # the 6-point gutter and slack
        width["desc"] = max(40.0, (x1 - x0) - sum(w for k, w in width.items() if k != "desc"))
    cols, x = [], x0
    for k in order:
        w = width[k]
        cols.append((k, x, x + w - 6, "right" if k in ("debit", "credit", "amount", "balance") else "left"))
        x += w
    return cols


def _geometry(st: RandomStatement) -> dict:
    """Page size, table columns, description width and the rows on each page (shared by make and render)."""
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.pdfbase.pdfmetrics import stringWidth

    o = st.opt
    W, H = A4 if o["page"] == "A4" else letter
    fs, lh = o["font_size"], o["line_h"]
    margin = 40.0
    panel_w = 150.0 if o["panel"] else 0.0
    tx0 = margin + (panel_w + 12 if o["panel"] == "left" else 0)
    tx1 = W - margin - (panel_w + 12 if o["panel"] == "right" else 0)
    def widest(texts) -> float:
        return max((stringWidth(t, "Helvetica-Bold", fs) for t in texts), default=0.0)

    date_w = max(stringWidth(_fmt_date(st, r.date), "Helvetica", fs) for r in st.rows)
    value_w = max(stringWidth(_fmt_date(st, r.value_date), "Helvetica", fs) for r in st.rows)
    figures = [v for r in st.rows for v in (r.amount, r.balance)] + [st.opening]
    money_w = widest(_fmt_amount(st, s * v, signed) for v in figures for s in (1, -1) for signed in (True, False))
    cols = _columns(st, tx0, tx1, {"date": date_w, "value": value_w, "ref": widest(r.reference for r in st.rows),
                                   "debit": money_w, "credit": money_w, "amount": money_w, "balance": money_w})
    colx = {k: (a, b, al) for k, a, b, al in cols}
    desc_chars = max(12, int((colx["desc"][1] - colx["desc"][0]) / (fs * 0.5)))

    def lines(r: Row) -> int:
        return 1 + len(r.extra) + len(r.detail) + (1 if len(r.description) > desc_chars else 0)

    top0, top_n, bottom = H - 250, H - 110, 70.0 + (14 if o["footer"] else 0)
    pages: list[list[Row]] = [[]]
    used, cap = 0, int((top0 - bottom) / lh) - 4
    for r in st.rows:
        if used + lines(r) > cap and pages[-1]:
            pages.append([])
            used, cap = 0, int((top_n - bottom) / lh) - 4
        pages[-1].append(r)
        used += lines(r)
    return {"W": W, "H": H, "margin": margin, "panel_w": panel_w, "tx0": tx0, "tx1": tx1, "cols": cols, "colx": colx,
            "desc_chars": desc_chars, "pages": pages, "top0": top0, "top_n": top_n, "bottom": bottom}


def _render(st: RandomStatement) -> bytes:
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    o = st.opt
    rnd = random.Random()
    rnd.setstate(o["rnd_state"])
    size = A4 if o["page"] == "A4" else letter
    W, H = size
    L = dict(zip(KEYS, LABEL[st.lang]))
    fs, lh = o["font_size"], o["line_h"]
    pfmt = _period_fmt(st)
    card = st.kind == "card"
    issuer = o["card_issuer_view"]

    def shown(v: Decimal) -> Decimal:
        """Amounts and balances as the document shows them: card issuers print charges and owed balances positive."""
        return -v if card and issuer else v

    g = _geometry(st)
    W, H, margin, panel_w, tx0, tx1 = g["W"], g["H"], g["margin"], g["panel_w"], g["tx0"], g["tx1"]
    cols, colx, desc_chars, pages = g["cols"], g["colx"], g["desc_chars"], g["pages"]
    top0, top_n, bottom = g["top0"], g["top_n"], g["bottom"]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size, invariant=1)
    c.setTitle(f"{st.bank} statement")
    opening_label = L["prev"] if card else L["opening"]
    closing_label = L["new"] if card else L["closing"]
    bal_cell = "balance" if o["balance_col"] else ("amount" if "amount" in colx else "credit")

    def cell(k: str, text: str, y: float, bold: bool = False):
        if k not in colx or not text:
            return
        a, b, al = colx[k]
        c.setFont("Helvetica-Bold" if bold else "Helvetica", fs)
        if al == "right":
            c.drawRightString(b, y, text)
        else:
            while len(text) > 3 and stringWidth(text, "Helvetica", fs) > (b - a):
                text = text[:-1]
            c.drawString(a, y, text)

    def money_cells(r: Row) -> dict:
        v = shown(r.amount)
        if o["amount_style"] == "signed":
            return {"amount": _fmt_amount(st, v)}
        charge = r.amount < 0
        return {"debit" if charge else "credit": _fmt_amount(st, r.amount, signed=False)}

    def bal_text(v: Decimal) -> str:
        return _fmt_amount(st, shown(v))

    n_pages = len(pages)
    carried = o["carried"]

    total_in = sum((r.amount for r in st.rows if r.amount > 0), Decimal(0))
    total_out = sum((r.amount for r in st.rows if r.amount < 0), Decimal(0))
    acct = f"{rnd.randint(10, 99)}-{rnd.randint(1000, 9999)}-{rnd.randint(1000, 9999)}"
    balance_before = st.opening
    for p, page_rows in enumerate(pages, start=1):
        y = H - 48
        c.setFont("Helvetica-Bold", 15 if p == 1 else 11)
        c.drawString(margin, y, st.bank)
        c.setFont("Helvetica", 8)
        c.drawRightString(W - margin, y, f"{L['page']} {p} {L['of']} {n_pages}" if rnd.random() < 0.5 or not o["footer"] else "")
        if p == 1:
            c.setFont("Helvetica", 9)
            c.drawString(margin, y - 14, f"{rnd.randint(1, 200)} {rnd.choice(['Harbour Road', 'Rue Verte', 'Hauptstraße', 'Calle Mayor', 'Via Roma'])}, {rnd.randint(1000, 99999)}")
            c.setFont("Helvetica", fs + 1)
            c.drawString(margin, y - 40, f"{'Card' if card else 'Account'}: {acct}" if st.lang == "en" else f"IBAN / No. {acct}")
            c.drawString(margin, y - 40 - lh, f"{L['period']}: {_fmt_date(st, st.period_start, pfmt)} - {_fmt_date(st, st.period_end, pfmt)}")
            sd = st.period_end + timedelta(days=rnd.randint(1, 4))
            c.drawString(margin, y - 40 - 2 * lh, f"{L['stmt_date']}: {_fmt_date(st, sd, pfmt)}   {st.currency}")
            if o["balances_at"] == "header":
                xb = W / 2 + 20
                c.drawString(xb, y - 40, opening_label)
                c.drawRightString(W - margin, y - 40, bal_text(st.opening))
                c.drawString(xb, y - 40 - lh, closing_label)
                c.drawRightString(W - margin, y - 40 - lh, bal_text(st.closing))
        ty = top0 if p == 1 else top_n
        if o["panel"] and p == 1:
            px = margin if o["panel"] == "left" else W - margin - panel_w
            py = ty
            c.setFont("Helvetica-Bold", fs)
            c.drawString(px, py, L["summary"])
            c.setFont("Helvetica", fs)
            items = [(L["total_in"], _fmt_amount(st, total_in, signed=False)), (L["total_out"], _fmt_amount(st, -total_out, signed=False))]
            if o["balances_at"] == "panel":
                items = [(opening_label, bal_text(st.opening))] + items + [(closing_label, bal_text(st.closing))]
            if card:
                items.append(("Credit limit", _fmt_amount(st, Decimal(rnd.choice([2000, 5000, 10000])), signed=False)))
            for label, val in items:
                py -= lh
                c.drawString(px, py, label)
                py -= lh
                c.drawRightString(px + panel_w, py, val)
        if o["header"]:
            names = {"date": o["head_words"]["date"], "value": o["head_words"]["value"], "desc": o["head_words"]["desc"],
                     "ref": o["head_words"]["ref"], "debit": o["head_words"]["debit"], "credit": o["head_words"]["credit"],
                     "amount": o["head_words"]["amount"], "balance": o["head_words"]["balance"]}
            for k, _, _, _ in cols:
                cell(k, names[k], ty, bold=True)
            c.line(tx0, ty - 4, tx1, ty - 4)
            ty -= lh + 2
        if p == 1 and o["balances_at"] == "rows":
            cell("desc", opening_label, ty)
            cell(bal_cell, bal_text(st.opening), ty)
            ty -= lh
        elif p > 1 and carried:
            cell("desc", L["bf"], ty)
            cell(bal_cell, bal_text(balance_before), ty)
            ty -= lh
        for r in page_rows:
            cell("date", _fmt_date(st, r.date), ty)
            cell("value", _fmt_date(st, r.value_date), ty)
            first, rest = r.description[:desc_chars], r.description[desc_chars:]
            cell("desc", first, ty)
            cell("ref", r.reference, ty)
            for k, v in money_cells(r).items():
                cell(k, v, ty)
            if o["balance_col"]:
                cell("balance", bal_text(r.balance), ty)
            ty -= lh
            for extra in ([rest.strip()] if rest.strip() else []) + r.extra:
                cell("desc", extra, ty)
                ty -= lh
            for extra in r.detail:
                c.setFont("Helvetica-Oblique", fs - 1)
                c.drawString(colx["desc"][0] + 8, ty, extra)
                ty -= lh
        balance_before = page_rows[-1].balance
        if o["subtotals"]:
            ins = sum((r.amount for r in page_rows if r.amount > 0), Decimal(0))
            outs = sum((r.amount for r in page_rows if r.amount < 0), Decimal(0))
            if "amount" in colx:
                cell("desc", L["subtotal"], ty, bold=True)
                cell("amount", _fmt_amount(st, shown(ins + outs)), ty, bold=True)
            else:
                cell("desc", L["subtotal"], ty, bold=True)
                cell("debit", _fmt_amount(st, -outs, signed=False), ty, bold=True)
                cell("credit", _fmt_amount(st, ins, signed=False), ty, bold=True)
            ty -= lh
        if p < n_pages and carried:
            cell("desc", L["cf"], ty)
            cell(bal_cell, bal_text(balance_before), ty)
            ty -= lh
        if p == n_pages:
            if o["balances_at"] == "rows":
                cell("desc", closing_label, ty, bold=True)
                cell(bal_cell, bal_text(st.closing), ty, bold=True)
                ty -= lh
            if o["balances_at"] == "bottom" or (o["balances_at"] == "panel" and not o["panel"]):
                ty -= lh
                c.setFont("Helvetica", fs)
                c.drawString(tx0, ty, f"{opening_label}: {bal_text(st.opening)}")
                c.drawString(tx0 + (tx1 - tx0) / 2, ty, f"{closing_label}: {bal_text(st.closing)}")
                ty -= lh
            if o["end_junk"]:
                ty -= lh
                c.setFont("Helvetica-Bold", fs)
                c.drawString(tx0, ty, L["end"])
                ty -= lh
                for r in st.rows[: min(3, len(st.rows))]:  # rows repeated after the end marker (not transactions)
                    if ty < bottom:
                        break
                    cell("date", _fmt_date(st, r.date), ty)
                    cell("desc", r.description[:desc_chars], ty)
                    for k, v in money_cells(r).items():
                        cell(k, v, ty)
                    ty -= lh
        if o["footer"]:
            c.setFont("Helvetica", 7)
            c.drawString(margin, 48, f"{st.bank} · Reg. No. {rnd.randint(100000, 999999)} · Tel. +{rnd.randint(10, 99)} {rnd.randint(100, 999)} {rnd.randint(1000, 9999)}")
            c.drawRightString(W - margin, 48, f"{L['page']} {p}/{n_pages}")
        c.showPage()
    c.save()
    return buf.getvalue()


# ------------------------------------------------------------------ scans
def scan_pdf(pdf: bytes, seed: int = 0) -> bytes:
    """A scan of `pdf`: 150-200 dpi, slight rotation, noise, JPEG pages, no text layer (the scanner of synth/)."""
    return _scan_pdf(pdf, seed=seed)
