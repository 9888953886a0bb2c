import { describe, expect, it } from "vitest";
import { srtTimestamp, toSrt, toTxt, toVtt, vttTimestamp } from "../src/lib/subtitles";

const segments = [
  { id: 0, start: 0, end: 2.5, text: " Hello world." },
  { id: 1, start: 2.5, end: 65.04, text: " This is a\ntest --> really." },
  { id: 2, start: 70, end: 71, text: "   " },
  { id: 3, start: 3723.4567, end: 3725, text: "Late." },
];

describe("timestamps", () => {
  it("uses comma for SRT and dot for VTT with millisecond rounding", () => {
    expect(srtTimestamp(62.5)).toBe("00:01:02,500");
    expect(vttTimestamp(62.5)).toBe("00:01:02.500");
    expect(srtTimestamp(3723.4567)).toBe("01:02:03,457");
    expect(vttTimestamp(0.9996)).toBe("00:00:01.000");
    expect(srtTimestamp(-1)).toBe("00:00:00,000");
  });
});

describe("toSrt", () => {
  it("numbers cues from 1, skips empty ones and keeps each cue on one line", () => {
    expect(toSrt(segments)).toBe(
      "1\n00:00:00,000 --> 00:00:02,500\nHello world.\n\n" +
        "2\n00:00:02,500 --> 00:01:05,040\nThis is a test --> really.\n\n" +
        "3\n01:02:03,457 --> 01:02:05,000\nLate.\n",
    );
  });
  it("is empty without segments", () => {
    expect(toSrt([])).toBe("");
  });
});

describe("toVtt", () => {
  it("starts with the WEBVTT header and escapes the cue arrow in text", () => {
    expect(toVtt(segments)).toBe(
      "WEBVTT\n\n" +
        "00:00:00.000 --> 00:00:02.500\nHello world.\n\n" +
        "00:00:02.500 --> 00:01:05.040\nThis is a test -> really.\n\n" +
        "01:02:03.457 --> 01:02:05.000\nLate.\n",
    );
  });
  it("is a valid empty file without segments", () => {
    expect(toVtt([])).toBe("WEBVTT\n");
  });
});

describe("toTxt", () => {
  it("writes one line per segment", () => {
    expect(toTxt({ text: "ignored", segments })).toBe("Hello world.\nThis is a test --> really.\nLate.\n");
  });
  it("uses the full text when there are no segments", () => {
    expect(toTxt({ text: " Just text. ", segments: [] })).toBe("Just text.\n");
  });
});
