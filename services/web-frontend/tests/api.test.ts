import { describe, expect, it } from "vitest";
import { Api } from "../src/lib/api";
import { ApiError, describeError, errorFromBody } from "../src/lib/errors";
import { SseParser } from "../src/lib/sse";
import { citations, pickText, unwrapPrediction } from "../src/lib/predict";
import { hasScopes, missingScopes } from "../src/lib/session";

describe("errorFromBody", () => {
  it("reads the gateway's error shape", () => {
    const e = errorFromBody(413, '{"error": {"code": "upload_too_large", "message": "File exceeds 100 MB."}}');
    expect(e).toBeInstanceOf(ApiError);
    expect([e.status, e.code, e.message]).toEqual([413, "upload_too_large", "File exceeds 100 MB."]);
  });
  it("starts the message with a capital letter", () => {
    expect(errorFromBody(422, '{"error": {"code": "invalid_pdf", "message": "the PDF is corrupt"}}').message).toBe("The PDF is corrupt");
  });
  it("reads FastAPI-style details", () => {
    expect(errorFromBody(422, '{"detail": [{"loc": ["body", "file"], "msg": "Field required"}]}').message).toBe("File: Field required");
  });
  it("never shows HTML pages or stack traces", () => {
    expect(errorFromBody(502, "<html><body>Bad gateway</body></html>").message).toBe("The gateway could not be reached.");
    expect(errorFromBody(500, "Traceback (most recent call last):\n  File x").message).toBe("The gateway hit an internal error.");
    expect(errorFromBody(500, '{"error": {"code": "x", "message": "Traceback (most recent call last): boom"}}').message).toBe(
      "The gateway hit an internal error.",
    );
    expect(errorFromBody(599, "").message).toBe("The request failed (HTTP 599).");
  });
  it("keeps Retry-After", () => {
    expect(errorFromBody(429, "{}", "7").retryAfter).toBe(7);
    expect(errorFromBody(503, "{}", null).retryAfter).toBeNull();
  });
});

describe("describeError", () => {
  it("adds the code, status and what to do", () => {
    expect(describeError(new ApiError(415, "unsupported_media_type", "Only PDF and images."))).toBe(
      "Only PDF and images. (unsupported_media_type, HTTP 415)",
    );
    expect(describeError(new ApiError(403, "forbidden", "Missing scope."), "statements")).toBe(
      "Your API key lacks the “statements” scope. Missing scope. (forbidden, HTTP 403)",
    );
    expect(describeError(new ApiError(429, "rate_limited", "Slow down", 3))).toBe("Slow down. Try again in 3 s. (rate_limited, HTTP 429)");
  });
  it("explains network failures and hides odd errors", () => {
    expect(describeError(new TypeError("Failed to fetch"))).toMatch(/Cannot reach the gateway/);
    expect(describeError({ weird: true })).toBe("Something went wrong. Please try again.");
  });
});

describe("SseParser", () => {
  it("parses events split across chunks and line endings", () => {
    const p = new SseParser();
    const got = [
      ...p.push("event: progress\r\nid: 3\r\ndata: {\"seq\": 3,"),
      ...p.push(' "type": "progress"}\r'),
      ...p.push("\n\r\n: keep-alive\n\nevent: succeeded\ndata: a\ndata: b\n\n"),
    ];
    expect(got).toEqual([
      { event: "progress", id: "3", data: '{"seq": 3, "type": "progress"}' },
      { event: "succeeded", id: "3", data: "a\nb" },
    ]);
  });
  it("defaults the event name and drops an unterminated message", () => {
    const p = new SseParser();
    expect(p.push("data:x\n\n")).toEqual([{ event: "message", id: null, data: "x" }]);
    expect(p.push("data: half")).toEqual([]);
    expect(p.end()).toEqual([]);
  });
});

describe("predictions", () => {
  it("unwraps v1 envelopes and picks text fields", () => {
    expect(unwrapPrediction({ predictions: [{ translation: "Hallo" }] })).toEqual({ translation: "Hallo" });
    expect(unwrapPrediction({ answer: "x" })).toEqual({ answer: "x" });
    expect(pickText({ translated_text: "Hi" }, ["translation", "translated_text"])).toBe("Hi");
    expect(pickText("plain", ["x"])).toBe("plain");
    expect(pickText({ n: 1 }, ["n"])).toBeNull();
  });
  it("labels citations", () => {
    expect(citations({ citations: [{ document: "a.pdf", page: 2, text: "quote" }, "raw"] })).toEqual([
      { label: "[1] a.pdf, page 2", text: "quote" },
      { label: "[2]", text: "raw" },
    ]);
    expect(citations({})).toEqual([]);
  });
});

describe("scopes", () => {
  const me = { key_id: "k1", name: "dev", scopes: ["transcriptions"] };
  it("checks a route's scopes against the key", () => {
    expect(hasScopes(me, { scopes: ["transcriptions"] })).toBe(true);
    expect(hasScopes(me, { scopes: ["statements"] })).toBe(false);
    expect(missingScopes(me, { scopes: ["statements", "transcriptions"] })).toEqual(["statements"]);
    expect(hasScopes({ ...me, scopes: ["*"] }, { scopes: ["statements"] })).toBe(true);
    expect(missingScopes({ ...me, scopes: ["all"] }, { scopes: ["statements"] })).toEqual([]);
    expect(hasScopes(null, { scopes: [] })).toBe(false);
  });
});

describe("Api.statementPage", () => {
  it("asks the gateway for the job's page image with the key, and keeps its errors", async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const prev = globalThis.fetch;
    globalThis.fetch = (async (url: string, init: RequestInit = {}) => {
      calls.push({ url, init });
      if (url.includes("/pages/2"))
        return new Response('{"error": {"code": "pages_expired", "message": "no longer kept"}}', { status: 410, headers: { "content-type": "application/json" } });
      return new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), { status: 200, headers: { "content-type": "image/png" } });
    }) as typeof fetch;
    try {
      const blob = await new Api("k-9").statementPage("j 1", 1, 800);
      expect(blob.type).toBe("image/png");
      expect(calls[0].url).toBe("/api/v1/jobs/j%201/pages/1?width=800");
      expect((calls[0].init.headers as Record<string, string>).Authorization).toBe("Bearer k-9");
      await expect(new Api("k-9").statementPage("j", 2)).rejects.toMatchObject({ status: 410, code: "pages_expired" });
    } finally {
      globalThis.fetch = prev;
    }
  });
});
