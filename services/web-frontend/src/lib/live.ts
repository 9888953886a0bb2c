// Live transcription over the gateway's WebSocket (docs/GATEWAY_API.md, "Live transcription"):
// a short-lived token from POST /api/v1/live-tokens (a browser cannot send the API key as a
// WebSocket header), a `start` message, MediaRecorder's WebM chunks, then `stop`.
import type { Api } from "./api";
import { describeError } from "./errors";
import type { LiveMessage, LiveSegment } from "./types";

export type { LiveMessage, LiveSegment };

/** What the page shows: final segments (never revised) and the current partial text. */
export class LiveTranscript {
  finals: LiveSegment[] = [];
  partial = "";
  error: string | null = null;
  done = false;

  apply(msg: LiveMessage): void {
    if (msg.type === "final") {
      this.finals.push(msg.segment);
      this.partial = "";
    } else if (msg.type === "partial") {
      this.partial = msg.text;
    } else if (msg.type === "error") {
      this.error = msg.error.message;
    } else if (msg.type === "done") {
      this.done = true;
      this.partial = "";
    }
  }

  get finalText(): string {
    return this.finals.map((s) => s.text).join(" ");
  }
}

/** A close code's meaning for people (the gateway also sends an `error` message first). */
export function describeClose(code: number): string | null {
  const known: Record<number, string> = {
    1013: "The transcription service is busy; try again shortly.",
    1014: "The transcription service cannot be reached.",
    4401: "The live session was not authorised; sign in again.",
    4403: "This API key may not use live transcription.",
    4408: "The live session ended: no audio arrived for a while.",
    4413: "The live session reached its length limit.",
    4429: "Too many live sessions are open for this key.",
  };
  return code === 1000 ? null : (known[code] ?? `The live session ended unexpectedly (code ${code}).`);
}

export interface LiveSession {
  send(chunk: Blob): void;
  stop(): void;
  close(): void;
}

/** Open a live session for `resource`; `onMessage` gets every server message, `onClose` the
 * close code. Returns at once: chunks sent before the socket is open wait for it, so a recorder
 * can start first and lose nothing. A token that cannot be had is reported as an `error`. */
export function openLive(
  api: Api,
  resource: string,
  language: string,
  onMessage: (m: LiveMessage) => void,
  onClose: (code: number) => void,
): LiveSession {
  const pending: Blob[] = [];
  let ws: WebSocket | null = null;
  let stopped = false;
  let closed = false;
  api
    .liveToken(resource)
    .then(({ url }) => {
      if (closed) return;
      const sock = new WebSocket(window.location.origin.replace(/^http/, "ws") + url);
      ws = sock;
      sock.onmessage = (e) => {
        try {
          onMessage(JSON.parse(String(e.data)) as LiveMessage);
        } catch {
          /* not JSON: ignore */
        }
      };
      sock.onclose = (e) => onClose(e.code);
      sock.onopen = () => {
        sock.send(JSON.stringify({ type: "start", format: "webm", ...(language ? { language } : {}) }));
        for (const b of pending.splice(0)) sock.send(b);
        if (stopped) sock.send(JSON.stringify({ type: "stop" }));
      };
    })
    .catch((err) => {
      onMessage({ type: "error", error: { code: "live_unavailable", message: `Live text is unavailable: ${describeError(err)}` } });
    });
  return {
    send(chunk: Blob) {
      if (ws?.readyState === WebSocket.OPEN) ws.send(chunk);
      else if (!closed && !stopped) pending.push(chunk);
    },
    stop() {
      stopped = true;
      if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "stop" }));
    },
    close() {
      closed = true;
      if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
    },
  };
}
