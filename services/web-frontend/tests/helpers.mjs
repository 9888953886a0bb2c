// Shared by the web server tests (local-server.test.mjs, nginx.test.mjs).
import net from "node:net";
import { expect } from "vitest";

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// What every response of the web server (nginx.conf) must carry.
export const SECURITY = {
  "content-security-policy": "frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

export function expectSecure(r, what) {
  for (const [k, v] of Object.entries(SECURITY)) expect(r.headers.get(k) ?? "", `${what}: ${k}`).toContain(v);
}

/** The rest of a streamed body as text. */
export async function readRest(reader) {
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return rest;
    rest += new TextDecoder().decode(value);
  }
}
