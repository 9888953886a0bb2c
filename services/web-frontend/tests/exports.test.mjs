// Downloads of exports: the UI asks the gateway for each format (over real HTTP on loopback here)
// and saves the bytes under the gateway's file name.
import http from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Api } from "../src/lib/api";
import { dispositionFilename, downloadName, saveBlob } from "../src/lib/download";
import { exporter, saveExport } from "../src/lib/exports";

// A stand-in for the gateway's export answers: `/api/v1/jobs/<id>/result?format=` and the
// operation's POST, with the headers the gateway sends (tests/test_exports.py checks those).
/** @type {{method: string, url: string, auth: string | undefined, fields: Record<string, string[]>}[]} */
const seen = [];
let base = "";
let server;

const FILES = {
  srt: { type: "application/x-subrip; charset=utf-8", body: "1\n00:00:00,000 --> 00:00:01,000\nHello\n", name: "talk.srt" },
  vtt: { type: "text/vtt; charset=utf-8", body: "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello\n", name: "talk.vtt" },
  text: { type: "text/plain; charset=utf-8", body: "Hello\n", name: null }, // no Content-Disposition
  csv: { type: "text/csv; charset=utf-8", body: "date,description\r\n2024-01-02,'=cmd\r\n", name: "Überweisung März.csv" },
};

function answer(res, format) {
  const f = format ? FILES[format] : undefined;
  if (!f) {
    res.writeHead(409, { "content-type": "application/json" });
    res.end('{"error": {"code": "format_unavailable", "message": "this job\'s result was stored as srt"}}');
    return;
  }
  const headers = { "content-type": f.type };
  if (f.name) {
    const ascii = f.name.replace(/[^\x20-\x7e]/g, "_");
    headers["content-disposition"] = `attachment; filename="${ascii}"` + (ascii === f.name ? "" : `; filename*=UTF-8''${encodeURIComponent(f.name)}`);
  }
  res.writeHead(200, headers);
  res.end(f.body);
}

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const fields = {};
    if (req.method === "POST") {
      const form = await new Response(Buffer.concat(chunks), { headers: { "content-type": req.headers["content-type"] ?? "" } }).formData();
      for (const [k, v] of form.entries()) (fields[k] ??= []).push(typeof v === "string" ? v : `<file ${v.name}>`);
    }
    seen.push({ method: req.method ?? "", url: req.url ?? "", auth: req.headers.authorization, fields });
    const url = new URL(req.url ?? "/", "http://x");
    answer(res, req.method === "POST" ? (fields.response_format ?? fields.format ?? [null])[0] : url.searchParams.get("format"));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}`;
});
afterAll(() => new Promise((r) => server.close(() => r())));
beforeEach(() => {
  seen.length = 0;
});

function uploadForm() {
  const form = new FormData();
  form.append("file", new Blob(["RIFF....WAVE"], { type: "audio/wav" }), "talk.wav");
  form.append("language", "en");
  form.append("response_format", "json");
  form.append("stream", "true");
  return form;
}

describe("Api.exportResult", () => {
  it("asks for the finished job's result in the format, with the key, and keeps the gateway's file name", async () => {
    const file = await new Api("k-123", base).exportResult({ jobId: "j 1" }, "srt");
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: "GET", url: "/api/v1/jobs/j%201/result?format=srt", auth: "Bearer k-123" });
    expect(file.filename).toBe("talk.srt");
    expect(await file.blob.text()).toBe(FILES.srt.body);
  });

  it("without a job, sends the same upload again with the format and without stream", async () => {
    const file = await new Api("k", base).exportResult(
      { jobId: null, path: "/api/v1/transcriptions", form: uploadForm(), formatField: "response_format" },
      "vtt",
    );
    expect(seen[0]).toMatchObject({ method: "POST", url: "/api/v1/transcriptions", auth: "Bearer k" });
    expect(seen[0].fields).toEqual({ file: ["<file talk.wav>"], language: ["en"], response_format: ["vtt"] });
    expect(await file.blob.text()).toBe(FILES.vtt.body);
  });

  it("reads a UTF-8 file name (RFC 8187) and keeps CRLF bytes as sent", async () => {
    const form = new FormData();
    form.append("file", new Blob(["%PDF-1.4"]), "s.pdf");
    form.append("format", "json");
    const file = await new Api("k", base).exportResult({ jobId: null, path: "/api/v1/statements", form, formatField: "format" }, "csv");
    expect(seen[0].fields.format).toEqual(["csv"]);
    expect(file.filename).toBe("Überweisung März.csv");
    expect(new Uint8Array(await file.blob.arrayBuffer())).toEqual(new TextEncoder().encode(FILES.csv.body));
  });

  it("turns a gateway error into an ApiError, and refuses when there is nothing to ask", async () => {
    await expect(new Api("k", base).exportResult({ jobId: "abc" }, "vtt-ish")).rejects.toMatchObject({
      status: 409,
      code: "format_unavailable",
    });
    await expect(new Api("k", base).exportResult({ jobId: null }, "srt")).rejects.toMatchObject({ code: "no_result_source" });
  });
});

describe("exporter", () => {
  it("asks a job again on every click (no model run), an upload only once per format", async () => {
    const api = new Api("k", base);
    const byJob = exporter(api, { jobId: "j" });
    await byJob("srt");
    await byJob("srt");
    expect(seen.map((s) => s.method)).toEqual(["GET", "GET"]);

    seen.length = 0;
    const again = exporter(api, { jobId: null, path: "/api/v1/transcriptions", form: uploadForm(), formatField: "response_format" });
    const [a, b] = await Promise.all([again("srt"), again("srt")]);
    expect(a).toBe(b);
    await again("vtt");
    await again("srt");
    expect(seen.map((s) => s.fields.response_format[0])).toEqual(["srt", "vtt"]);
  });

  it("forgets a failed fetch so that a retry asks again", async () => {
    const again = exporter(new Api("k", base), { jobId: null, path: "/api/v1/transcriptions", form: uploadForm(), formatField: "response_format" });
    await expect(again("nope")).rejects.toMatchObject({ status: 409 });
    await expect(again("nope")).rejects.toMatchObject({ status: 409 });
    expect(seen).toHaveLength(2);
  });
});

/** A document whose links record what a click would download. */
function fakeDocument() {
  const clicked = [];
  const children = new Set();
  const doc = {
    body: { appendChild: (el) => children.add(el) },
    createElement: () => {
      const a = {
        href: "", download: "", rel: "", style: { display: "" },
        click() { clicked.push({ href: a.href, download: a.download, attached: children.has(a) }); },
        remove() { children.delete(a); },
      };
      return a;
    },
  };
  return { doc, clicked, children };
}

describe("saveExport", () => {
  it("saves under the gateway's name, else the upload's name with the format's extension", async () => {
    const api = new Api("k", base);
    const { doc, clicked } = fakeDocument();
    await saveExport(exporter(api, { jobId: "j" }), "srt", "other.wav", "transcript", doc);
    await saveExport(exporter(api, { jobId: "j" }), "text", "meeting 2.webm", "transcript", doc);
    await saveExport(exporter(api, { jobId: "j" }), "text", null, "transcript", doc);
    expect(clicked.map((c) => c.download)).toEqual(["talk.srt", "meeting 2.txt", "transcript.txt"]);
    expect(clicked.every((c) => c.href.startsWith("blob:") && c.attached)).toBe(true);
  });

  it("saves nothing when the gateway refuses", async () => {
    const { doc, clicked } = fakeDocument();
    await expect(saveExport(exporter(new Api("k", base), { jobId: "j" }), "nope", "a.wav", "transcript", doc)).rejects.toMatchObject({
      status: 409,
    });
    expect(clicked).toHaveLength(0);
  });
});

describe("file names", () => {
  it("derives safe fallback names from the upload", () => {
    expect(downloadName("meeting.wav", "srt")).toBe("meeting.srt");
    expect(downloadName("a/b:c?.pdf", "csv")).toBe("a_b_c_.csv");
    expect(downloadName(null, "vtt", "transcript")).toBe("transcript.vtt");
    expect(downloadName(".wav", "txt", "transcript")).toBe("transcript.txt");
  });

  it("reads Content-Disposition: filename* first, then filename, never a path", () => {
    expect(dispositionFilename('attachment; filename="talk.srt"')).toBe("talk.srt");
    expect(dispositionFilename("attachment; filename=plain.csv")).toBe("plain.csv");
    expect(dispositionFilename(`attachment; filename="_berweisung.csv"; filename*=UTF-8''%C3%9Cberweisung.csv`)).toBe("Überweisung.csv");
    expect(dispositionFilename(`attachment; filename*=utf-8''a%20b.vtt; filename="fallback.vtt"`)).toBe("a b.vtt");
    expect(dispositionFilename(`attachment; filename*=UTF-8''%E0%A4%A; filename="ok.txt"`)).toBe("ok.txt");
    expect(dispositionFilename('attachment; filename="say \\"hi\\".txt"')).toBe("say _hi_.txt");
    expect(dispositionFilename('attachment; filename="../../etc/passwd"')).toBe("passwd");
    expect(dispositionFilename('attachment; filename="C:\\\\x\\\\y.csv"')).toBe("y.csv");
    expect(dispositionFilename("attachment")).toBeNull();
    expect(dispositionFilename('attachment; filename=".."')).toBeNull();
    expect(dispositionFilename(null)).toBeNull();
  });
});

describe("saveBlob", () => {
  it("clicks a temporary link to an object URL with the file name, then removes it", () => {
    const { doc, clicked, children } = fakeDocument();
    saveBlob(new Blob(["a,b\r\n"], { type: "text/csv" }), "statement.csv", doc);
    expect(clicked).toHaveLength(1);
    expect(clicked[0].download).toBe("statement.csv");
    expect(clicked[0].href).toMatch(/^blob:/);
    expect(clicked[0].attached).toBe(true);
    expect(children.size).toBe(0);
  });
});
