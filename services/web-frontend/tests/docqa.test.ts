import { describe, expect, it } from "vitest";
import { ApiError } from "../src/lib/errors";
import { highlightParts, pageLabel, serviceProblem, uploadedDocument } from "../src/lib/docqa";

describe("highlightParts", () => {
  const text = "Visitors must register at the blue kiosk beside the ramp.";
  it("marks the answer span inside the passage", () => {
    const s = text.indexOf("the blue kiosk");
    const parts = highlightParts({ text, answer_start: s, answer_end: s + "the blue kiosk".length });
    expect(parts).toEqual([
      { text: "Visitors must register at ", answer: false },
      { text: "the blue kiosk", answer: true },
      { text: " beside the ramp.", answer: false },
    ]);
    expect(parts.map((p) => p.text).join("")).toBe(text);
  });
  it("marks a span at the very start or end without empty parts", () => {
    expect(highlightParts({ text, answer_start: 0, answer_end: 8 })[0]).toEqual({ text: "Visitors", answer: true });
    const tail = highlightParts({ text, answer_start: text.length - 5, answer_end: text.length + 10 });
    expect(tail[tail.length - 1]).toEqual({ text: "ramp.", answer: true });
  });
  it("shows the whole passage when the span is missing or nonsense", () => {
    for (const span of [{}, { answer_start: null, answer_end: null }, { answer_start: 10, answer_end: 5 },
      { answer_start: 999, answer_end: 1000 }, { answer_start: -1, answer_end: 3 }]) {
      expect(highlightParts({ text, ...span })).toEqual([{ text, answer: false }]);
    }
  });
});

describe("document QA helpers", () => {
  it("labels pages only when there are pages", () => {
    expect(pageLabel(3)).toBe("page 3");
    expect(pageLabel(null)).toBe("");
    expect(pageLabel(0)).toBe("");
  });
  it("reads the uploaded document from a result or refuses", () => {
    expect(uploadedDocument({ document: { id: "d1", filename: "a.md" } }).id).toBe("d1");
    expect(() => uploadedDocument({ echo: 1 })).toThrow(ApiError);
    expect(() => uploadedDocument(null)).toThrow("no document");
  });
  it("tells service problems from request errors", () => {
    expect(serviceProblem(new ApiError(503, "upstream_unavailable", "Upstream 'document-qa' cannot be reached"))).toMatch(
      /upstream down.*cannot be reached/,
    );
    expect(serviceProblem(new ApiError(501, "not_configured", "No LLM"))).toMatch(/not configured/);
    expect(serviceProblem(new ApiError(404, "route_not_found", "x"))).toMatch(/No document QA service/);
    expect(serviceProblem(new ApiError(415, "unsupported_media_type", "x"))).toBeNull();
    expect(serviceProblem(new ApiError(404, "document_not_found", "x"))).toBeNull();
    expect(serviceProblem(new TypeError("network"))).toBeNull();
  });
});
