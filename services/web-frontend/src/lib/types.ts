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
}

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
  problem: string | null;
}

export interface StatementResult {
  statement: Statement;
  transactions: Transaction[];
  checks: {
    running_balance_ok: boolean;
    totals_reconcile: boolean;
    problems: { page: number; row: number; code: string; message: string }[];
  };
  pages: number;
  vlm?: { configured: boolean; used: boolean };
}
