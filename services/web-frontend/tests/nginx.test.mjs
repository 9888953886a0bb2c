// nginx.conf (the container's web server) run by the real nginx on loopback: the same security
// headers on every response (static, proxied, the gateway-down 502, /healthz).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echoUpgrades, expectSecure, freePort, upgrade } from "./helpers.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const NGINX = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => spawnSync(p, ["-v"]).status === 0);


/** nginx.conf inside a minimal main config, with the image's substitutions done by hand. */
async function startNginx(gatewayUrl, dist) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "web-nginx-"));
  const port = await freePort();
  const server = readFileSync(path.join(here, "..", "nginx.conf"), "utf8")
    .replace("listen 8080;", `listen 127.0.0.1:${port};`)
    .replace("root /usr/share/nginx/html;", `root ${dist};`)
    .replaceAll("${WEB_GATEWAY_URL}", gatewayUrl);
  writeFileSync(path.join(dir, "server.conf"), server);
  for (const d of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(path.join(dir, d));
  writeFileSync(
    path.join(dir, "nginx.conf"),
    `daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events {}
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  include ${dir}/server.conf;
}
`,
  );
  const proc = spawn(NGINX, ["-p", dir, "-c", path.join(dir, "nginx.conf")], { stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(base + "/healthz");
      return { proc, base };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  proc.kill();
  throw new Error(`nginx did not start: ${readFileSync(path.join(dir, "error.log"), "utf8")}`);
}


describe("nginx.conf", () => {
  let gateway, up, down, dist;
  beforeAll(async () => {
    if (!NGINX) throw new Error("nginx is not installed (apt.txt: apt-get install nginx)");
    dist = mkdtempSync(path.join(os.tmpdir(), "web-dist-"));
    mkdirSync(path.join(dist, "assets"));
    writeFileSync(path.join(dist, "index.html"), "<!doctype html><title>app</title>");
    writeFileSync(path.join(dist, "assets", "app.js"), "console.log(1)");
    gateway = http.createServer((req, res) => {
      res.writeHead(req.url === "/api/v1/missing" ? 404 : 200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ url: req.url }));
    });
    echoUpgrades(gateway);
    await new Promise((r) => gateway.listen(0, "127.0.0.1", r));
    up = await startNginx(`http://127.0.0.1:${gateway.address().port}`, dist);
    down = await startNginx(`http://127.0.0.1:${await freePort()}`, dist);
  });
  afterAll(() => {
    up?.proc.kill();
    down?.proc.kill();
    gateway?.close();
  });

  it("sends the security headers on static files, proxied answers and errors", async () => {
    const index = await fetch(up.base + "/");
    expect(await index.text()).toContain("<title>app</title>");
    expectSecure(index, "index");
    const asset = await fetch(up.base + "/assets/app.js");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expectSecure(asset, "asset");
    const proxied = await fetch(up.base + "/api/v1/me");
    expect(await proxied.json()).toEqual({ url: "/api/v1/me" });
    expectSecure(proxied, "proxied");
    const notFound = await fetch(up.base + "/api/v1/missing");
    expect(notFound.status).toBe(404);
    expectSecure(notFound, "proxied 404");
    expectSecure(await fetch(up.base + "/healthz"), "healthz");
    const gone = await fetch(down.base + "/api/v1/me");
    expect(gone.status).toBe(502);
    expect((await gone.json()).error.code).toBe("gateway_unreachable");
    expectSecure(gone, "502");
  });

  it("passes the live-transcription WebSocket upgrade through", async () => {
    expect(await upgrade(up.base, "/api/v1/transcriptions/live?token=t", "hello")).toEqual({ status: 101, echo: "HELLO" });
  });
});
