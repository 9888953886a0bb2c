"""Synthetic bank statements with ground truth, rendered as text PDFs or scans."""

from __future__ import annotations

import io
import random
import textwrap
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .layouts import LAYOUTS, VOCAB, Layout

CENT = Decimal("0.01")


@dataclass
class Txn:
    date: date
    description: str
    amount: Decimal
    balance: Decimal

    def as_dict(self) -> dict:
        return {"date": self.date.isoformat(), "description": self.description,
                "amount": str(self.amount), "balance": str(self.balance)}


@dataclass
class Statement:
    layout: str
    bank_name: str
    account_number: str
    currency: str
    period_start: date
    period_end: date
    opening_balance: Decimal
    closing_balance: Decimal
    transactions: list[Txn] = field(default_factory=list)

    def truth(self) -> dict:
        """Ground truth in the service's result shape (account number masked)."""
        return {
            "layout": self.layout,
            "statement": {
                "bank_name": self.bank_name, "account_number": "****" + self.account_number[-4:],
                "currency": self.currency, "period_start": self.period_start.isoformat(),
                "period_end": self.period_end.isoformat(),
                "opening_balance": str(self.opening_balance), "closing_balance": str(self.closing_balance),
                "kind": "bank",
            },
            "transactions": [t.as_dict() for t in self.transactions],
        }


def make_statement(layout_name: str, seed: int = 0, n: int | None = None) -> Statement:
    """Random but reproducible statement content for one layout."""
    layout = LAYOUTS[layout_name]
    rng = random.Random(f"{layout_name}-{seed}")
    vocab = VOCAB[layout.vocabulary]
    n = n if n is not None else rng.randint(*layout.n_range)
    if layout.year_boundary:
        start = date(2023 + rng.randint(0, 2), 12, rng.randint(5, 20))
    else:
        start = date(2023 + rng.randint(0, 2), rng.randint(1, 11), 1)
    end = start + timedelta(days=30)
    days = sorted(start + timedelta(days=rng.randint(0, 30)) for _ in range(n))
    if layout.year_boundary:  # make sure both sides of New Year have transactions
        days[0], days[-1] = start, end
    opening = (Decimal(rng.randint(20000, 500000)) / 100).quantize(CENT)
    if layout.overdraft:
        opening = (Decimal(rng.randint(5000, 60000)) / 100).quantize(CENT)
    balance = opening
    txns = []
    for d in days:
        credit = rng.random() < 0.25
        if layout.long_descriptions and vocab["long"] and rng.random() < 0.6:
            desc = rng.choice(vocab["long"])
        else:
            desc = rng.choice(vocab["credit" if credit else "debit"])
            if rng.random() < 0.3:
                desc += f" {rng.randint(10, 9999)}"
        cents = rng.randint(150, 250000 if credit else 60000)
        if rng.random() < 0.1:
            cents = rng.randint(100000, 900000)  # some thousands
        amount = (Decimal(cents) / 100).quantize(CENT)
        amount = amount if credit else -amount
        if not layout.overdraft and balance + amount < 0:
            amount = abs(amount)
        balance += amount
        txns.append(Txn(d, desc, amount, balance))
    account = "".join(str(rng.randint(0, 9)) for _ in range(8))
    return Statement(layout_name, layout.bank, account, layout.currency, start, end, opening, balance, txns)


# -- rendering -----------------------------------------------------------------------------

def _column_positions(layout: Layout, width: float) -> list[tuple[str, str, float, str]]:
    """(kind, label, x, align) per column; numeric columns are right-aligned at x."""
    left, right = 40.0, width - 40.0
    numeric = [c for c in layout.columns if c[0] not in ("date", "description")]
    step = 75.0
    out = []
    for kind, label in layout.columns:
        if kind == "date":
            out.append((kind, label, left, "left"))
        elif kind == "description":
            out.append((kind, label, left + 72, "left"))
    for i, (kind, label) in enumerate(numeric):
        out.append((kind, label, right - step * (len(numeric) - 1 - i), "right"))
    return out


def _rows(stmt: Statement, layout: Layout) -> list[dict]:
    """Printable table rows: one per line of text, with transaction cells on the first line."""
    rows = []
    txns = stmt.transactions
    for i, t in enumerate(txns):
        desc_lines = textwrap.wrap(t.description, layout.wrap) if layout.wrap else [t.description]
        cells = {"date": layout.date_fmt(t.date), "description": desc_lines[0],
                 "balance": layout.balance_fmt(t.balance)}
        if layout.daily and i > 0 and txns[i - 1].date == t.date:
            del cells["date"]
        if layout.daily and i + 1 < len(txns) and txns[i + 1].date == t.date:
            del cells["balance"]
        if "amount" in dict(layout.columns):
            cells["amount"] = layout.amount_fmt(t.amount)
        elif t.amount < 0:
            cells["debit"] = layout.amount_fmt(-t.amount)
        else:
            cells["credit"] = layout.amount_fmt(t.amount)
        rows.append({"cells": cells, "lines": [{"description": x} for x in desc_lines[1:]]})
    return rows


def render_pdf(stmt: Statement, password: str | None = None) -> bytes:
    """The statement as a PDF with a text layer (reportlab, standard fonts); encrypted when a
    password is given."""
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    layout = LAYOUTS[stmt.layout]
    size = letter if layout.page_size == "letter" else A4
    width, height = size
    lab = layout.labels
    buf = io.BytesIO()
    encrypt = StandardEncryption(password, canPrint=1) if password else None
    c = canvas.Canvas(buf, pagesize=size, invariant=1, encrypt=encrypt)
    cols = _column_positions(layout, width)
    line_h = 14.0
    top_table = height - 230
    bottom = 80.0

    rows = _rows(stmt, layout)
    # paginate by printed lines
    pages: list[list[dict]] = [[]]
    used = 0
    capacity = int((top_table - bottom) // line_h) - (2 if layout.carried_forward else 0)
    for row in rows:
        need = 1 + len(row["lines"])
        if used + need > capacity:
            pages.append([])
            used = 0
        pages[-1].append(row)
        used += need
    n_pages = len(pages)
    balance_before = stmt.opening_balance
    sym = layout.symbol

    def money(v: Decimal) -> str:
        return f"{sym} {layout.balance_fmt(v)}" if sym == "CHF" else f"{sym}{layout.balance_fmt(v)}"

    for p, page_rows in enumerate(pages, start=1):
        y = height - 50
        if p == 1:
            c.setFont("Helvetica-Bold", 16)
            c.drawString(40, y, stmt.bank_name)
            c.setFont("Helvetica", 9)
            c.drawString(40, y - 16, "12 Market Square, Springfield")
            c.setFont("Helvetica", 10)
            c.drawString(40, y - 44, f"{lab['account']}: {stmt.account_number}")
            c.drawString(40, y - 58, f"{lab['period']} {layout.period_fmt(stmt.period_start)} "
                                     f"{lab['to']} {layout.period_fmt(stmt.period_end)}")
            c.drawString(40, y - 72, f"Currency: {stmt.currency}")
            if not layout.carried_forward:
                c.drawString(320, y - 44, f"{lab['opening']}: {money(stmt.opening_balance)}")
                c.drawString(320, y - 58, f"{lab['closing']}: {money(stmt.closing_balance)}")
        else:
            c.setFont("Helvetica-Bold", 11)
            c.drawString(40, y, stmt.bank_name)
            c.setFont("Helvetica", 10)
            c.drawString(40, y - 16, f"{lab['account']}: ****{stmt.account_number[-4:]}")
        ty = top_table
        c.setFont("Helvetica-Bold", 10)
        for kind, label, x, align in cols:
            (c.drawRightString if align == "right" else c.drawString)(x, ty, label)
        c.line(40, ty - 4, width - 40, ty - 4)
        c.setFont("Helvetica", 10)
        ty -= line_h + 2
        bal_x = next((x for kind, _, x, _ in cols if kind == "balance"), width - 40)
        desc_x = next(x for kind, _, x, _ in cols if kind == "description")
        if layout.carried_forward:
            c.drawString(desc_x, ty, lab["bf"])
            c.drawRightString(bal_x, ty, layout.balance_fmt(balance_before))
            ty -= line_h
        for row in page_rows:
            for kind, _, x, align in cols:
                text = row["cells"].get(kind)
                if text:
                    (c.drawRightString if align == "right" else c.drawString)(x, ty, text)
            ty -= line_h
            for extra in row["lines"]:
                c.drawString(desc_x, ty, extra["description"])
                ty -= line_h
        done = sum(len(r) for r in pages[:p])
        balance_before = stmt.transactions[done - 1].balance if done else stmt.opening_balance
        if layout.carried_forward and p < n_pages:
            c.drawString(desc_x, ty, lab["cf"])
            c.drawRightString(bal_x, ty, layout.balance_fmt(balance_before))
        elif layout.carried_forward:
            c.setFont("Helvetica-Bold", 10)
            c.drawString(desc_x, ty, lab["closing"])
            c.drawRightString(bal_x, ty, layout.balance_fmt(stmt.closing_balance))
        c.setFont("Helvetica", 8)
        c.drawString(40, 40, f"{lab['page']} {p} {lab['of']} {n_pages}")
        c.drawRightString(width - 40, 40, f"{stmt.bank_name} is authorised and regulated.")
        c.showPage()
    c.save()
    return buf.getvalue()


def scan_images(pdf: bytes, seed: int = 0, dpi: int | None = None) -> list:
    """Rasterise each page like a scanner: 150-200 dpi, slight rotation, noise, grayscale."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    rng = random.Random(f"scan-{seed}")
    dpi = dpi or rng.choice([150, 175, 200])
    from ..pdfium_lock import PDFIUM

    pages = []
    with PDFIUM:  # PDFium is not thread-safe; everything it made is closed while the lock is held
        doc = pdfium.PdfDocument(pdf)
        try:
            for index in range(len(doc)):
                page = doc[index]
                bitmap = page.render(scale=dpi / 72, grayscale=True)
                pages.append(bitmap.to_pil().convert("L"))
                bitmap.close()
                page.close()
        finally:
            doc.close()
    images = []
    for img in pages:
        img = img.rotate(rng.uniform(-1.0, 1.0), resample=Image.BICUBIC, expand=False, fillcolor=255)
        arr = np.asarray(img, dtype=np.int16)
        noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, 12, arr.shape)
        arr = np.clip(arr + noise, 0, 255).astype(np.uint8)
        out = Image.fromarray(arr, "L")
        out.info["dpi"] = (dpi, dpi)
        images.append(out)
    return images


def scan_pdf(pdf: bytes, seed: int = 0, dpi: int | None = None) -> bytes:
    """A scanned PDF (JPEG page images, no text layer) of `pdf`."""
    images = scan_images(pdf, seed, dpi)
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", save_all=True, append_images=images[1:],
                   resolution=images[0].info["dpi"][0], quality=85)
    return buf.getvalue()
