#!/usr/bin/env python3
"""Latency the gateway adds, and its requests per second, for a small request, in one run
against (a) the upstream called directly, (b) Debian's nginx as a plain reverse proxy to the
same upstream, (c) `floor_proxy.py`, the thinnest reverse proxy possible on the gateway's own
Python stack (Python's floor), and (d) the gateway (auth, rate limit, breaker, route table, JSON
re-wrapping).

    bash scripts/venv.sh services/gateway            # once
    $(bash scripts/venv.sh services/gateway)/bin/python scripts/bench/gateway.py [--requests 3000]

The upstream is the small OIP v1 server of the gateway's tests (a real uvicorn process). Latency
is measured one request at a time over keep-alive connections, interleaving the three targets so
machine noise hits all equally; p50 overhead = median of the paired differences to the direct
call, p99 overhead = p99 of the target minus p99 of the direct call.
Throughput uses wrk (Debian package) with 16 connections when installed, else a Python client.
Targets (issue 4): gateway p50 overhead <= 2 ms and within 3x of nginx's overhead.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_APP = ROOT / "services" / "gateway" / "tests" / "upstream_app.py"
FLOOR_PROXY = Path(__file__).resolve().parent / "floor_proxy.py"
KEY = "bench-key-0123456789"
BODY_DIRECT = json.dumps({"instances": [{"text": "hello"}]}).encode()
BODY_GATEWAY = json.dumps({"text": "hello"}).encode()


def out(text: str = "", err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(text + "\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ok(url: str, timeout: float = 60, method: str = "GET", body: bytes | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, data=body, method=method)
            with urllib.request.urlopen(req, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


def start(cmd, env=None, log=None) -> subprocess.Popen:
    return subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=log or subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen | None) -> None:
    if proc and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def nginx_conf(prefix: Path, port: int, upstream_port: int) -> Path:
    conf = prefix / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(f"""
{user}
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;
  upstream model {{ server 127.0.0.1:{upstream_port}; keepalive 32; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://model;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Request-Id $request_id;
    }}
  }}
}}
""")
    return conf


class Target:
    def __init__(self, name: str, port: int, path: str, body: bytes, headers: dict):
        self.name, self.port, self.path, self.body = name, port, path, body
        self.headers = {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.samples: list[float] = []

    def once(self) -> float:
        t0 = time.perf_counter()
        self.conn.request("POST", self.path, self.body, self.headers)
        resp = self.conn.getresponse()
        data = resp.read()
        elapsed = time.perf_counter() - t0
        if resp.status != 200:
            raise RuntimeError(f"{self.name}: HTTP {resp.status}: {data[:200]!r}")
        return elapsed


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def wrk_rps(target: Target, seconds: int, connections: int, tmp: Path) -> float | None:
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    script = tmp / f"{target.name}.lua"
    headers = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in target.headers.items() if k != "Content-Length")
    script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(target.body.decode())}\n{headers}')
    out = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script),
                          f"http://127.0.0.1:{target.port}{target.path}"], capture_output=True, text=True)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    if non2xx:
        out(f"  warning: {target.name}: {non2xx.group(1)} non-2xx responses under load", err=True)
    return float(m.group(1)) if m else None


def py_rps(target: Target, seconds: float, connections: int) -> float:
    import threading

    count = [0] * connections
    stop_at = time.monotonic() + seconds

    def worker(i):
        t = Target(target.name, target.port, target.path, target.body, {})
        t.headers = target.headers
        while time.monotonic() < stop_at:
            t.once()
            count[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sum(count) / seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=3000, help="latency samples per target")
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--seconds", type=int, default=5, help="throughput run per target")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--gateway-log-level", default="INFO")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    up_port, gw_port, ng_port, fl_port = free_port(), free_port(), free_port(), free_port()
    procs: list[subprocess.Popen] = []
    try:
        procs.append(start([sys.executable, str(UPSTREAM_APP), "--port", str(up_port), "--model", "custom"]))
        wait_ok(f"http://127.0.0.1:{up_port}/v2/health/ready")
        routes = {"routes": [{"name": "echo", "kind": "custom", "resource": "echo",
                              "upstream": f"http://127.0.0.1:{up_port}", "model": "custom",
                              "timeout_s": 30, "max_concurrency": 64}]}
        (tmp / "routes.json").write_text(json.dumps(routes))
        gw_log = open(tmp / "gateway.log", "wb")
        procs.append(start([sys.executable, "-m", "gateway", "serve"], log=gw_log, env={
            "GATEWAY_PORT": str(gw_port), "GATEWAY_DATA_DIR": str(tmp / "data"), "GATEWAY_API_KEYS": KEY,
            "GATEWAY_ROUTES_FILE": str(tmp / "routes.json"), "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000000",
            "GATEWAY_LOG_LEVEL": args.gateway_log_level, "GATEWAY_MAX_QUEUE": "1024"}))
        wait_ok(f"http://127.0.0.1:{gw_port}/readyz")

        targets = [Target("direct", up_port, "/v1/models/custom:predict", BODY_DIRECT, {})]
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if nginx:
            ng_prefix = tmp / "nginx"
            ng_prefix.mkdir()
            conf = nginx_conf(ng_prefix, ng_port, up_port)
            procs.append(start([nginx, "-p", str(ng_prefix), "-c", str(conf), "-g", "daemon off;"]))
            wait_ok(f"http://127.0.0.1:{ng_port}/v2/health/ready")
            targets.append(Target("nginx", ng_port, "/v1/models/custom:predict", BODY_DIRECT, {}))
        else:
            out("nginx not installed (apt-get install nginx): nginx comparison left out", err=True)
        procs.append(start([sys.executable, str(FLOOR_PROXY), "--port", str(fl_port),
                            "--upstream", f"http://127.0.0.1:{up_port}/v1/models/custom:predict"]))
        wait_ok(f"http://127.0.0.1:{fl_port}/", method="POST", body=BODY_DIRECT)
        targets.append(Target("py-floor", fl_port, "/", BODY_DIRECT, {}))
        targets.append(Target("gateway", gw_port, "/api/v1/echo", BODY_GATEWAY, {"Authorization": f"Bearer {KEY}"}))

        for _ in range(args.warmup):
            for t in targets:
                t.once()
        for _ in range(args.requests):
            for t in targets:
                t.samples.append(t.once())

        results = {}
        base = targets[0]
        for t in targets:
            r = {"p50_ms": pct(t.samples, 50) * 1000, "p99_ms": pct(t.samples, 99) * 1000,
                 "mean_ms": sum(t.samples) / len(t.samples) * 1000}
            if t is not base:
                # samples are interleaved, so the median of the paired differences is the least
                # noisy estimate of the added latency; p99 compares the two distributions' tails
                paired = [a - b for a, b in zip(t.samples, base.samples, strict=True)]
                r["overhead_p50_ms"] = pct(paired, 50) * 1000
                r["overhead_p99_ms"] = r["p99_ms"] - pct(base.samples, 99) * 1000
            results[t.name] = r
        for t in targets:
            rps = wrk_rps(t, args.seconds, args.connections, tmp)
            tool = "wrk"
            if rps is None:
                rps, tool = py_rps(t, args.seconds, args.connections), "python"
            results[t.name]["rps"] = rps
            results[t.name]["rps_tool"] = tool

        out(f"\nsmall request, {args.requests} sequential samples per target, "
              f"throughput {args.seconds}s x {args.connections} connections ({os.cpu_count()} CPUs)\n")
        out(f"{'target':<9} {'p50 ms':>8} {'p99 ms':>8} {'+p50 ms':>8} {'+p99 ms':>8} {'req/s':>9}")
        for name, r in results.items():
            out(f"{name:<9} {r['p50_ms']:8.3f} {r['p99_ms']:8.3f} {r.get('overhead_p50_ms', 0):8.3f} "
                  f"{r.get('overhead_p99_ms', 0):8.3f} {r['rps']:9.0f}")
        gw = results["gateway"]
        verdict = {"gateway_p50_overhead_le_2ms": gw["overhead_p50_ms"] <= 2.0}
        if "nginx" in results:
            ng = results["nginx"]["overhead_p50_ms"]
            verdict["nginx_p50_overhead_ms"] = round(ng, 4)
            verdict["gateway_p50_overhead_ms"] = round(gw["overhead_p50_ms"], 4)
            if ng > 0.005:
                verdict["ratio_to_nginx_overhead"] = round(gw["overhead_p50_ms"] / ng, 1)
            verdict["within_3x_nginx"] = gw["overhead_p50_ms"] <= 3 * max(ng, 0.0)
        if "py-floor" in results:
            # the part of the gateway's overhead that its own work (auth, limits, routing,
            # metrics, logs) adds on top of the cheapest possible Python proxy
            verdict["python_floor_p50_overhead_ms"] = round(results["py-floor"]["overhead_p50_ms"], 4)
            verdict["gateway_work_above_floor_ms"] = round(
                gw["overhead_p50_ms"] - results["py-floor"]["overhead_p50_ms"], 4)
        out("\n" + json.dumps(verdict))
        if args.json:
            args.json.write_text(json.dumps({"results": results, "verdict": verdict}, indent=2))
        return 0
    finally:
        for p in reversed(procs):
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
