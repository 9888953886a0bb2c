// Transcript exports: plain text, SubRip (.srt) and WebVTT (.vtt).
import type { Segment, Transcript } from "./types";

function stamp(seconds: number, sep: "," | "."): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const rest = ms % 1000;
  const p2 = (n: number) => String(n).padStart(2, "0");
  return `${p2(h)}:${p2(m)}:${p2(s)}${sep}${String(rest).padStart(3, "0")}`;
}

/** 62.5 -> "00:01:02,500" */
export const srtTimestamp = (seconds: number) => stamp(seconds, ",");
/** 62.5 -> "00:01:02.500" */
export const vttTimestamp = (seconds: number) => stamp(seconds, ".");

function cueText(text: string): string {
  // A blank line ends a cue in both formats; collapse line breaks inside one.
  return text.trim().replace(/\s*\n\s*/g, " ");
}

function cues(segments: Segment[]): Segment[] {
  return segments.filter((s) => cueText(s.text).length > 0);
}

export function toSrt(segments: Segment[]): string {
  return cues(segments)
    .map((s, i) => `${i + 1}\n${srtTimestamp(s.start)} --> ${srtTimestamp(s.end)}\n${cueText(s.text)}\n`)
    .join("\n");
}

export function toVtt(segments: Segment[]): string {
  const body = cues(segments)
    .map((s) => `${vttTimestamp(s.start)} --> ${vttTimestamp(s.end)}\n${cueText(s.text).replace(/-->/g, "->")}\n`)
    .join("\n");
  return body ? `WEBVTT\n\n${body}` : "WEBVTT\n";
}

/** Plain text: one segment per line; the full text when there are no segments. */
export function toTxt(result: Pick<Transcript, "text" | "segments">): string {
  const segs = cues(result.segments ?? []);
  if (segs.length === 0) return (result.text ?? "").trim() + "\n";
  return segs.map((s) => cueText(s.text)).join("\n") + "\n";
}
