import { describe, expect, it } from "vitest";
import {
  balanceSeries, checkCounts, checkState, filterTransactions, formatBalance, monthlyFlows, pageSources, problemViews,
  readingSummary, reconciliation, sortTransactions, totals,
} from "../src/lib/statement";
import type { StatementResult, Transaction } from "../src/lib/types";

const tx = (o: Partial<Transaction>): Transaction => ({
  date: "2024-01-01", description: "", amount: "0.00", balance: null, type: "debit", page: 1, row: 1,
  balance_ok: true, problem: null, ...o,
});

const rows: Transaction[] = [
  tx({ date: "2024-01-05", description: "Salary ACME", amount: "2500.00", balance: "3500.00", type: "credit", row: 1 }),
  tx({ date: "2024-01-20", description: "Rent", amount: "-1200.00", balance: "2300.00", row: 2 }),
  tx({ date: "2024-02-02", description: "coffee shop", amount: "-3.10", balance: "2296.90", row: 3 }),
  tx({ date: "2024-02-03", description: "Refund", amount: "10.00", balance: "2300.00", type: "credit", row: 1, page: 2, balance_ok: false, problem: "expected 2306.90" }),
];

const result: StatementResult = {
  statement: {
    bank_name: "Test Bank", account_number: "****1234", currency: "EUR", period_start: "2024-01-01",
    period_end: "2024-02-29", opening_balance: "1000.00", closing_balance: "2300.00",
  },
  transactions: rows,
  checks: { running_balance_ok: true, totals_reconcile: true, problems: [] },
  pages: 2,
};

describe("sortTransactions", () => {
  it("sorts money numerically, not as text", () => {
    expect(sortTransactions(rows, "amount", "asc").map((t) => t.amount)).toEqual(["-1200.00", "-3.10", "10.00", "2500.00"]);
    expect(sortTransactions(rows, "amount", "desc")[0].amount).toBe("2500.00");
  });
  it("sorts descriptions case-insensitively and dates chronologically", () => {
    expect(sortTransactions(rows, "description", "asc").map((t) => t.description)).toEqual(["coffee shop", "Refund", "Rent", "Salary ACME"]);
    expect(sortTransactions(rows, "date", "desc")[0].date).toBe("2024-02-03");
  });
  it("keeps statement order (page, row) for 'row' and ties", () => {
    const shuffled = [rows[3], rows[1], rows[0], rows[2]];
    expect(sortTransactions(shuffled, "row", "asc")).toEqual(rows);
  });
  it("does not change its input", () => {
    const copy = [...rows];
    sortTransactions(rows, "amount", "desc");
    expect(rows).toEqual(copy);
  });
});

describe("filterTransactions", () => {
  it("searches descriptions, amounts and problems", () => {
    expect(filterTransactions(rows, "COFFEE", "all")).toHaveLength(1);
    expect(filterTransactions(rows, "1200", "all")[0].description).toBe("Rent");
    expect(filterTransactions(rows, "expected", "all")[0].description).toBe("Refund");
  });
  it("filters by money in, money out and failing rows", () => {
    expect(filterTransactions(rows, "", "credit").map((t) => t.description)).toEqual(["Salary ACME", "Refund"]);
    expect(filterTransactions(rows, "", "debit")).toHaveLength(2);
    expect(filterTransactions(rows, "", "problems").map((t) => t.description)).toEqual(["Refund"]);
  });
});

describe("monthlyFlows and totals", () => {
  it("adds money in and out per month exactly", () => {
    expect(monthlyFlows(rows)).toEqual([
      { month: "2024-01", moneyIn: "2500.00", moneyOut: "1200.00", net: "1300.00" },
      { month: "2024-02", moneyIn: "10.00", moneyOut: "3.10", net: "6.90" },
    ]);
  });
  it("avoids float error on many cents", () => {
    const many = Array.from({ length: 10 }, (_, i) => tx({ amount: "0.10", row: i }));
    expect(monthlyFlows(many)[0].moneyIn).toBe("1.00");
  });
  it("totals rows and counts failing ones", () => {
    expect(totals(rows)).toEqual({ moneyIn: "2510.00", moneyOut: "1203.10", count: 4, failing: 1 });
  });
});

describe("balanceSeries", () => {
  it("starts at the opening balance and follows printed balances", () => {
    const pts = balanceSeries(result);
    expect(pts.map((p) => p.label)).toEqual(["1000.00", "3500.00", "2300.00", "2296.90", "2300.00"]);
    expect(pts[0].date).toBe("2024-01-01");
  });
  it("computes balances for rows without one", () => {
    const r = { ...result, transactions: [tx({ amount: "-1.50", balance: null }), tx({ amount: "2.00", balance: null, row: 2 })] };
    expect(balanceSeries(r).map((p) => p.label)).toEqual(["1000.00", "998.50", "1000.50"]);
  });
});

describe("reconciliation", () => {
  it("is reconciled when both checks pass", () => {
    expect(reconciliation(result)).toEqual({ ok: true, label: "Reconciled", reasons: [] });
  });
  it("lists the reasons when it does not reconcile", () => {
    const r = reconciliation({
      ...result,
      checks: { running_balance_ok: false, totals_reconcile: true, problems: [{ page: 2, row: 1, code: "balance_mismatch", message: "expected 2306.90" }] },
    });
    expect(r.ok).toBe(false);
    expect(r.label).toBe("Does not reconcile");
    expect(r.reasons).toEqual(["Some rows fail the running-balance check."]); // problems: problemViews
  });
});

describe("check states", () => {
  it("takes the service's word and never claims a row verified without it", () => {
    expect(checkState(tx({ check: "verified" }))).toBe("verified");
    expect(checkState(tx({ check: "not_checkable", balance: null }))).toBe("not_checkable");
    expect(checkState(tx({ balance_ok: false, problem: "x" }))).toBe("failed");
    expect(checkState(tx({ balance: "10.00" }))).toBe("not_checkable"); // an older result without `check`
  });
  it("counts each state", () => {
    const r = [tx({ check: "verified" }), tx({ check: "verified", row: 2 }), tx({ check: "failed", balance_ok: false, row: 3 }),
      tx({ check: "not_checkable", row: 4 })];
    expect(checkCounts(r)).toEqual({ verified: 2, not_checkable: 1, failed: 1 });
    expect(checkCounts([])).toEqual({ verified: 0, not_checkable: 0, failed: 0 });
  });
});

describe("problems", () => {
  const withProblems = (problems: StatementResult["checks"]["problems"]): StatementResult => ({
    ...result, checks: { running_balance_ok: false, totals_reconcile: false, problems },
  });
  it("reads as sentences, without raw nulls, statement-level ones without a place", () => {
    const views = problemViews(withProblems([
      { page: null, row: null, code: "no_transaction_table", message: "no transaction table found (no lines ...)" },
      { page: null, row: null, code: "totals_mismatch", message: "opening 1000.00 + sum of amounts 1296.90 = 2296.90, closing balance 2300.00" },
      { page: null, row: null, code: "something_new", message: "a new kind of note" },
    ]));
    expect(views.map((v) => v.where)).toEqual([null, null, null]);
    expect(views[0].text).toBe("No transaction table was found: no lines with a date followed by amounts in aligned columns.");
    expect(views[1].text).toBe("The opening balance (€1,000.00) plus all transactions (€1,296.90) makes €2,296.90, but the closing balance is €2,300.00.");
    expect(views[2].text).toBe("A new kind of note.");
    expect(views.every((v) => !/null/.test(v.text))).toBe(true);
  });
  it("links a row-level problem to its row, and only when the row is in the table", () => {
    const views = problemViews(withProblems([
      { page: 2, row: 1, code: "balance_mismatch", message: "running balance: 2296.90 + 10.00 = 2306.90, printed balance 2300.00" },
      { page: 2, row: 9, code: "date_missing", message: "row has no readable date" },
      { page: 1, row: null, code: "vlm_fallback_rejected", message: "VLM rows for page 1 do not reconcile; the page keeps its flagged rows" },
    ]));
    expect(views[0]).toEqual({
      code: "balance_mismatch", where: "Page 2, row 1", rowKey: "2-1",
      text: "The balance before this row (€2,296.90) plus its amount (€10.00) makes €2,306.90, but the statement prints €2,300.00.",
    });
    expect(views[1]).toMatchObject({ where: "Page 2", rowKey: null, text: "This row has no readable date." });
    expect(views[2]).toMatchObject({ where: "Page 1", rowKey: null, text: "VLM rows for page 1 do not reconcile; the page keeps its flagged rows." });
  });
});

describe("card balances", () => {
  it("shows a card's balance owed as the statement prints it", () => {
    expect(formatBalance("-620.45", "GBP", "card")).toBe("£620.45 owed");
    expect(formatBalance("15.00", "GBP", "card")).toBe("£15.00 in credit");
    expect(formatBalance("0.00", "GBP", "card")).toBe("£0.00");
    expect(formatBalance("-620.45", "GBP", "bank")).toBe("-£620.45");
    expect(formatBalance(null, "GBP", "card")).toBe("—");
  });
});

describe("reading and sources", () => {
  it("says which reading was chosen, its confidence and where each page came from", () => {
    const r: StatementResult = {
      ...result,
      statement: { ...result.statement, kind: "card" },
      checks: { ...result.checks, confidence: 0.95, reading: { layout: "geometry", columns: ["amount"], date_order: "DMY",
        date_order_from: "day > 12 seen", year_from: "statement period", signs: "card: charges negative, balance owed negative" } },
      page_info: [{ page: 1, source: "text", why: "clean text layer", width: 595, height: 842 },
        { page: 2, source: "ocr", why: "no usable text layer", width: 595, height: 842 }],
    };
    const s = readingSummary(r);
    expect(s.confidence).toBe("95%");
    expect(s.parts).toEqual(["geometry layout", "columns amount", "dates day/month/year (day > 12 seen)",
      "year from the statement period", "signs card: charges negative, balance owed negative", "card statement"]);
    expect(pageSources(r)).toEqual(["Page 1: text layer (clean text layer)", "Page 2: OCR (no usable text layer)"]);
  });
});
