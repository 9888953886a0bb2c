// Download buttons for a result: each format comes from the gateway (GET /api/v1/jobs/<id>/result
// ?format=…, or the same upload again when there was no job), saved under the gateway's file name.
import type { Api, ExportSource } from "./api";
import { downloadName, saveFile, type SavedFile } from "./download";

export type TranscriptFormat = "text" | "srt" | "vtt";
export type StatementFormat = "csv";

/** The file extension of each export format (the gateway's names win when it sends one). */
export const EXTENSION: Record<TranscriptFormat | StatementFormat, string> = { text: "txt", srt: "srt", vtt: "vtt", csv: "csv" };

export type Exporter<F extends string> = (format: F) => Promise<SavedFile>;

/**
 * The result's exports, fetched on demand. Without a job each format means one more run of the
 * model, so a format fetched once is kept (a failed fetch is not, so a retry asks again).
 */
export function exporter<F extends string>(api: Api, source: ExportSource): Exporter<F> {
  const kept = new Map<string, Promise<SavedFile>>();
  return (format) => {
    if (source.jobId) return api.exportResult(source, format);
    let file = kept.get(format);
    if (!file) {
      file = api.exportResult(source, format);
      kept.set(format, file);
      file.catch(() => kept.delete(format));
    }
    return file;
  };
}

/** Fetch one export and save it: the gateway's file name, else `<upload name>.<ext>`, else `<fallback>.<ext>`. */
export async function saveExport<F extends keyof typeof EXTENSION>(
  exportAs: Exporter<F>,
  format: F,
  source: string | null | undefined,
  fallback: string,
  doc?: Document,
): Promise<void> {
  saveFile(await exportAs(format), downloadName(source, EXTENSION[format], fallback), doc);
}
