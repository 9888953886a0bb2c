// The translation service's languages and results (GET/POST /api/v1/translations, docs/GATEWAY_API.md).
import type { DocumentTranslation, TextTranslation, TranslationLanguage, TranslationLanguages } from "./types";

export type { DocumentTranslation, TextTranslation, TranslationLanguage, TranslationLanguages };

export const DOCUMENT_ACCEPT = ".txt,.md,.markdown,.docx,.html,.htm,text/plain,text/markdown,text/html," +
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/** Target languages for a source ("auto": every target of any pair). */
export function targetsFor(langs: TranslationLanguages, source: string): TranslationLanguage[] {
  const codes = new Set(langs.pairs.filter(([s]) => source === "auto" || s === source).map(([, t]) => t));
  return langs.languages.filter((l) => codes.has(l.code));
}

export function sourcesOf(langs: TranslationLanguages): TranslationLanguage[] {
  return langs.languages.filter((l) => l.source);
}

/** "ACME, Contoso AG" -> ["ACME", "Contoso AG"]; empty -> undefined (no glossary sent). */
export function parseGlossary(text: string): string[] | undefined {
  const terms = text.split(/[,\n]/).map((t) => t.trim()).filter((t) => t.length > 0);
  return terms.length ? [...new Set(terms)] : undefined;
}

/** The translated file of a document result, as a Blob of its media type. */
export function documentBlob(result: DocumentTranslation): Blob {
  const bin = atob(result.document.b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: result.media_type || "application/octet-stream" });
}

export function isDocumentTranslation(value: unknown): value is DocumentTranslation {
  const v = value as DocumentTranslation | null;
  return !!v && typeof v === "object" && typeof v.filename === "string" && typeof v.document?.b64 === "string";
}
