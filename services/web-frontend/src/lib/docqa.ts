// Document QA over the gateway's /api/v1/documents and /api/v1/questions (docs/GATEWAY_API.md).
import type { Api } from "./api";
import { ApiError } from "./errors";
import type { Answer, Citation, DocumentInfo } from "./types";

export type { Answer, Citation, DocumentInfo };

export const DOCUMENTS_PATH = "/api/v1/documents";
export const QUESTIONS_PATH = "/api/v1/questions";
export const DOCUMENT_ACCEPT =
  "application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document,text/html,text/markdown,text/plain," +
  ".pdf,.docx,.html,.htm,.md,.markdown,.txt";

export async function listDocuments(api: Api): Promise<DocumentInfo[]> {
  const body = await api.json<{ documents: DocumentInfo[] }>(DOCUMENTS_PATH);
  return body.documents ?? [];
}

export async function deleteDocument(api: Api, id: string): Promise<void> {
  await api.send(`${DOCUMENTS_PATH}/${encodeURIComponent(id)}`, { method: "DELETE" });
}

export function ask(api: Api, question: string, documentIds?: string[]): Promise<Answer> {
  const body: Record<string, unknown> = { question };
  if (documentIds && documentIds.length) body.document_ids = documentIds;
  return api.postJson<Answer>(QUESTIONS_PATH, body);
}

/** The ingested document a finished upload (or its job) returned. */
export function uploadedDocument(result: unknown): DocumentInfo {
  const doc = (result as { document?: DocumentInfo } | null)?.document;
  if (!doc || typeof doc.id !== "string") throw new ApiError(0, "bad_result", "The service returned no document.");
  return doc;
}

export interface Part {
  text: string;
  answer: boolean;
}

/** A cited passage cut around its answer span (`answer_start`..`answer_end` inside `text`),
 * so the UI can highlight it; the whole passage when the span is missing or out of range. */
export function highlightParts(c: Pick<Citation, "text" | "answer_start" | "answer_end">): Part[] {
  const text = c.text ?? "";
  const s = c.answer_start;
  const e = c.answer_end;
  if (typeof s !== "number" || typeof e !== "number" || !(s >= 0 && e > s && s < text.length)) {
    return [{ text, answer: false }];
  }
  const end = Math.min(e, text.length);
  return [
    { text: text.slice(0, s), answer: false },
    { text: text.slice(s, end), answer: true },
    { text: text.slice(end), answer: false },
  ].filter((p) => p.text.length > 0);
}

/** "Page 3" or "" when the format has no pages. */
export function pageLabel(page: number | null | undefined): string {
  return typeof page === "number" && page > 0 ? `page ${page}` : "";
}

/** A service-level failure (not configured, unreachable, down) rather than a bad request:
 * the page shows it once, prominently, instead of next to a control. */
export function serviceProblem(err: unknown): string | null {
  if (!(err instanceof ApiError)) return null;
  if (err.status === 501) return `The document QA service is not configured for this: ${err.message}`;
  if (err.code === "route_not_found") return "No document QA service is configured on the gateway.";
  if ([502, 503, 504].includes(err.status))
    return `The document QA service is down or unreachable (upstream down): ${err.message}`;
  return null;
}
