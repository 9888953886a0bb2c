"""GPU detection, the start-up check, and the per-service GPU memory cap (`<SERVICE>_MAX_MEMORY_GB`).

Time-slicing shares a GPU's compute but not its memory, so each service caps what its
framework may allocate. PyTorch honours the cap directly; CTranslate2 and ONNX Runtime have no
process-wide cap, so those services size their models to the budget and log it.

`startup_check` runs before a model loads: a service that asks for `cuda` on a build without
the card's architecture, or with a budget over the free memory, refuses to start with the
reason (`GPUCheckFailed`, exit code 78); `auto` falls back to the CPU with a warning, logged and
served on `GET /device`. `python -m kit.gpu check --prefix AUDIO` runs the same check alone (the
cluster's startup probe). Standard library only at import.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import gpuprobe
from .gpuverdict import Decision, decide
from .logging import get_logger

logger = get_logger(__name__)

EXIT_GPU_CHECK = 78  # EX_CONFIG: the configuration cannot be served on this machine
_current: Decision | None = None


class GPUCheckFailed(RuntimeError):
    """The requested device cannot be served; the message says why and how to fix it."""

    def __init__(self, decision: Decision):
        self.decision = decision
        fix = f" Fix: {'; '.join(decision.fixes)}" if decision.fixes else ""
        super().__init__(f"GPU check failed: {decision.error}.{fix}")


def startup_check(prefix: str, requested: str | None, budget_gb: float | None,
                  frameworks=("torch", "ctranslate2"), probe: dict | None = None) -> Decision:
    """Decide the device for a service (see the module docstring); log and record the result.

    Raises GPUCheckFailed when `requested` is cuda and cannot be served."""
    global _current
    wanted = (requested or "auto").lower()
    if wanted == "cpu":
        probe = {"frameworks": {}}
    elif probe is None:
        probe = gpuprobe.probe(frameworks)
    decision = decide(prefix, requested, budget_gb, probe, frameworks)
    _current = decision
    if decision.error:
        raise GPUCheckFailed(decision)
    for warning in decision.warnings:
        logger.warning("%s", warning)
    gpu = decision.gpu or {}
    logger.info("device %s (requested %s, budget %s GB%s)%s", decision.device, decision.requested,
                f"{budget_gb:g}" if budget_gb else "none",
                f", {gpu.get('name')} {gpu.get('capability')}" if decision.device == "cuda" else "",
                f": {'; '.join(decision.notes)}" if decision.notes else "")
    return decision


def record_without_gpu(prefix: str, requested: str | None, budget_gb: float | None, note: str) -> Decision:
    """Record (and log) that this configuration runs nothing on a GPU, e.g. no model that would."""
    global _current
    _current = Decision("cpu", (requested or "auto").lower(), budget_gb, notes=[note])
    logger.info("device cpu: %s", note)
    return _current


def current() -> dict | None:
    """The last start-up check's decision as served on `GET /device`, or None before one ran."""
    return None if _current is None else _current.to_dict()


TERMINATION_LOG = "/dev/termination-log"  # Kubernetes' default terminationMessagePath


def write_termination_log(text: str, path: str | None = None) -> None:
    """Leave `text` where Kubernetes reads a container's termination message (when it exists)."""
    path = path or os.environ.get("AIP_TERMINATION_LOG", TERMINATION_LOG)
    if not os.path.exists(path):
        return
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text[:4000])
    except OSError as exc:
        logger.debug("cannot write %s: %s", path, exc)


def exit_on_failed_check(exc: GPUCheckFailed) -> None:
    """Log the refusal as one clear line, leave it as the termination message, exit EXIT_GPU_CHECK."""
    logger.critical("%s", exc)
    write_termination_log(str(exc))
    sys.stderr.flush()
    raise SystemExit(EXIT_GPU_CHECK)


def _visible_devices_hidden() -> bool:
    value = os.environ.get("CUDA_VISIBLE_DEVICES")
    return value is not None and value.strip() in ("", "-1", "none", "NoDevFiles")


def cuda_available() -> bool:
    """True when a CUDA device is visible to torch or CTranslate2."""
    if _visible_devices_hidden():
        return False
    try:
        import torch

        if torch.cuda.is_available():
            return True
    except ImportError:
        pass
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except ImportError:
        return False


def memory_fraction(max_memory_gb: float, total_bytes: int) -> float:
    """The share of a device of `total_bytes` that `max_memory_gb` allows, in (0, 1]."""
    if max_memory_gb <= 0:
        raise ValueError("max_memory_gb must be positive")
    return min(1.0, max_memory_gb * 1024**3 / total_bytes)


def apply_memory_cap(max_memory_gb: float | None, device: int = 0) -> float | None:
    """Cap PyTorch's allocator on `device` to the budget; returns the fraction, or None."""
    if not max_memory_gb or _visible_devices_hidden():
        return None
    try:
        import torch
    except ImportError:
        logger.info("no torch: GPU memory budget %.1f GB is advisory", max_memory_gb)
        return None
    if not torch.cuda.is_available():
        return None
    total = torch.cuda.get_device_properties(device).total_memory
    fraction = memory_fraction(max_memory_gb, total)
    torch.cuda.set_per_process_memory_fraction(fraction, device)
    logger.info("GPU memory capped at %.1f GB (%.0f%% of device %d)", max_memory_gb, fraction * 100, device)
    return fraction


def _env_budget(prefix: str) -> float | None:
    value = os.environ.get(f"{prefix}_MAX_MEMORY_GB", "").strip()
    return float(value) if value else None


def _check(args) -> int:
    prefix = args.prefix.upper()
    requested = os.environ.get(f"{prefix}_DEVICE") or args.device or "auto"
    frameworks = tuple(f for f in args.frameworks.split(",") if f)
    decision = decide(prefix, requested, _env_budget(prefix), gpuprobe.probe(frameworks), frameworks)
    detail = decision.error or "; ".join(decision.warnings + decision.notes)
    fix = f" Fix: {'; '.join(decision.fixes)}" if decision.error and decision.fixes else ""
    print(f"{prefix.lower()}: {decision.verdict}{': ' + detail if detail else ''}{fix}")
    if decision.error:
        write_termination_log(str(GPUCheckFailed(decision)), args.termination_log)
        return EXIT_GPU_CHECK
    return 0


def _health(args) -> int:
    """Readiness of the local service plus its start-up check's device (no new GPU queries:
    a container health check runs often, and a CUDA context per run would take GPU memory)."""
    import json
    import urllib.error
    import urllib.request

    base = f"http://127.0.0.1:{args.port}"
    try:
        with urllib.request.urlopen(f"{base}/v2/health/ready", timeout=args.timeout) as resp:
            ready = resp.status == 200
        with urllib.request.urlopen(f"{base}/device", timeout=args.timeout) as resp:
            device = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"not ready: {exc}")
        return 1
    detail = "; ".join(device.get("warnings") or device.get("notes") or [])
    print(f"{'ready' if ready else 'not ready'}, {device.get('verdict') or device.get('device')}"
          f"{': ' + detail if detail else ''}")
    return 0 if ready else 1


def main(argv: list[str] | None = None) -> int:
    """`python -m kit.gpu check --prefix AUDIO [--frameworks ctranslate2]`: the start-up check of
    a service from its environment (`<PREFIX>_DEVICE`, `<PREFIX>_MAX_MEMORY_GB`) in one line;
    exit 0 when it may start (on the GPU or the CPU), EXIT_GPU_CHECK when it must not.
    `python -m kit.gpu health --port 8001`: the container health check (ready + device)."""
    parser = argparse.ArgumentParser(prog="python -m kit.gpu")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="the start-up GPU check of a service, alone")
    check.add_argument("--prefix", required=True, help="the service's environment prefix, e.g. AUDIO")
    check.add_argument("--frameworks", default="torch,ctranslate2",
                       help="comma-separated: the frameworks that would run on the GPU")
    check.add_argument("--device", help="default device when <PREFIX>_DEVICE is unset (auto)")
    check.add_argument("--termination-log", help="on failure, also write the reason here when the file exists "
                       f"(the cluster's startup probe: {TERMINATION_LOG})")
    health = sub.add_parser("health", help="readiness and device of the service on this machine")
    health.add_argument("--port", type=int, required=True)
    health.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    return _check(args) if args.command == "check" else _health(args)


if __name__ == "__main__":
    sys.exit(main())
