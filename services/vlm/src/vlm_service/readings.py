"""Readings of a document: which column is which (from header hints, else every plausible
assignment), turned into the layout stage's `Parsed` so each can be built and reconciled."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from .geometry import GeoTable
from .layout import Parsed, RawRow

# Column kinds, left to right, for a table with K amount columns (rightmost columns decide).
KIND_SETS: dict[int, list[tuple[str | None, ...]]] = {
    1: [("amount",)],
    2: [("amount", "balance"), ("debit", "credit"), ("credit", "debit")],
    3: [("debit", "credit", "balance"), ("credit", "debit", "balance"), ("amount", None, "balance"),
        (None, "amount", "balance")],
}


@dataclass
class Reading:
    """One way to read the document."""

    name: str  # "header" or "geometry"
    parsed: Parsed
    kinds: tuple[str | None, ...] = ()
    hinted: bool = True  # agrees with the header words seen


def kind_hypotheses(hints: list[str | None]) -> list[tuple[tuple[str | None, ...], bool]]:
    """Column-kind assignments to try for columns with these header hints, hint-compatible first."""
    k = len(hints)
    sets: list[tuple[str | None, ...]] = []
    if k in KIND_SETS:
        sets = list(KIND_SETS[k])
    elif k > 3:
        sets = [(None,) * (k - 3) + s for s in KIND_SETS[3]] + [(None,) * (k - 2) + s for s in KIND_SETS[2][:1]]
    full = tuple(hints)
    if all(full) and any(h in ("debit", "credit", "amount") for h in full) and full not in sets \
            and len(set(full)) == len(full):
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
    out = []
    for kinds, hinted in kind_hypotheses(hints):
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
            if g.kind == "balance":
                value = amounts.get("balance") or (next(iter(g.cells.values())) if len(g.cells) == 1 else None)
                if value is None:
                    continue
                kind = "opening" if not any(r.kind == "transaction" for r in parsed.rows) else "closing"
                parsed.rows.append(RawRow(g.page, g.date, g.description, {"balance": value}, g.score, kind,
                                          g.lines, g.bbox))
                continue
            if not any(k in amounts for k in ("debit", "credit", "amount")):
                if any(i < len(kinds) and not kinds[i] for i in g.cells):
                    parsed.dropped += 1  # its amount is in a column this reading ignores
                continue  # only a balance on a row: a daily balance line, not a transaction
            parsed.rows.append(RawRow(g.page, g.date, g.description, amounts, g.score, "transaction",
                                      g.lines, g.bbox))
        parsed.all_dates = [r.date for r in parsed.rows if r.date is not None]
        if parsed.rows:
            out.append(Reading("geometry", parsed, kinds, hinted))
    return out
