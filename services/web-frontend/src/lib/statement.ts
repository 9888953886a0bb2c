// Logic behind the bank statement page: sorting, filtering, monthly flows, the
// running-balance series, the reconciliation verdict. (Exports, CSV included, are the gateway's: lib/exports.ts.)
import { centsToDecimal, formatMoney, formatPercent, parseCents } from "./format";
import type { CheckState, StatementProblem, StatementResult, Transaction } from "./types";

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
    if (t.date === null) continue; // an undated row moves the balance but has no place on the time axis
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
  const ok = Boolean(c.totals_reconcile && c.running_balance_ok);
  return { ok, label: ok ? "Reconciled" : "Does not reconcile", reasons: ok ? [] : reasons };
}

/** A row's key in the table and on the page image. */
export const rowKey = (t: { page: number | null; row: number | null }): string => `${t.page}-${t.row}`;

/** How a row was checked: the service's `check`, or (older results) what its fields allow to say. */
export function checkState(t: Transaction): CheckState {
  if (t.check === "verified" || t.check === "not_checkable" || t.check === "failed") return t.check;
  if (t.balance_ok === false) return "failed";
  return "not_checkable"; // without the service's word, a passing row is not claimed as verified
}

export const CHECK_LABEL: Record<CheckState, string> = {
  verified: "Verified",
  not_checkable: "Not checkable",
  failed: "Failed",
};

export const CHECK_HELP: Record<CheckState, string> = {
  verified: "Its printed balance follows from the balance before it and its amount.",
  not_checkable: "No printed balance to check this row against.",
  failed: "Its printed balance does not follow from the balance before it and its amount.",
};

export function checkCounts(rows: Transaction[]): Record<CheckState, number> {
  const out: Record<CheckState, number> = { verified: 0, not_checkable: 0, failed: 0 };
  for (const t of rows) out[checkState(t)] += 1;
  return out;
}

function sentence(text: string): string {
  const t = text.trim();
  if (!t) return "";
  const first = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** A problem's message as a sentence a person can read (amounts as money). */
export function problemSentence(p: StatementProblem, currency?: string | null): string {
  const m = (v: string) => formatMoney(v, currency);
  const num = String.raw`(-?\d+(?:\.\d+)?)`;
  let g: RegExpExecArray | null;
  switch (p.code) {
    case "balance_mismatch":
      g = new RegExp(`running balance: ${num} \\+ ${num} = ${num}, printed balance ${num}`).exec(p.message ?? "");
      if (g)
        return `The balance before this row (${m(g[1])}) plus its amount (${m(g[2])}) makes ${m(g[3])}, but the statement prints ${m(g[4])}.`;
      return "The printed balance does not follow from the balance before this row and its amount.";
    case "totals_mismatch":
      g = new RegExp(`opening ${num} \\+ sum of amounts ${num} = ${num}, closing balance ${num}`).exec(p.message ?? "");
      if (g)
        return `The opening balance (${m(g[1])}) plus all transactions (${m(g[2])}) makes ${m(g[3])}, but the closing balance is ${m(g[4])}.`;
      return "The opening balance plus all transactions does not make the closing balance.";
    case "totals_unknown":
      return "No opening or closing balance was found, so the totals could not be checked.";
    case "opening_inferred":
      return "No opening balance is printed; it was worked out from the first row's balance, so that row proves nothing.";
    case "date_missing":
      return "This row has no readable date.";
    case "no_transaction_table":
      return "No transaction table was found: no lines with a date followed by amounts in aligned columns.";
    case "no_transactions":
      return "The transaction table is empty.";
    default:
      return sentence(p.message ?? p.code);
  }
}

export interface ProblemView {
  text: string;
  /** "Page 2, row 3" (a row in the table), "Page 2" (a page), or null (the whole statement). */
  where: string | null;
  /** The row's key when the row is in the table: the problem links to it. */
  rowKey: string | null;
  code: string;
}

/** Problems for display: statement-level ones without a place, row-level ones linked to their row. */
export function problemViews(result: StatementResult): ProblemView[] {
  const keys = new Set((result.transactions ?? []).map(rowKey));
  const currency = result.statement?.currency;
  return (result.checks?.problems ?? []).map((p) => {
    const text = problemSentence(p, currency);
    if (p.page === null || p.page === undefined) return { text, where: null, rowKey: null, code: p.code };
    const key = p.row === null || p.row === undefined ? null : rowKey(p);
    if (key && keys.has(key)) return { text, where: `Page ${p.page}, row ${p.row}`, rowKey: key, code: p.code };
    return { text, where: `Page ${p.page}`, rowKey: null, code: p.code };
  });
}

/** A balance as the statement prints it: a card's balance owed (negative by the sign rule) as "£620.45 owed". */
export function formatBalance(value: string | null | undefined, currency: string | null | undefined, kind?: string): string {
  if (kind !== "card") return formatMoney(value, currency);
  const cents = parseCents(value ?? null);
  if (cents === null) return formatMoney(value, currency);
  if (cents === 0n) return formatMoney("0", currency);
  const abs = formatMoney(centsToDecimal(cents < 0n ? -cents : cents), currency);
  return cents < 0n ? `${abs} owed` : `${abs} in credit`;
}

const SOURCE_LABEL: Record<string, string> = { text: "text layer", ocr: "OCR", vlm: "VLM" };

export function sourceLabel(source: string | undefined): string {
  return SOURCE_LABEL[source ?? ""] ?? (source || "unknown");
}

/** Where each page was read from: "Page 1: text layer (clean text layer)". */
export function pageSources(result: StatementResult): string[] {
  return (result.page_info ?? []).map((p) => `Page ${p.page}: ${sourceLabel(p.source)}${p.why ? ` (${p.why})` : ""}`);
}

const DATE_ORDER: Record<string, string> = { DMY: "day/month/year", MDY: "month/day/year", YMD: "year/month/day" };

/** The reading the extractor chose, in words, and its confidence. */
export function readingSummary(result: StatementResult): { parts: string[]; confidence: string | null } {
  const r = result.checks?.reading ?? {};
  const parts: string[] = [];
  if (r.layout) parts.push(`${r.layout} layout`);
  if (Array.isArray(r.columns) && r.columns.length) parts.push(`columns ${r.columns.join(", ")}`);
  if (r.date_order) {
    const order = DATE_ORDER[r.date_order] ?? r.date_order;
    parts.push(`dates ${order}${r.date_order_from ? ` (${r.date_order_from})` : ""}`);
  }
  if (r.year_from) parts.push(`year from the ${String(r.year_from).replace(/^the /, "")}`);
  if (r.signs) parts.push(`signs ${r.signs}`);
  if (r.balance_sign && r.balance_sign !== r.signs) parts.push(`balances ${r.balance_sign}`);
  const kind = result.statement?.kind ?? r.kind;
  if (kind) parts.push(kind === "card" ? "card statement" : "bank account");
  const c = result.checks?.confidence;
  return { parts, confidence: typeof c === "number" ? formatPercent(c) : null };
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
