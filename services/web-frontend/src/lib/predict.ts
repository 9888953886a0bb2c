// Results from JSON routes (document QA, translation): the gateway returns the upstream
// prediction, which may still be wrapped in a v1 {"predictions": [...]} envelope.

export function unwrapPrediction(result: unknown): unknown {
  const r = result as { predictions?: unknown[] } | null;
  if (r && Array.isArray(r.predictions) && r.predictions.length > 0) return r.predictions[0];
  return result;
}

/** The first string among `keys` in an object (or the value itself when it is a string). */
export function pickText(value: unknown, keys: string[]): string | null {
  if (typeof value === "string") return value;
  if (!value || typeof value !== "object") return null;
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (typeof v === "string") return v;
  }
  return null;
}

export interface Citation {
  label: string;
  text: string | null;
}

export function citations(value: unknown): Citation[] {
  if (!value || typeof value !== "object") return [];
  const v = value as Record<string, unknown>;
  const list = (v.citations ?? v.sources ?? v.contexts) as unknown;
  if (!Array.isArray(list)) return [];
  return list.map((c, i) => {
    if (typeof c === "string") return { label: `[${i + 1}]`, text: c };
    const o = (c ?? {}) as Record<string, unknown>;
    const doc = o.document ?? o.doc_id ?? o.source ?? o.title ?? o.id;
    const page = o.page !== undefined ? `, page ${o.page}` : "";
    return { label: `[${i + 1}] ${doc ?? "source"}${page}`, text: pickText(o, ["text", "snippet", "quote", "content"]) };
  });
}
