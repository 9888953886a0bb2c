// Save a file the gateway sent (an export, a translated document) in the browser.

/** A downloaded file: its bytes and the name the gateway gave it (Content-Disposition), if any. */
export interface SavedFile {
  blob: Blob;
  filename: string | null;
}

const UNSAFE = /[\\/:*?"<>|\x00-\x1f]+/g;

/** A file name without characters that file systems reject: "my statement.pdf" + "csv" -> "my statement.csv". */
export function downloadName(source: string | null | undefined, ext: string, fallback = "download"): string {
  const base = (source ?? "").replace(/\.[^./\\]+$/, "").replace(UNSAFE, "_").trim();
  return `${base || fallback}.${ext}`;
}

/**
 * The file name of a `Content-Disposition` header (RFC 6266): `filename*` (RFC 8187, UTF-8)
 * when present and readable, else `filename`; without any path; null when there is none.
 */
export function dispositionFilename(header: string | null | undefined): string | null {
  if (!header) return null;
  let name: string | null = null;
  const star = /(?:^|;)\s*filename\*\s*=\s*([^']*)'[^']*'([^;]*)/i.exec(header);
  if (star && /^utf-8$/i.test(star[1].trim())) {
    try {
      name = decodeURIComponent(star[2].trim());
    } catch {
      name = null; // a broken percent-encoding: fall back to the plain name
    }
  }
  if (name === null) {
    const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/i.exec(header);
    if (plain) name = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, "$1") : plain[2].trim();
  }
  const base = (name ?? "").split(/[\\/]/).pop()!.replace(UNSAFE, "_").trim();
  return base && base !== "." && base !== ".." ? base : null;
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

/** Save a file from the gateway under its own name, or `fallback` when it sent none. */
export function saveFile(file: SavedFile, fallback: string, doc: Document = document): void {
  saveBlob(file.blob, file.filename ?? fallback, doc);
}
