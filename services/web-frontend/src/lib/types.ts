// Shapes of the gateway's public API (docs/GATEWAY_API.md).

export interface Me {
  key_id: string;
  name: string;
  scopes: string[];
}

export type ServiceKind = "transcription" | "statement-extraction" | "document-qa" | "translation" | "custom";

export interface ServiceRoute {
  name: string;
  kind: ServiceKind | string;
  resource: string;
  path: string;
  model?: string;
  scopes: string[];
  max_upload_mb?: number | null;
}

export interface Upstream {
  name: string;
  kind: string;
  url: string;
  live: boolean;
  ready: boolean;
  breaker: "closed" | "open" | "half_open" | string;
  latency_ms: number | null;
  error: string | null;
}

export interface Health {
  status: "ok" | "degraded" | string;
  upstreams: Upstream[];
}

export type JobState = "queued" | "running" | "succeeded" | "failed";

export interface Job {
  id: string;
  kind: string;
  route: string;
  state: JobState;
  created_at: string;
  updated_at: string;
  progress: number;
  filename: string | null;
  result?: unknown;
  error?: { code: string; message: string } | null;
}

export interface JobEvent {
  seq: number;
  type: "queued" | "started" | "progress" | "succeeded" | "failed" | string;
  at: string;
  data: Record<string, unknown> | null;
}

export interface Word {
  start: number;
  end: number;
  word: string;
  probability: number;
}

export interface Segment {
  id?: number;
  start: number;
  end: number;
  text: string;
  avg_logprob?: number;
  no_speech_prob?: number;
  words?: Word[];
}

export interface Transcript {
  text: string;
  language: string | null;
  language_probability?: number | null;
  duration: number | null;
  segments: Segment[];
}

export interface Statement {
  bank_name: string | null;
  account_number: string | null;
  currency: string | null;
  period_start: string | null;
  period_end: string | null;
  opening_balance: string | null;
  closing_balance: string | null;
  /** "card": balances are what is owed, negative (docs/GATEWAY_API.md, sign rule). */
  kind?: "bank" | "card" | string;
}

/** How a row's printed balance was checked (vlm-service `check`). */
export type CheckState = "verified" | "not_checkable" | "failed";

export interface Transaction {
  date: string;
  description: string;
  amount: string;
  balance: string | null;
  type: "debit" | "credit" | string;
  page: number;
  row: number;
  confidence?: number;
  balance_ok: boolean;
  check?: CheckState;
  problem: string | null;
  /** [x0, top, x1, bottom] in the page's units (page_info: PDF points or image pixels), top-down. */
  bbox?: [number, number, number, number] | number[] | null;
  source?: "text" | "ocr" | "vlm" | string;
}

export interface StatementProblem {
  page: number | null;
  row: number | null;
  code: string;
  message: string;
}

export interface PageInfo {
  page: number;
  source: "text" | "ocr" | "vlm" | string;
  why?: string;
  width: number;
  height: number;
  units?: "pt" | "px" | string;
}

export interface Reading {
  layout?: string;
  columns?: string[];
  date_order?: string;
  date_order_from?: string;
  year_from?: string;
  signs?: string;
  balance_sign?: string;
  kind?: string;
  [key: string]: unknown;
}

export interface StatementResult {
  statement: Statement;
  transactions: Transaction[];
  checks: {
    running_balance_ok: boolean;
    totals_reconcile: boolean;
    reconciled?: boolean;
    confidence?: number;
    reading?: Reading;
    problems: StatementProblem[];
  };
  pages: number;
  page_info?: PageInfo[];
  vlm?: { configured: boolean; used: boolean; message?: string };
}
