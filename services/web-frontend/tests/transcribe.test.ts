import { describe, expect, it } from "vitest";
import { ApiError } from "../src/lib/errors";
import { SseParser } from "../src/lib/sse";
import { applyEvent, newStreamProgress } from "../src/lib/transcribe";

const seg = (id: number, start: number, end: number, text: string) => ({ id, start, end, text });
const body = [
  'event: info\ndata: {"language":"en","language_probability":1,"duration":10,"batched":false}\n\n',
  `event: segment\ndata: ${JSON.stringify({ segment: seg(0, 0, 4, "Hello there."), decoded_s: 4, duration: 10, progress: 0.4 })}\n\n`,
  ": keepalive\n\n",
  `event: segment\ndata: ${JSON.stringify({ segment: seg(1, 4.5, 9.5, "Second one."), decoded_s: 9.5, duration: 10, progress: 0.95 })}\n\n`,
  `event: done\ndata: ${JSON.stringify({ text: "Hello there. Second one.", language: "en", duration: 10, segments: [seg(0, 0, 4, "Hello there."), seg(1, 4.5, 9.5, "Second one.")] })}\n\n`,
].join("");

describe("applyEvent", () => {
  it("builds segments and progress from a stream cut anywhere", () => {
    for (const size of [1, 7, 64, body.length]) {
      const p = newStreamProgress();
      const parser = new SseParser();
      const fractions: (number | null)[] = [];
      let result = null;
      for (let i = 0; i < body.length; i += size) {
        for (const msg of parser.push(body.slice(i, i + size))) {
          result = applyEvent(p, msg) ?? result;
          fractions.push(p.fraction);
        }
      }
      expect(fractions).toEqual([0, 0.4, 0.95, 1]);
      expect(p.segments.map((s) => s.text)).toEqual(["Hello there.", "Second one."]);
      expect([p.phase, p.decoded, p.duration]).toEqual(["done", 10, 10]);
      expect(result?.text).toBe("Hello there. Second one.");
    }
  });

  it("turns an error event into the gateway's error", () => {
    const p = newStreamProgress();
    const msg = { event: "error", id: null, data: '{"error":{"code":"upstream_disconnected","message":"the service went away"}}' };
    let caught: unknown = null;
    try {
      applyEvent(p, msg);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).code).toBe("upstream_disconnected");
    expect((caught as ApiError).message).toBe("The service went away");
  });

  it("never lets progress go backwards or past the end", () => {
    const p = newStreamProgress();
    applyEvent(p, { event: "segment", id: null, data: JSON.stringify({ segment: seg(0, 0, 5, "a"), decoded_s: 5, progress: 0.5 }) });
    applyEvent(p, { event: "segment", id: null, data: JSON.stringify({ segment: seg(1, 4, 4.5, "b"), decoded_s: 4.5, progress: 0.45 }) });
    expect(p.fraction).toBe(0.5);
    applyEvent(p, { event: "segment", id: null, data: JSON.stringify({ segment: seg(2, 5, 12, "c"), decoded_s: 12, progress: 1.2 }) });
    expect(p.fraction).toBe(1);
  });
});
