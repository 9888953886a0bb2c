"""The real-world statement corpus: expected files, where their documents are, and how a result is scored.

Used by tests/test_corpus.py, tests/test_random_layout.py and scripts/bench/statements.py, so that the
tests and the benchmark score the same way. Written apart from the parser: it reads only the public result
schema (statement, transactions, checks).

Score: signed date + amount F1 (a transaction matches when its ISO date, or the expected `alt_date`, and its
cent-exact signed amount match; multiset matching), descriptions are not scored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
SPLITS = ("dev", "heldout")


def doc_dirs() -> list[Path]:
    """Folders searched for the documents, in order: $VLM_CORPUS_DIR, <repo>/shared/vlm-corpus,
    the shared/vlm-corpus beside the checkout (where CI lays the project's shared folder), this folder."""
    dirs = []
    if os.environ.get("VLM_CORPUS_DIR"):
        dirs.append(Path(os.environ["VLM_CORPUS_DIR"]))
    dirs += [REPO / "shared" / "vlm-corpus", REPO.parent / "shared" / "vlm-corpus", HERE]
    return dirs


@dataclass
class Entry:
    name: str
    split: str
    expected: dict
    path: Path | None

    @property
    def layout(self) -> str:
        return self.expected["layout"]


def entries(split: str | None = None) -> list[Entry]:
    """Every expected file (sorted), with the path of its document where one is found."""
    out = []
    for sp in SPLITS if split is None else (split,):
        for exp in sorted((HERE / sp).glob("*.json")):
            expected = json.loads(exp.read_text())
            name = expected["document"]
            path = next((d / sp / name for d in doc_dirs() if (d / sp / name).is_file()), None)
            out.append(Entry(name, sp, expected, path))
    return out


def money(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def match_counts(got: list[dict], want: list[dict]) -> tuple[int, int, int]:
    """(true positives, predicted, expected): date (or alt_date) and cent-exact amount, each expected row used once."""
    pool = [(t["date"], t.get("alt_date"), money(t["amount"])) for t in want]
    used = [False] * len(pool)
    preds = [(t.get("date"), money(t.get("amount"))) for t in got]
    tp = 0
    for exact in (True, False):  # exact dates first, then alternative dates
        for i, pred in enumerate(preds):
            if pred is None or pred[0] is None or pred[1] is None:
                continue
            date, amount = pred
            for j, (d, alt, a) in enumerate(pool):
                if not used[j] and a == amount and (date == d if exact else date == alt):
                    used[j] = True
                    preds[i] = None
                    tp += 1
                    break
    return tp, len(got), len(want)


def f1(tp: int, pred: int, exp: int) -> float:
    return 2 * tp / (pred + exp) if pred + exp else 1.0


def flagged(result: dict) -> bool:
    """The result says it does not reconcile (running balance or totals), or lists a problem."""
    checks = result.get("checks") or {}
    return not (checks.get("running_balance_ok") and checks.get("totals_reconcile")) or bool(checks.get("problems"))


def self_reconciles(result: dict) -> bool:
    """opening + sum(amounts) == closing on the result's own figures (cent-exact), as a reader would check it."""
    st = result.get("statement") or {}
    opening, closing = money(st.get("opening_balance")), money(st.get("closing_balance"))
    amounts = [money(t.get("amount")) for t in result.get("transactions", [])]
    if opening is None or closing is None or any(a is None for a in amounts):
        return False
    return opening + sum(amounts, Decimal(0)) == closing


@dataclass
class Score:
    tp: int
    pred: int
    exp: int
    balances_ok: bool
    fully_correct: bool
    flagged: bool
    self_reconciles: bool
    kind_ok: bool | None

    @property
    def f1(self) -> float:
        return f1(self.tp, self.pred, self.exp)


def score(result: dict, expected: dict) -> Score:
    """Score one result against an expected file (corpus) or generator truth (same schema)."""
    tp, pred, exp = match_counts(result.get("transactions", []), expected["transactions"])
    want, got = expected.get("statement") or {}, result.get("statement") or {}
    balances_ok = all(money(got.get(k)) == money(want.get(k)) for k in ("opening_balance", "closing_balance")
                      if want.get(k) is not None)
    kind_ok = None if "kind" not in got or not want.get("kind") else got.get("kind") == want["kind"]
    return Score(tp, pred, exp, balances_ok, tp == pred == exp and balances_ok, flagged(result), self_reconciles(result),
                 kind_ok)


@dataclass
class Tally:
    """Sums over a set of statements."""
    scores: list[Score] = field(default_factory=list)
    pages: int = 0
    seconds: float = 0.0

    def add(self, s: Score, pages: int = 0, seconds: float = 0.0) -> None:
        self.scores.append(s)
        self.pages += pages
        self.seconds += seconds

    def row(self) -> dict:
        n = len(self.scores)
        tp, pred, exp = (sum(getattr(s, k) for s in self.scores) for k in ("tp", "pred", "exp"))
        not_rec = [s for s in self.scores if not s.self_reconciles]
        wrong = [s for s in self.scores if not s.fully_correct]
        return {
            "statements": n, "f1": round(f1(tp, pred, exp), 4),
            "mean_file_f1": round(sum(s.f1 for s in self.scores) / n, 4) if n else None,
            "fully_correct": round(sum(s.fully_correct for s in self.scores) / n, 3) if n else None,
            "reconciled": round(sum(s.self_reconciles and not s.flagged for s in self.scores) / n, 3) if n else None,
            "flagged_when_not_reconciled": round(sum(s.flagged for s in not_rec) / len(not_rec), 3) if not_rec else None,
            "silent_wrong": sum(not s.flagged for s in wrong),
            "pages": self.pages,
            "pages_per_s": round(self.pages / self.seconds, 2) if self.seconds else None,
            "s_per_page": round(self.seconds / self.pages, 3) if self.pages else None,
        }
