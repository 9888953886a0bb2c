// Serves the built UI (dist/) and proxies /api and /v1 to the gateway, so the browser
// sees one origin. Node's standard library only. Env: WEB_PORT (8080), WEB_HOST
// (127.0.0.1), WEB_GATEWAY_URL (http://127.0.0.1:8090), WEB_DIST (./dist), and the slow-client
// bounds WEB_HEADERS_TIMEOUT_S (10: the request's headers must arrive within it) and
// WEB_REQUEST_TIMEOUT_S (300: the whole request, upload included); either answers 408 and
// closes. Responses (event streams) are not bounded: only what the client sends is.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const PORT = Number(process.env.WEB_PORT || 8080);
const HOST = process.env.WEB_HOST || "127.0.0.1";
const GATEWAY = new URL(process.env.WEB_GATEWAY_URL || "http://127.0.0.1:8090");
const DIST = path.resolve(process.env.WEB_DIST || path.join(here, "dist"));
const PROXIED = ["/api/", "/v1/"];
const seconds = (name, fallback) => {
  const v = Number(process.env[name] ?? fallback);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const HEADERS_TIMEOUT_MS = seconds("WEB_HEADERS_TIMEOUT_S", 10) * 1000;
const REQUEST_TIMEOUT_MS = Math.max(seconds("WEB_REQUEST_TIMEOUT_S", 300) * 1000, HEADERS_TIMEOUT_MS);

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; " +
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};

// A fresh upstream connection per request: a pooled keep-alive socket that the gateway closes
// just as a request starts fails that request (EPIPE / ECONNRESET), and uploads cannot be retried.
const AGENTS = { "http:": new http.Agent({ keepAlive: false }), "https:": new https.Agent({ keepAlive: false }) };

// Hop-by-hop headers are not forwarded (RFC 9110 7.6.1).
const HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host"]);

function log(msg) {
  process.stdout.write(`${new Date().toISOString()} web-frontend ${msg}\n`);
}

// Every response carries the security headers (static files, proxied answers, errors, 404s);
// set first, so writeHead merges them in and a proxied answer cannot drop them.
function secure(res) {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
}
const SECURITY_NAMES = new Set(Object.keys(SECURITY_HEADERS).map((k) => k.toLowerCase()));

function sendJson(res, status, code, message) {
  if (res.headersSent) return res.destroy();
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  res.end(JSON.stringify({ error: { code, message } }));
}

function proxy(req, res) {
  const target = new URL(req.url, GATEWAY);
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
  headers.host = GATEWAY.host;
  const fwd = req.socket.remoteAddress || "";
  headers["x-forwarded-for"] = req.headers["x-forwarded-for"] ? `${req.headers["x-forwarded-for"]}, ${fwd}` : fwd;
  headers["x-forwarded-proto"] = "http";
  headers["x-forwarded-host"] = req.headers.host || "";
  const lib = target.protocol === "https:" ? https : http;
  // With a body, ask the gateway first (Expect: 100-continue): it answers 401/413/415 before
  // reading an upload and then closes, and a body already on the wire would turn that clean
  // answer into a connection reset (a 502 here). The body goes once the gateway says continue.
  const hasBody = Number(req.headers["content-length"] || 0) > 0 || Boolean(req.headers["transfer-encoding"]);
  if (hasBody) headers.expect = "100-continue";
  let answered = false;
  let sending = false;
  const up = lib.request(target, { method: req.method, headers, agent: AGENTS[target.protocol] }, (upRes) => {
    answered = true;
    // Answered without asking for the body: drop the upload (Node drains it from the browser).
    if (!sending) upRes.on("end", () => up.destroy());
    if (res.headersSent) return upRes.resume();
    const out = {};
    for (const [k, v] of Object.entries(upRes.headers)) if (!HOP.has(k) && !SECURITY_NAMES.has(k)) out[k] = v;
    if (String(upRes.headers["content-type"] || "").startsWith("text/event-stream")) out["x-accel-buffering"] = "no";
    res.writeHead(upRes.statusCode || 502, out);
    res.flushHeaders();
    upRes.on("error", () => res.destroy());
    upRes.pipe(res);
  });
  up.on("error", (err) => {
    // The gateway may answer early (e.g. 413) and stop reading the upload: its answer wins.
    if (answered) return;
    log(`proxy ${req.method} ${req.url} failed: ${err.code || err.message}`);
    sendJson(res, 502, "gateway_unreachable", "The web server cannot reach the API gateway. Is it running?");
  });
  // A client that goes away (e.g. closes the event stream) ends the upstream call too.
  res.on("close", () => up.destroy());
  if (!hasBody) return req.pipe(up);
  const send = () => {
    clearTimeout(fallback);
    if (sending || answered) return;
    sending = true;
    req.pipe(up);
  };
  up.on("continue", send);
  // A server that ignores Expect gets the body after a second anyway (what curl does).
  const fallback = setTimeout(send, 1000);
}

async function serveStatic(req, res) {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD" });
    return res.end();
  }
  let rel;
  try {
    rel = decodeURIComponent(new URL(req.url, "http://x").pathname);
  } catch {
    res.writeHead(400);
    return res.end();
  }
  let file = path.join(DIST, path.normalize(rel).replace(/^(\.\.[/\\])+/, ""));
  if (!file.startsWith(DIST)) {
    res.writeHead(403);
    return res.end();
  }
  let info = await stat(file).catch(() => null);
  if (info?.isDirectory()) {
    file = path.join(file, "index.html");
    info = await stat(file).catch(() => null);
  }
  if (!info && !path.extname(rel)) {
    // Client-side routes fall back to the app.
    file = path.join(DIST, "index.html");
    info = await stat(file).catch(() => null);
  }
  if (!info) {
    if (!(await stat(path.join(DIST, "index.html")).catch(() => null))) {
      res.writeHead(503, { "Content-Type": "text/plain; charset=utf-8" });
      return res.end("The web UI is not built yet: run `npm run build` in services/web-frontend.\n");
    }
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
    return res.end("Not found\n");
  }
  const immutable = file.includes(`${path.sep}assets${path.sep}`);
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    "Content-Type": TYPES[path.extname(file)] || "application/octet-stream",
    "Content-Length": info.size,
    "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
  });
  if (req.method === "HEAD") return res.end();
  createReadStream(file).pipe(res);
}

const server = http.createServer(
  {
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // how often Node checks those bounds (its default, 30 s, would let a trickler stay that long)
    connectionsCheckingInterval: Math.max(100, Math.min(1000, HEADERS_TIMEOUT_MS / 4)),
  },
  handle,
);

function handle(req, res) {
  secure(res);
  if (PROXIED.some((p) => req.url === p.slice(0, -1) || req.url.startsWith(p))) return proxy(req, res);
  serveStatic(req, res).catch((err) => {
    log(`error serving ${req.url}: ${err.message}`);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
}
// WebSocket upgrades under /api (live transcription) are tunnelled to the gateway as they are:
// the handshake is forwarded with the same headers rules, then bytes flow both ways.
server.on("upgrade", (req, socket, head) => {
  if (!req.url.startsWith("/api/")) return socket.destroy();
  const target = new URL(req.url, GATEWAY);
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (k !== "host") headers[k] = v;
  headers.host = GATEWAY.host;
  const lib = target.protocol === "https:" ? https : http;
  const up = lib.request(target, { method: req.method, headers, agent: AGENTS[target.protocol] });
  up.on("upgrade", (upRes, upSocket, upHead) => {
    const lines = [`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}`];
    for (let i = 0; i < upRes.rawHeaders.length; i += 2) lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
    socket.write(lines.join("\r\n") + "\r\n\r\n");
    if (upHead?.length) socket.write(upHead);
    if (head?.length) upSocket.write(head);
    upSocket.pipe(socket).pipe(upSocket);
    const end = () => {
      upSocket.destroy();
      socket.destroy();
    };
    upSocket.on("error", end).on("close", end);
    socket.on("error", end).on("close", end);
  });
  up.on("response", (upRes) => {
    // refused before the upgrade: pass the answer on and close
    socket.end(`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}\r\nconnection: close\r\n\r\n`);
    upRes.resume();
  });
  up.on("error", (err) => {
    log(`websocket proxy ${req.url} failed: ${err.code || err.message}`);
    socket.end("HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
  });
  socket.on("error", () => up.destroy());
  up.end();
});

server.listen(PORT, HOST, () => log(`serving ${DIST} on http://${HOST}:${PORT}, proxying /api and /v1 to ${GATEWAY.origin}`));

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
