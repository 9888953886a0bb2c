// The gateway's public API, seen from the browser (same origin: /api is proxied).
import { ApiError, errorFromBody, errorFromResponse } from "./errors";
import { SseParser } from "./sse";
import { dispositionFilename, type SavedFile } from "./download";
import type { Health, Job, JobEvent, Me, ServiceRoute } from "./types";

/** Where an operation's result can be had again in another format: its finished job, or
 * (without one) the operation's path and the form that was sent. */
export interface ExportSource {
  jobId: string | null;
  path?: string;
  form?: FormData | null;
  /** the form field that names the format: `format` (statements), `response_format` (transcriptions) */
  formatField?: "format" | "response_format";
}

export class Api {
  constructor(private key: string, private base = "") {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { Authorization: `Bearer ${this.key}`, Accept: "application/json", ...extra };
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(this.base + path, {
      ...init,
      headers: { ...this.headers(), ...((init.headers as Record<string, string>) ?? {}) },
    });
    if (!res.ok) throw await errorFromResponse(res);
    return (await res.json()) as T;
  }

  /** A call whose answer has no body to read (e.g. DELETE -> 204); errors as ApiError. */
  async send(path: string, init: RequestInit = {}): Promise<void> {
    const res = await fetch(this.base + path, {
      ...init,
      headers: { ...this.headers(), ...((init.headers as Record<string, string>) ?? {}) },
    });
    if (!res.ok) throw await errorFromResponse(res);
  }

  me(): Promise<Me> {
    return this.json<Me>("/api/v1/me");
  }

  services(): Promise<{ services: ServiceRoute[] }> {
    return this.json("/api/v1/services");
  }

  health(): Promise<Health> {
    return this.json("/api/v1/health");
  }

  /** A short-lived token that opens live transcription sessions for this key. */
  liveToken(resource: string): Promise<{ token: string; url: string; expires_in: number }> {
    return this.json("/api/v1/live-tokens", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ resource }),
    });
  }

  jobs(limit = 50): Promise<{ jobs: Job[] }> {
    return this.json(`/api/v1/jobs?limit=${limit}`);
  }

  job(id: string): Promise<Job> {
    return this.json(`/api/v1/jobs/${encodeURIComponent(id)}`);
  }

  /** A file the gateway sends (an export, a page image) with this key, and the name it gives it
   * (`Content-Disposition`); errors as ApiError. */
  async file(path: string, init: RequestInit = {}): Promise<SavedFile> {
    const res = await fetch(this.base + path, {
      ...init,
      headers: { ...this.headers({ Accept: "*/*" }), ...((init.headers as Record<string, string>) ?? {}) },
    });
    if (!res.ok) throw await errorFromResponse(res);
    return { blob: await res.blob(), filename: dispositionFilename(res.headers.get("content-disposition")) };
  }

  async download(path: string, init: RequestInit = {}): Promise<Blob> {
    return (await this.file(path, init)).blob;
  }

  /**
   * An operation's result in another format, rendered by the gateway (it has the only CSV,
   * SRT, VTT and text writers): the finished job's result in that format (no second model
   * run), or, when there was no job (a streamed transcription), the same upload sent again
   * with the format.
   */
  exportResult(source: ExportSource, format: string): Promise<SavedFile> {
    if (source.jobId)
      return this.file(`/api/v1/jobs/${encodeURIComponent(source.jobId)}/result?format=${encodeURIComponent(format)}`);
    if (!source.path || !source.form)
      return Promise.reject(new ApiError(0, "no_result_source", "This result can no longer be downloaded; run it again."));
    const field = source.formatField ?? "format";
    const again = new FormData();
    for (const [k, v] of source.form.entries()) if (k !== field && k !== "stream") again.append(k, v);
    again.append(field, format);
    return this.file(source.path, { method: "POST", body: again });
  }

  /** A page of a finished statement job as a PNG, drawn by the gateway (cached there, this key's jobs only). */
  statementPage(jobId: string, page: number, width = 1200): Promise<Blob> {
    return this.download(`/api/v1/jobs/${encodeURIComponent(jobId)}/pages/${page}?width=${width}`, {
      headers: { Accept: "image/png" },
    });
  }

  postJson<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  /**
   * Upload a multipart form with upload progress (XMLHttpRequest: fetch has none).
   * With `async`, asks the gateway for a job (202 + {"job"}); a 200 answer is a finished result.
   */
  upload(
    path: string,
    form: FormData,
    onProgress: (fraction: number) => void,
    opts: { async?: boolean; signal?: AbortSignal } = {},
  ): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", this.base + path);
      for (const [k, v] of Object.entries(this.headers())) xhr.setRequestHeader(k, v);
      if (opts.async) xhr.setRequestHeader("Prefer", "respond-async");
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
      };
      xhr.upload.onload = () => onProgress(1);
      xhr.onerror = () => reject(new TypeError("network error"));
      xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
      xhr.ontimeout = () => reject(new ApiError(0, "timeout", "The upload timed out."));
      xhr.onload = () => {
        const text = xhr.responseText ?? "";
        if (xhr.status < 200 || xhr.status >= 300) {
          reject(errorFromBody(xhr.status, text, xhr.getResponseHeader("Retry-After")));
          return;
        }
        try {
          resolve({ status: xhr.status, body: text ? JSON.parse(text) : null });
        } catch {
          reject(new ApiError(xhr.status, "bad_response", "The gateway sent an answer that is not JSON."));
        }
      };
      opts.signal?.addEventListener("abort", () => xhr.abort());
      xhr.send(form);
    });
  }

  /**
   * Upload a multipart form with upload progress and read the answer as a server-sent event
   * stream while it arrives (XMLHttpRequest's growing responseText). Resolves when the stream
   * ends; an error status rejects with the gateway's error.
   */
  uploadStream(
    path: string,
    form: FormData,
    onProgress: (fraction: number) => void,
    onText: (chunk: string) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      let seen = 0;
      const flush = () => {
        if (xhr.status < 200 || xhr.status >= 300) return;
        const text = xhr.responseText ?? "";
        if (text.length > seen) {
          onText(text.slice(seen));
          seen = text.length;
        }
      };
      xhr.open("POST", this.base + path);
      for (const [k, v] of Object.entries(this.headers({ Accept: "text/event-stream" }))) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
      };
      xhr.upload.onload = () => onProgress(1);
      xhr.onprogress = flush;
      xhr.onerror = () => reject(new TypeError("network error"));
      xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
      xhr.onload = () => {
        if (xhr.status < 200 || xhr.status >= 300) {
          reject(errorFromBody(xhr.status, xhr.responseText ?? "", xhr.getResponseHeader("Retry-After")));
          return;
        }
        flush();
        resolve();
      };
      signal?.addEventListener("abort", () => xhr.abort());
      xhr.send(form);
    });
  }

  /** Read a job's events until the terminal one (or the stream ends). */
  async events(id: string, onEvent: (e: JobEvent) => void, signal?: AbortSignal): Promise<void> {
    const res = await fetch(`${this.base}/api/v1/jobs/${encodeURIComponent(id)}/events`, {
      headers: this.headers({ Accept: "text/event-stream" }),
      signal,
    });
    if (!res.ok) throw await errorFromResponse(res);
    if (!res.body) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const msg of parser.push(value)) {
        let ev: JobEvent;
        try {
          ev = JSON.parse(msg.data) as JobEvent;
        } catch {
          continue;
        }
        if (!ev.type) ev.type = msg.event as JobEvent["type"];
        onEvent(ev);
        if (ev.type === "succeeded" || ev.type === "failed") {
          await reader.cancel().catch(() => undefined);
          return;
        }
      }
    }
  }
}

export interface JobProgress {
  phase: "uploading" | "queued" | "running" | "done";
  upload: number; // 0..1
  job: Job | null;
  fraction: number | null; // job progress 0..1
  message: string | null;
  events: JobEvent[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Upload a file as an async job, follow its events, and return the job's result.
 * Falls back to polling the job when the event stream is cut.
 */
export async function runUploadJob(
  api: Api,
  path: string,
  form: FormData,
  onUpdate: (p: JobProgress) => void,
  signal?: AbortSignal,
): Promise<{ result: unknown; job: Job | null }> {
  const p: JobProgress = { phase: "uploading", upload: 0, job: null, fraction: null, message: null, events: [] };
  const emit = () => onUpdate({ ...p, events: [...p.events] });
  emit();
  const { status, body } = await api.upload(
    path,
    form,
    (f) => {
      p.upload = f;
      emit();
    },
    { async: true, signal },
  );
  p.upload = 1;
  if (status !== 202) {
    // The gateway answered synchronously: that is the result.
    p.phase = "done";
    emit();
    return { result: body, job: null };
  }
  const job = (body as { job?: Job })?.job ?? (body as Job);
  if (!job?.id) throw new ApiError(status, "bad_response", "The gateway accepted the upload but sent no job.");
  p.job = job;
  p.phase = job.state === "running" ? "running" : "queued";
  emit();

  try {
    await api.events(
      job.id,
      (ev) => {
        p.events.push(ev);
        if (ev.type === "started") p.phase = "running";
        if (ev.type === "progress") {
          p.phase = "running";
          const f = Number(ev.data?.fraction);
          if (Number.isFinite(f)) p.fraction = f;
          if (typeof ev.data?.message === "string") p.message = ev.data.message;
        }
        if (ev.type === "succeeded") p.fraction = 1;
        emit();
      },
      signal,
    );
  } catch (err) {
    if (signal?.aborted) throw err;
    // The stream broke: polling below still gets us to the end.
  }

  for (let delay = 300; ; delay = Math.min(delay * 1.5, 3000)) {
    const current = await api.job(job.id);
    p.job = current;
    if (current.state === "succeeded") {
      p.phase = "done";
      p.fraction = 1;
      emit();
      return { result: current.result, job: current };
    }
    if (current.state === "failed") {
      p.phase = "done";
      emit();
      const e = current.error ?? { code: "job_failed", message: "The job failed." };
      throw errorFromBody(422, JSON.stringify({ error: { code: e.code || "job_failed", message: e.message || "The job failed." } }));
    }
    p.phase = current.state === "running" ? "running" : "queued";
    if (Number.isFinite(current.progress)) p.fraction = current.progress;
    emit();
    if (signal?.aborted) throw new DOMException("aborted", "AbortError");
    await sleep(delay);
  }
}
