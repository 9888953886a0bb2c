"""Test helpers: real service processes on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable


RECORDED_GPU_PROBES = Path(__file__).parent / "gpu_probes"


def gpu_probe_env(name: str) -> dict[str, str]:
    """Environment that makes a service's GPU check replay a recorded probe (kit/gpu_probes/<name>.json):
    rtx5060ti_torch_sm90, rtx5060ti_torch_cu128, rtx5060ti_ct2_cuda, rtx5060ti_ct2_without_cuda,
    rtx5060ti_ct2_busy, cpu_only_audio, cpu_only_vlm."""
    path = RECORDED_GPU_PROBES / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(path)
    return {"AIP_GPU_PROBE_FILE": str(path)}


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http_ok(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Poll `url` until it answers 200; fail early if `proc` exits."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
                last = f"status {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"status {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout:.0f}s ({last})")


def wait_for(fn: Callable[[], Any], timeout: float = 60, every: float = 0.5, what: str = "condition",
             alive: Callable[[], bool] | None = None) -> Any:
    """Call `fn` until it returns something truthy and return that; fail after `timeout` seconds
    (early when `alive` says the process behind it died). Errors count as 'not yet'."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"gave up waiting for {what}: the process exited")
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001 - reported if the wait times out
            value, last = None, exc
        else:
            last = value
            if value:
                return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


class ServerProcess:
    """A real server subprocess: start, wait until `ready_url` answers 200, stop.

    Use as a context manager. Output goes to a log file; `log_text()` reads it (tests use it
    to assert on logs and to show why a start failed).
    """

    def __init__(self, cmd, env=None, ready_url=None, cwd=None, timeout=120.0, name="server"):
        self.cmd = list(cmd)
        self.env = {**os.environ, **(env or {})}
        self.ready_url = ready_url
        self.cwd = cwd
        self.timeout = timeout
        self.name = name
        self.proc: subprocess.Popen | None = None
        fd, path = tempfile.mkstemp(prefix=f"{name}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(path)

    def start(self) -> "ServerProcess":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.cmd, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if self.ready_url:
            try:
                wait_http_ok(self.ready_url, self.timeout, self.proc)
            except Exception as exc:
                self.stop()
                raise RuntimeError(f"{self.name} failed to start: {exc}\n--- log ---\n{self.log_text()[-4000:]}") from exc
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        """Signal the process group and wait; SIGKILL if it does not exit in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def kill(self) -> None:
        """Kill hard (SIGKILL), as a crash would."""
        self.stop(signal.SIGKILL)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


_TRITON_GRPC = r"""
import base64, json, sys
import numpy as np
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

req = json.load(sys.stdin)
client = grpcclient.InferenceServerClient(req["address"])
out = {"metadata": client.get_model_metadata(req["model"], as_json=True)}
inp = grpcclient.InferInput(req["input"], [len(req["data"])], "BYTES")
inp.set_data_from_numpy(np.array([base64.b64decode(d) for d in req["data"]], dtype=object))
try:
    res = client.infer(req["model"], [inp], parameters=req["parameters"] or None)
    out["results"] = [json.loads(v) for v in res.as_numpy("result").reshape(-1)]
except InferenceServerException as exc:
    out["error"] = {"status": str(exc.status()), "message": exc.message()}
client.close()
print(json.dumps(out))
"""


def triton_grpc_infer(address: str, model: str, input_name: str, data: list[bytes],
                      parameters: dict | None = None, timeout: float = 300) -> dict:
    """Call a model with NVIDIA's tritonclient over gRPC, in a subprocess of this interpreter.

    tritonclient's gRPC protos and KServe's register the same names in protobuf's default pool,
    so they cannot be imported into one process; tests import KServe. Returns `{"metadata",
    "results"}` (the JSON documents of output `result`) or `{"metadata", "error": {"status",
    "message"}}`.
    """
    import base64
    import json
    import sys

    request = {"address": address, "model": model, "input": input_name, "parameters": parameters or {},
               "data": [base64.b64encode(d).decode() for d in data]}
    proc = subprocess.run([sys.executable, "-c", _TRITON_GRPC], input=json.dumps(request), capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"tritonclient gRPC call failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def sse_events(lines) -> list[tuple[str, object]]:
    """(event, JSON data) pairs of a server-sent event body given as lines (comments skipped;
    an event without an `event:` line is `message`)."""
    import json

    events, name, data = [], None, []
    for line in [*lines, ""]:
        if line.startswith(":"):
            continue
        if not line:
            if data:
                events.append((name or "message", json.loads("\n".join(data))))
            name, data = None, []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
    return events


def prometheus_sample(url: str, name: str, **labels: str) -> float:
    """The value of one sample of a service's `/metrics` with exactly these labels (0 if absent)."""
    import re

    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    want = {f'{k}="{v}"' for k, v in labels.items()}
    for m in re.finditer(rf"^{re.escape(name)}\{{(.*)\}} ([0-9.e+-]+)$", text, re.M):
        if set(m.group(1).split(",")) == want:
            return float(m.group(2))
    return 0.0
