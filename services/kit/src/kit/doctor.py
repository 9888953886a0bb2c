"""The GPU doctor's report: the machine's GPUs, then one verdict per service.

`scripts/doctor.py` (`make doctor`) probes each service's venv and renders with `render`;
inside an image, `python -m kit.doctor --prefix AUDIO --frameworks ctranslate2` probes this
Python. Exit code 78 when a service is broken. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass

from . import gpuprobe
from .gpuverdict import BROKEN, Decision, budget_overview, decide, select_gpu

EXIT_BROKEN = 78


@dataclass
class ServiceReport:
    """One service's configuration, its venv's recorded probe and the decision over them."""

    name: str
    prefix: str
    requested: str
    budget_gb: float | None
    probe: dict
    decision: Decision


def evaluate(name: str, prefix: str, env: dict, probe: dict, frameworks=("torch", "ctranslate2"),
             default_device: str = "auto") -> ServiceReport:
    """Judge one service from its environment (`<PREFIX>_DEVICE`, `<PREFIX>_MAX_MEMORY_GB`)."""
    requested = env.get(f"{prefix}_DEVICE") or default_device
    raw = (env.get(f"{prefix}_MAX_MEMORY_GB") or "").strip()
    budget = float(raw) if raw else None
    if probe.get("error"):
        decision = Decision("cpu", requested, budget, error=f"its environment could not be probed: {probe['error']}",
                            fixes=[f"rebuild it: AIP_CACHE=... bash scripts/venv.sh services/{name}"])
    else:
        decision = decide(prefix, requested, budget, probe, frameworks)
    return ServiceReport(name, prefix, requested, budget, probe, decision)


def _machine_lines(machine: dict, probe: dict) -> list[str]:
    lines = ["== machine"]
    gpus = machine.get("gpus") or []
    if machine.get("error"):
        lines.append(f"  {machine.get('source')}: error: {machine['error']}")
    if not gpus:
        found = "no GPU" + ("" if machine.get("source") else " (no nvidia-smi, no NVML: no NVIDIA driver)")
        lines.append(f"  {found}")
    for gpu in gpus:
        lines.append(f"  GPU {gpu.get('index')}: {gpu.get('name')}, compute capability {gpu.get('capability')}, "
                     f"{gpu.get('memory_total_mb', 0) / 1024:.1f} GB ({gpu.get('memory_free_mb', 0) / 1024:.1f} GB free), "
                     f"driver {gpu.get('driver')} (CUDA {machine.get('driver_cuda') or '?'})")
    if gpus and select_gpu({**probe, "machine": machine}) is None:
        lines.append("  CUDA_VISIBLE_DEVICES hides every GPU")
    return lines


def _framework_lines(report: ServiceReport) -> list[str]:
    out = []
    fws = report.probe.get("frameworks") or {}
    for name in ("torch", "ctranslate2", "onnxruntime"):
        fw = fws.get(name) or {}
        if not fw.get("installed"):
            continue
        if name == "torch":
            kernel = fw.get("kernel") or "not run (no GPU)"
            detail = (f"CUDA {fw.get('cuda')}, archs {' '.join(fw.get('arch_list') or []) or '-'}"
                      if fw.get("cuda") else "CPU-only build")
            detail += f", {fw.get('device_count', 0)} device(s), tiny kernel: {kernel}"
        elif name == "ctranslate2":
            detail = f"{fw.get('cuda_device_count', 0)} CUDA device(s)"
            if fw.get("cuda_compute_types"):
                detail += f", compute types {' '.join(fw['cuda_compute_types'])}"
            detail += ", kernel: checked by a real transcription in scripts/gpu_check.sh"
        else:
            detail = f"providers {' '.join(fw.get('providers') or [])}"
        if fw.get("error"):
            detail += f", error: {fw['error']}"
        out.append(f"  {name} {fw.get('version')}: {detail}")
    return out


def render(machine: dict, reports: list[ServiceReport], probe: dict | None = None) -> tuple[str, int]:
    """The doctor's text and its exit code (EXIT_BROKEN when a service is broken)."""
    probe = probe or {}
    lines = _machine_lines(machine, probe)
    gpu = select_gpu({**probe, "machine": machine})
    line, warning = budget_overview({r.name: r.budget_gb for r in reports}, gpu)
    lines.append(f"  {line}")
    if warning:
        lines.append(f"  WARNING: {warning}")
    for r in reports:
        d = r.decision
        lines.append(f"== {r.name}: {d.verdict.upper()}")
        lines.append(f"  {r.prefix}_DEVICE={r.requested}, {r.prefix}_MAX_MEMORY_GB="
                     f"{f'{r.budget_gb:g}' if r.budget_gb else 'unset'}, python {r.probe.get('python', '?')} "
                     f"({r.probe.get('executable', '?')})")
        lines.extend(_framework_lines(r))
        if d.error:
            lines.append(f"  why: {d.error}")
        for w in d.warnings:
            lines.append(f"  warning: {w}")
        for n in d.notes:
            lines.append(f"  note: {n}")
        for f in d.fixes:
            lines.append(f"  fix: {f}")
    broken = any(r.decision.verdict == BROKEN for r in reports)
    return "\n".join(lines), EXIT_BROKEN if broken else 0


def as_json(machine: dict, reports: list[ServiceReport]) -> str:
    return json.dumps({"machine": machine, "services": {
        r.name: {**r.decision.to_dict(), "probe": r.probe} for r in reports}}, indent=1)


def main(argv: list[str] | None = None) -> int:
    """This Python's report for one service (inside an image)."""
    parser = argparse.ArgumentParser(prog="python -m kit.doctor")
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--name")
    parser.add_argument("--frameworks", default="torch,ctranslate2")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    frameworks = tuple(f for f in args.frameworks.split(",") if f)
    probe = gpuprobe.probe(gpuprobe.FRAMEWORKS)
    report = evaluate(args.name or args.prefix.lower(), args.prefix.upper(), dict(os.environ), probe, frameworks)
    machine = probe.get("machine") or {}
    if args.json:
        print(as_json(machine, [report]))
        return EXIT_BROKEN if report.decision.error else 0
    text, code = render(machine, [report], probe)
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
