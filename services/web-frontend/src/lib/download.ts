// Save text as a file in the browser.

export const MIME = {
  txt: "text/plain;charset=utf-8",
  srt: "application/x-subrip;charset=utf-8",
  vtt: "text/vtt;charset=utf-8",
  csv: "text/csv;charset=utf-8",
  json: "application/json",
} as const;

/** A file name without characters that file systems reject: "my statement.pdf" + "csv" -> "my statement.csv". */
export function downloadName(source: string | null | undefined, ext: string, fallback = "download"): string {
  const base = (source ?? "").replace(/\.[^./\\]+$/, "").replace(/[\\/:*?"<>|\x00-\x1f]+/g, "_").trim();
  return `${base || fallback}.${ext}`;
}

export function textBlob(text: string, type: string): Blob {
  return new Blob([text], { type });
}

/** Trigger a download of `blob` as `filename` (an object URL on a temporary link). */
export function saveBlob(blob: Blob, filename: string, doc: Document = document): void {
  const url = URL.createObjectURL(blob);
  const a = doc.createElement("a");
  a.href = url;
  a.download = filename;
  a.rel = "noopener";
  a.style.display = "none";
  doc.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadText(text: string, filename: string, type: string): void {
  saveBlob(textBlob(text, type), filename);
}
