import { describe, expect, it } from "vitest";
import {
  balanceSeries, filterTransactions, monthlyFlows, reconciliation, sortTransactions, totals,
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
    expect(r.reasons).toEqual(["Some rows fail the running-balance check.", "Page 2, row 1: expected 2306.90"]);
  });
});
