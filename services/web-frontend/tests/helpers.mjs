// Shared by the web server tests (local-server.test.mjs, nginx.test.mjs).
import http from "node:http";
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

/** A test gateway's WebSocket-style upgrades (live transcription): 101, then every byte echoed
 * back upper-cased; `onUpgrade(req)` sees each handshake. */
export function echoUpgrades(server, onUpgrade = () => {}) {
  server.on("upgrade", (req, socket) => {
    onUpgrade(req);
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    socket.on("data", (d) => socket.write(String(d).toUpperCase()));
  });
}

/** Upgrade `path` on `base`, send `text`: the status and the first bytes back (null when refused). */
export function upgrade(base, path, text) {
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, {
      headers: { Connection: "Upgrade", Upgrade: "websocket", Authorization: "Bearer k" },
    });
    req.on("upgrade", (res, socket) => {
      socket.once("data", (d) => {
        socket.destroy();
        resolve({ status: res.statusCode, echo: String(d) });
      });
      socket.write(text);
    });
    req.on("response", (res) => resolve({ status: res.statusCode, echo: null }));
    req.on("error", reject);
    req.end();
  });
}
