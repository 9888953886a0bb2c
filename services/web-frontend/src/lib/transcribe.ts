// A transcription streamed by the gateway (`stream=true`): segments appear as they are decoded,
// with the decoded share of the recording as progress.
import type { Api } from "./api";
import { ApiError, errorFromBody } from "./errors";
import { SseParser, type SseMessage } from "./sse";
import type { Segment, Transcript } from "./types";

export interface StreamProgress {
  phase: "uploading" | "transcribing" | "done";
  upload: number; // 0..1
  decoded: number; // seconds of the recording transcribed so far
  duration: number | null; // seconds, once the service has read the file
  fraction: number | null; // decoded / duration, 0..1
  segments: Segment[];
}

export function newStreamProgress(): StreamProgress {
  return { phase: "uploading", upload: 0, decoded: 0, duration: null, fraction: null, segments: [] };
}

/**
 * Apply one event of the gateway's transcription stream to `p`; returns the finished
 * transcript on `done`, throws the stream's `error` as an ApiError, else returns null.
 */
export function applyEvent(p: StreamProgress, msg: SseMessage): Transcript | null {
  let data: any;
  try {
    data = JSON.parse(msg.data);
  } catch {
    return null;
  }
  if (msg.event === "info") {
    p.phase = "transcribing";
    p.upload = 1;
    p.duration = Number(data.duration) || null;
    p.fraction = 0;
  } else if (msg.event === "segment" && data?.segment) {
    p.phase = "transcribing";
    p.segments = [...p.segments, data.segment as Segment];
    p.decoded = Number(data.decoded_s) || p.decoded;
    const f = Number(data.progress);
    if (Number.isFinite(f)) p.fraction = Math.max(p.fraction ?? 0, Math.min(1, f));
  } else if (msg.event === "done") {
    p.phase = "done";
    p.fraction = 1;
    if (p.duration) p.decoded = p.duration;
    return data as Transcript;
  } else if (msg.event === "error") {
    throw errorFromBody(502, JSON.stringify(data));
  }
  return null;
}

/** Upload `form` with `stream=true` and follow the segments; resolves with the whole transcript. */
export async function streamTranscript(
  api: Api,
  path: string,
  form: FormData,
  onUpdate: (p: StreamProgress) => void,
  signal?: AbortSignal,
): Promise<Transcript> {
  const p = newStreamProgress();
  const parser = new SseParser();
  let result: Transcript | null = null;
  let failure: unknown = null;
  const emit = () => onUpdate({ ...p, segments: [...p.segments] });
  form.set("stream", "true");
  emit();
  await api.uploadStream(
    path,
    form,
    (f) => {
      p.upload = f;
      emit();
    },
    (chunk) => {
      if (result || failure) return;
      try {
        for (const msg of parser.push(chunk)) {
          result = applyEvent(p, msg) ?? result;
          emit();
        }
      } catch (err) {
        failure = err;
      }
    },
    signal,
  );
  if (failure) throw failure;
  if (!result) throw new ApiError(502, "stream_incomplete", "The transcription stream ended before its result.");
  return result;
}
