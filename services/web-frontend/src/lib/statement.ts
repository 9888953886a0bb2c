// Logic behind the bank statement page: sorting, filtering, monthly flows, the
// running-balance series, the reconciliation verdict. (The CSV export is the gateway's: `Api.statementCsv`.)
import { centsToDecimal, parseCents } from "./format";
import type { StatementResult, Transaction } from "./types";

export type SortKey = "date" | "description" | "amount" | "balance" | "row";
export type SortDir = "asc" | "desc";
export type TypeFilter = "all" | "credit" | "debit" | "problems";

/** Stable original order: page, then row. */
function positionCompare(a: Transaction, b: Transaction): number {
  return (a.page ?? 0) - (b.page ?? 0) || (a.row ?? 0) - (b.row ?? 0);
}

function moneyCompare(a: string | null, b: string | null): number {
  const x = parseCents(a);
  const y = parseCents(b);
  if (x === null && y === null) return 0;
  if (x === null) return 1;
  if (y === null) return -1;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function sortTransactions(rows: Transaction[], key: SortKey, dir: SortDir): Transaction[] {
  const sign = dir === "asc" ? 1 : -1;
  const cmp = (a: Transaction, b: Transaction): number => {
    switch (key) {
      case "date":
        return (a.date ?? "").localeCompare(b.date ?? "");
      case "description":
        return (a.description ?? "").localeCompare(b.description ?? "", undefined, { sensitivity: "base" });
      case "amount":
        return moneyCompare(a.amount, b.amount);
      case "balance":
        return moneyCompare(a.balance, b.balance);
      default:
        return 0;
    }
  };
  return [...rows].sort((a, b) => sign * cmp(a, b) || positionCompare(a, b));
}

export function isCredit(t: Transaction): boolean {
  if (t.type === "credit") return true;
  if (t.type === "debit") return false;
  return (parseCents(t.amount) ?? 0n) > 0n;
}

export function filterTransactions(rows: Transaction[], query: string, type: TypeFilter): Transaction[] {
  const q = query.trim().toLowerCase();
  return rows.filter((t) => {
    if (type === "credit" && !isCredit(t)) return false;
    if (type === "debit" && isCredit(t)) return false;
    if (type === "problems" && t.balance_ok !== false) return false;
    if (!q) return true;
    return [t.description, t.date, t.amount, t.balance ?? "", t.problem ?? ""].some((f) =>
      String(f).toLowerCase().includes(q),
    );
  });
}

export interface MonthFlow {
  month: string; // "2024-01"
  moneyIn: string; // decimal strings
  moneyOut: string; // positive decimal
  net: string;
}

/** Money in and out per calendar month, oldest first. */
export function monthlyFlows(rows: Transaction[]): MonthFlow[] {
  const months = new Map<string, { inc: bigint; out: bigint }>();
  for (const t of rows) {
    const cents = parseCents(t.amount);
    const m = /^(\d{4}-\d{2})/.exec(t.date ?? "");
    if (cents === null || !m) continue;
    const acc = months.get(m[1]) ?? { inc: 0n, out: 0n };
    if (cents >= 0n) acc.inc += cents;
    else acc.out += -cents;
    months.set(m[1], acc);
  }
  return [...months.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([month, { inc, out }]) => ({
      month,
      moneyIn: centsToDecimal(inc),
      moneyOut: centsToDecimal(out),
      net: centsToDecimal(inc - out),
    }));
}

export interface BalancePoint {
  date: string;
  balance: number; // for drawing only
  label: string; // exact decimal string
}

/**
 * Points for the running-balance chart in statement order: the opening balance at the
 * period start, then each row's printed balance (or the computed one when the row has none).
 */
export function balanceSeries(result: StatementResult): BalancePoint[] {
  const rows = [...result.transactions].sort(positionCompare);
  const points: BalancePoint[] = [];
  let running = parseCents(result.statement?.opening_balance ?? null);
  if (running !== null) {
    const first = result.statement.period_start ?? rows[0]?.date ?? "";
    points.push({ date: first, balance: Number(running) / 100, label: centsToDecimal(running) });
  }
  for (const t of rows) {
    const printed = parseCents(t.balance);
    const amount = parseCents(t.amount);
    if (printed !== null) running = printed;
    else if (running !== null && amount !== null) running = running + amount;
    else continue;
    points.push({ date: t.date, balance: Number(running) / 100, label: centsToDecimal(running) });
  }
  return points;
}

export interface Reconciliation {
  ok: boolean;
  label: string;
  reasons: string[];
}

export function reconciliation(result: StatementResult): Reconciliation {
  const c = result.checks ?? { running_balance_ok: false, totals_reconcile: false, problems: [] };
  const reasons: string[] = [];
  if (!c.totals_reconcile) reasons.push("Opening balance plus transactions does not equal the closing balance.");
  if (!c.running_balance_ok) reasons.push("Some rows fail the running-balance check.");
  for (const p of c.problems ?? []) reasons.push(`Page ${p.page}, row ${p.row}: ${p.message}`);
  const ok = Boolean(c.totals_reconcile && c.running_balance_ok);
  return { ok, label: ok ? "Reconciled" : "Does not reconcile", reasons: ok ? [] : reasons };
}

export interface Totals {
  moneyIn: string;
  moneyOut: string;
  count: number;
  failing: number;
}

export function totals(rows: Transaction[]): Totals {
  let inc = 0n;
  let out = 0n;
  for (const t of rows) {
    const c = parseCents(t.amount);
    if (c === null) continue;
    if (c >= 0n) inc += c;
    else out += -c;
  }
  return {
    moneyIn: centsToDecimal(inc),
    moneyOut: centsToDecimal(out),
    count: rows.length,
    failing: rows.filter((t) => t.balance_ok === false).length,
  };
}
