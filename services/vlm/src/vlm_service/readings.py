"""Readings of a document: which column is which (from header hints, else every plausible
assignment), turned into the layout stage's `Parsed` so each can be built and reconciled."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from .geometry import GeoTable
from .layout import Parsed, RawRow

MAX_HYPOTHESES = 16


@dataclass
class Reading:
    """One way to read the document."""

    name: str  # "header" or "geometry"
    parsed: Parsed
    kinds: tuple[str | None, ...] = ()
    hinted: bool = True  # agrees with the header words seen


def kind_hypotheses(hints: list[str | None], coverage: list[float] | None = None
                    ) -> list[tuple[tuple[str | None, ...], bool]]:
    """Column-kind assignments to try for columns with these header hints (hint-compatible first).

    One amount column, or a debit and a credit column, each with a balance column or none; the
    other columns are ignored (a panel's figures, a reference). `coverage` (the share of rows with
    a value in each column) prunes: a balance column is filled on most rows, the movement columns
    together on nearly all."""
    k = len(hints)
    cov = coverage or [1.0] * k
    idx = range(k)
    sets: list[tuple[str | None, ...]] = []

    def add(assign: dict[int, str]) -> None:
        s = tuple(assign.get(i) for i in idx)
        if s not in sets:
            sets.append(s)

    for b in [k - 1] + [i for i in idx if i != k - 1] + [None]:
        if b is not None and cov[b] < 0.35 and hints[b] != "balance":
            continue
        rest = [i for i in idx if i != b]
        for a in sorted(rest, key=lambda i: (-cov[i], -i)):
            if cov[a] >= 0.6 or hints[a] == "amount":
                add({a: "amount", **({b: "balance"} if b is not None else {})})
        for d in rest:
            for c in rest:
                if d != c and (cov[d] + cov[c] >= 0.8 or {hints[d], hints[c]} == {"debit", "credit"}):
                    add({d: "debit", c: "credit", **({b: "balance"} if b is not None else {})})
    # prefer readings that use every column, then the usual order (balance last, debit before credit)
    sets.sort(key=lambda s: sum(x is None for x in s))
    full = tuple(hints)
    if all(full) and any(h in ("debit", "credit", "amount") for h in full) and len(set(full)) == len(full):
        if full in sets:
            sets.remove(full)
        sets.insert(0, full)

    def fits(s):
        return all(h is None or h == kind for h, kind in zip(hints, s))

    out = [(s, True) for s in sets if fits(s)]
    out += [(s, False) for s in sets if not fits(s)]
    return out


def geometry_readings(table: GeoTable, base: Parsed) -> list[Reading]:
    """A Parsed per column-kind hypothesis of a geometric table (statement details from `base`)."""
    hints = [c.hint for c in table.columns]
    if not table.rows or not table.columns:
        return []
    rows = [g for g in table.rows if g.kind == "transaction"] or table.rows
    coverage = [sum(i in g.cells for g in rows) / len(rows) for i in range(len(hints))]
    out = []
    for kinds, hinted in kind_hypotheses(hints, coverage)[:MAX_HYPOTHESES]:
        parsed = copy.copy(base)
        parsed.rows = []
        parsed.dropped = 0
        parsed.table_found = True
        parsed.reading = "geometry"
        parsed.hints = hints
        parsed.columns = [k for k in kinds if k]
        for g in table.rows:
            if g.kind == "summary":
                continue
            amounts = {kinds[i]: m for i, m in g.cells.items() if i < len(kinds) and kinds[i]}
            ignored = {f"ignored{i}": m for i, m in g.cells.items() if i >= len(kinds) or not kinds[i]}
            if g.kind == "balance":
                value = amounts.get("balance") or (next(iter(g.cells.values())) if len(g.cells) == 1 else None)
                if value is None:
                    continue
                kind = "opening" if not any(r.kind == "transaction" for r in parsed.rows) else "closing"
                parsed.rows.append(RawRow(g.page, g.date, g.description, {"balance": value}, g.score, kind,
                                          g.lines, g.bbox))
                continue
            if not any(k in amounts for k in ("debit", "credit", "amount")):
                if g.date is not None and any(i < len(kinds) and not kinds[i] for i in g.cells):
                    parsed.dropped += 1  # its amount is in a column this reading ignores
                continue  # only a balance on a row: a daily balance line, not a transaction
            parsed.rows.append(RawRow(g.page, g.date, g.description, {**amounts, **ignored}, g.score,
                                      "transaction", g.lines, g.bbox))
        parsed.all_dates = [r.date for r in parsed.rows if r.date is not None]
        if parsed.rows:
            out.append(Reading("geometry", parsed, kinds, hinted))
    return out
