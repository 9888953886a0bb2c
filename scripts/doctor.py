#!/usr/bin/env python3
"""`make doctor`: can each model service use this machine's GPU, and if not, why and how to fix it.

For the machine (nvidia-smi or NVML) and for each model service's own venv (scripts/venv.sh),
it asks torch / CTranslate2 / ONNX Runtime what they were built for and what they see (a tiny
torch kernel included), reads the service's `<PREFIX>_DEVICE` and `<PREFIX>_MAX_MEMORY_GB`
(environment, else the service's .env), and prints a verdict per service: ready on GPU, will run
on CPU, or broken (why, and the fix). Exit 78 when a service is broken, else 0.

    python3 scripts/doctor.py [--json] [service ...]

A model service is a folder with a service.conf whose READY path is KServe's (/v2/...); its
`GPU=` line names the frameworks that would run on the GPU (default: torch,ctranslate2).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "services" / "kit" / "src"))

from kit import gpuprobe  # noqa: E402  (standard library only)
from kit.doctor import as_json, evaluate, render  # noqa: E402


def read_conf(path: Path) -> dict[str, str]:
    """KEY=value lines of a shell file (service.conf, .env); quotes and comments stripped."""
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if m:
            value = re.sub(r"\s+#.*$", "", m.group(2)).strip()
            out[m.group(1)] = value.strip("\"'")
    return out


def model_services(only: list[str]) -> list[tuple[str, Path, dict]]:
    found = []
    for conf in sorted(ROOT.glob("services/*/service.conf")):
        values = read_conf(conf)
        name = values.get("NAME", conf.parent.name)
        if values.get("READY", "").startswith("/v2/") and (not only or name in only):
            found.append((name, conf.parent, values))
    return found


def venv_probe(service_dir: Path) -> dict:
    """The recorded capability queries of the service's venv (or {"error": ...})."""
    made = subprocess.run(["bash", str(ROOT / "scripts" / "venv.sh"), str(service_dir)],
                          capture_output=True, text=True, check=False)
    if made.returncode != 0:
        return {"error": f"scripts/venv.sh failed: {made.stderr.strip()[-300:]}"}
    python = Path(made.stdout.strip().splitlines()[-1]) / "bin" / "python"
    try:
        run = subprocess.run([str(python), "-m", "kit.gpuprobe", *gpuprobe.FRAMEWORKS],
                             capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"{python} -m kit.gpuprobe took more than 300 s"}
    if run.returncode != 0:
        return {"error": f"{python} -m kit.gpuprobe failed: {run.stderr.strip()[-300:]}"}
    return json.loads(run.stdout)


def service_env(service_dir: Path) -> dict:
    """The service's .env (what pydantic-settings would read when started there) under the environment."""
    env = {}
    dotenv = service_dir / ".env"
    if dotenv.is_file():
        env.update(read_conf(dotenv))
    env.update(os.environ)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("services", nargs="*", help="only these services (default: every model service)")
    parser.add_argument("--json", action="store_true", help="machine-readable: decisions and raw probes")
    args = parser.parse_args()
    machine_probe = gpuprobe.probe(())
    machine = machine_probe.get("machine") or {}
    reports = []
    for name, folder, conf in model_services(args.services):
        print(f"doctor: probing {name} ...", file=sys.stderr, flush=True)
        frameworks = tuple(f for f in conf.get("GPU", "torch,ctranslate2").split(",") if f)
        reports.append(evaluate(name, name.upper().replace("-", "_"), service_env(folder), venv_probe(folder),
                                frameworks))
    if args.json:
        print(as_json(machine, reports))
        return 78 if any(r.decision.error for r in reports) else 0
    text, code = render(machine, reports, machine_probe)
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
