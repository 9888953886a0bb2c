import { describe, expect, it } from "vitest";
import { LiveTranscript, describeClose } from "../src/lib/live";

describe("LiveTranscript", () => {
  it("keeps finals in order and replaces the partial text", () => {
    const t = new LiveTranscript();
    t.apply({ type: "partial", text: "the quick", start: 0, end: 0.6 });
    expect([t.finalText, t.partial]).toEqual(["", "the quick"]);
    t.apply({ type: "partial", text: "the quick brown", start: 0, end: 0.9 });
    t.apply({ type: "final", segment: { id: 0, start: 0, end: 0.6, text: "The quick" } });
    expect([t.finalText, t.partial]).toEqual(["The quick", ""]);
    t.apply({ type: "partial", text: "brown fox", start: 0.6, end: 1.2 });
    t.apply({ type: "final", segment: { id: 1, start: 0.6, end: 1.2, text: "brown fox." } });
    t.apply({ type: "done", text: "The quick brown fox.", duration: 1.5 });
    expect([t.finalText, t.partial, t.done]).toEqual(["The quick brown fox.", "", true]);
  });
  it("keeps the error message", () => {
    const t = new LiveTranscript();
    t.apply({ type: "error", error: { code: "idle_timeout", message: "no audio for 15 s" } });
    expect(t.error).toBe("no audio for 15 s");
  });
});

describe("describeClose", () => {
  it("says nothing for a normal close and names the limits", () => {
    expect(describeClose(1000)).toBeNull();
    expect(describeClose(4429)).toMatch(/Too many live sessions/);
    expect(describeClose(4999)).toMatch(/code 4999/);
  });
});
