// The local web server `make run` starts (serve.sh -> nginx-local.sh: nginx with the container's
// nginx.conf) as a real process: static files, the same-origin proxy (event streams, uploads,
// WebSocket upgrades), a clear error when the gateway is down, and slow clients.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echoUpgrades, expectSecure, freePort, readRest, upgrade } from "./helpers.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));


async function startServer(env) {
  const port = await freePort();
  const proc = spawn("bash", [path.join(here, "..", "nginx-local.sh")], {
    env: { ...process.env, WEB_PORT: String(port), WEB_NGINX_DIR: mkdtempSync(path.join(os.tmpdir(), "web-nginx-")), ...env },
    stdio: "ignore",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(base + "/");
      return { proc, base };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  proc.kill();
  throw new Error("nginx-local.sh did not start");
}

let gateway, gatewayUrl, web, dist;
const seen = [];
let finishStream = null;

beforeAll(async () => {
  dist = mkdtempSync(path.join(os.tmpdir(), "web-dist-"));
  mkdirSync(path.join(dist, "assets"));
  writeFileSync(path.join(dist, "index.html"), "<!doctype html><title>app</title>");
  writeFileSync(path.join(dist, "assets", "app.js"), "console.log(1)");
  writeFileSync(path.join(os.tmpdir(), "secret.txt"), "secret");

  // The gateway refuses some uploads before using them (a 413 on Content-Length, a 401); it reads
  // the body first so a proxy still sending it sees the answer (tests/e2e/test_web_nginx.py runs
  // the real gateway behind this nginx).
  const early413 = (req, res) => {
    // as the gateway does (uploads.drain): read what is sent, then refuse and close
    req.resume();
    req.on("end", () => {
      res.writeHead(413, { "Content-Type": "application/json", Connection: "close" });
      res.end(JSON.stringify({ error: { code: "payload_too_large", message: "the upload is over 1 MB" } }));
    });
  };
  const handle = (req, res) => {
    if (req.url === "/api/v1/too-big") return early413(req, res);
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body, host: req.headers.host });
      if (req.url.endsWith("/events")) {
        res.writeHead(200, { "Content-Type": "text/event-stream" });
        res.write('event: started\nid: 1\ndata: {"seq":1}\n\n');
        // The rest only comes once the client has seen the first event: a buffering proxy hangs here.
        finishStream = () => res.end('event: succeeded\nid: 2\ndata: {"seq":2}\n\n');
        return;
      }
      res.writeHead(req.method === "POST" ? 202 : 200, { "Content-Type": "application/json", Location: "/api/v1/jobs/j1" });
      res.end(JSON.stringify({ ok: true, url: req.url }));
    });
  };
  gateway = http.createServer(handle);
  gateway.on("checkContinue", (req, res) => {
    if (req.url === "/api/v1/too-big") return early413(req, res);
    res.writeContinue();
    handle(req, res);
  });
  echoUpgrades(gateway, (req) =>
    seen.push({ method: "UPGRADE", url: req.url, auth: req.headers.authorization, host: req.headers.host }),
  );
  await new Promise((r) => gateway.listen(0, "127.0.0.1", r));
  gatewayUrl = `http://127.0.0.1:${gateway.address().port}`;
  web = await startServer({ WEB_GATEWAY_URL: gatewayUrl, WEB_DIST: dist });
});

afterAll(() => {
  web?.proc.kill();
  gateway?.close();
});

describe("static files", () => {
  it("serves index.html with security headers and no caching", async () => {
    const r = await fetch(web.base + "/");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(r.headers.get("cache-control")).toBe("no-cache");
    expect(r.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(await r.text()).toContain("<title>app</title>");
  });
  it("caches hashed assets and falls back to the app for client routes", async () => {
    const a = await fetch(web.base + "/assets/app.js");
    expect(a.headers.get("cache-control")).toContain("immutable");
    expect(a.headers.get("content-type")).toMatch(/^(text|application)\/javascript/);
    expect((await fetch(web.base + "/some/page")).status).toBe(200);
    expect((await fetch(web.base + "/missing.js")).status).toBe(404);
  });
  it("does not escape the dist folder", async () => {
    const r = await fetch(web.base + "/..%2f..%2fsecret.txt");
    expect(r.status).not.toBe(200);
  });
});

describe("proxy", () => {
  it("forwards /api with method, headers, query and body", async () => {
    const r = await fetch(web.base + "/api/v1/transcriptions?async=true", {
      method: "POST",
      headers: { Authorization: "Bearer k", "Content-Type": "application/json" },
      body: JSON.stringify({ a: 1 }),
    });
    expect(r.status).toBe(202);
    expect(r.headers.get("location")).toBe("/api/v1/jobs/j1");
    const last = seen.at(-1);
    expect(last).toMatchObject({ method: "POST", url: "/api/v1/transcriptions?async=true", auth: "Bearer k", body: '{"a":1}' });
    expect(last.host).toBe(new URL(gatewayUrl).host);
  });
  it("forwards /v1 (OpenAI-compatible paths)", async () => {
    const r = await fetch(web.base + "/v1/audio/transcriptions", { method: "POST", body: "x" });
    expect((await r.json()).url).toBe("/v1/audio/transcriptions");
  });
  it("streams event streams as they come", async () => {
    const r = await fetch(web.base + "/api/v1/jobs/j1/events");
    expect(r.headers.get("content-type")).toBe("text/event-stream");
    const reader = r.body.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("event: started");
    finishStream();
    const rest = await readRest(reader);
    expect(rest).toContain("event: succeeded");
  });
  it("passes the gateway's early answer to an upload through (413), not a 502", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(web.base + "/api/v1/too-big", {
        method: "POST",
        headers: { "Content-Type": "application/octet-stream" },
        body: new Uint8Array(8 * 1024 * 1024),
      });
      expect(r.status).toBe(413);
      expect((await r.json()).error.code).toBe("payload_too_large");
    }
    const body = "y".repeat(300_000);
    const ok = await fetch(web.base + "/api/v1/upload", { method: "POST", body });
    expect(ok.status).toBe(202);
    expect(seen.at(-1).body).toBe(body);
  });
  it("answers a clear JSON error when the gateway is down", async () => {
    const down = await startServer({ WEB_GATEWAY_URL: `http://127.0.0.1:${await freePort()}`, WEB_DIST: dist });
    try {
      const r = await fetch(down.base + "/api/v1/me");
      expect(r.status).toBe(502);
      expect(await r.json()).toEqual({
        error: { code: "gateway_unreachable", message: "The web server cannot reach the API gateway. Is it running?" },
      });
    } finally {
      down.proc.kill();
    }
  });
});

describe("websocket upgrades", () => {
  it("tunnels /api upgrades to the gateway both ways", async () => {
    const out = await upgrade(web.base, "/api/v1/transcriptions/live?token=t", "hello");
    expect(out).toEqual({ status: 101, echo: "HELLO" });
    const up = seen.find((r) => r.method === "UPGRADE");
    expect(up.url).toBe("/api/v1/transcriptions/live?token=t");
    expect(up.host).toBe(new URL(gatewayUrl).host);
  });
  it("does not upgrade outside the live paths", async () => {
    // nginx answers the request as a plain one (never 101), so nothing is tunnelled
    for (const p of ["/assets/app.js", "/api/v1/me"]) {
      const out = await upgrade(web.base, p, "x");
      expect(out.status, p).not.toBe(101);
      expect(out.echo, p).toBeNull();
    }
  });
});

describe("security headers on every response", () => {
  it("static, 404, 405, proxied, proxied errors and gateway down", async () => {
    expectSecure(await fetch(web.base + "/"), "index");
    expectSecure(await fetch(web.base + "/assets/app.js"), "asset");
    expectSecure(await fetch(web.base + "/missing.js"), "404");
    expectSecure(await fetch(web.base + "/", { method: "DELETE" }), "405");
    expectSecure(await fetch(web.base + "/api/v1/me"), "proxied");
    expectSecure(await fetch(web.base + "/api/v1/too-big", { method: "POST", body: "x" }), "proxied 413");
    const down = await startServer({ WEB_GATEWAY_URL: `http://127.0.0.1:${await freePort()}`, WEB_DIST: dist });
    try {
      expectSecure(await fetch(down.base + "/api/v1/me"), "502");
    } finally {
      down.proc.kill();
    }
  });
});

/** Open a socket, send `first`, then one byte of `trickle` every `everyMs`; resolve with how
 * long the server took to close it and what it answered. */
function trickle(base, first, more, everyMs = 200, limitMs = 10_000) {
  const { port } = new URL(base);
  return new Promise((resolve) => {
    const start = Date.now();
    let said = "";
    let i = 0;
    const sock = net.connect(Number(port), "127.0.0.1", () => sock.write(first));
    const timer = setInterval(() => {
      if (Date.now() - start > limitMs) {
        clearInterval(timer);
        sock.destroy();
        resolve({ ms: null, said });
      } else if (more && !sock.destroyed) sock.write(more[i++ % more.length]);
    }, everyMs);
    sock.on("data", (d) => (said += d));
    sock.on("error", () => undefined);
    sock.on("close", () => {
      clearInterval(timer);
      resolve({ ms: Date.now() - start, said });
    });
  });
}

describe("slow clients", () => {
  let slow;
  beforeAll(async () => {
    slow = await startServer({ WEB_GATEWAY_URL: gatewayUrl, WEB_DIST: dist, WEB_HEADERS_TIMEOUT_S: "1", WEB_BODY_TIMEOUT_S: "2" });
  });
  afterAll(() => slow?.proc.kill());

  it("cuts off trickled headers after the header timeout", async () => {
    // nginx closes the connection (a 408 in its log, no answer sent)
    const { ms, said } = await trickle(slow.base, "GET / HTTP/1.1\r\nHost: x\r\n", "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaa");
    expect(ms).not.toBeNull();
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(2500);
    expect(said === "" || /^HTTP\/1\.1 408 /.test(said)).toBe(true);
  });
  it("cuts off a stalled upload after the body timeout; a static path refuses it at once", async () => {
    // a trickled upload (bytes now and then) is bounded by the gateway's total body timeout
    const head = (url) => `POST ${url} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\nabc`;
    const proxied = await trickle(slow.base, head("/api/v1/upload"), null);
    expect(proxied.ms).not.toBeNull();
    expect(proxied.ms).toBeLessThan(4500);
    const started = Date.now();
    const fixed = await trickle(slow.base, head("/upload"), null);
    expect(fixed.said).toMatch(/^HTTP\/1\.1 405 /);
    expect(fixed.ms).not.toBeNull(); // closed after nginx's lingering close (5 s), answered before
    expect(Date.now() - started).toBeLessThan(8000);
  }, 15_000);
  it("leaves event streams (long responses) alone", async () => {
    const r = await fetch(slow.base + "/api/v1/jobs/j2/events");
    const reader = r.body.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("event: started");
    await new Promise((res) => setTimeout(res, 3000)); // longer than both timeouts
    finishStream();
    const rest = await readRest(reader);
    expect(rest).toContain("event: succeeded");
  }, 10_000);
});
