"""`make doctor` and scripts/gpu_check.sh run for real against the services' own venvs: on this
CPU-only machine, and with a recorded RTX 5060 Ti probe replayed (AIP_GPU_PROBE_FILE) where a GPU
would be."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBES = ROOT / "services" / "kit" / "src" / "kit" / "gpu_probes"


def run(cmd: list[str], **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("AUDIO_", "VLM_")) and k != "AIP_GPU_PROBE_FILE"} | env
    return subprocess.run(cmd, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=900)


def has_gpu() -> bool:
    return any(Path(p).exists() for p in ("/dev/nvidia0", "/proc/driver/nvidia/version"))


def model_services() -> list[str]:
    """The services the doctor probes: those whose service.conf is an OIP model server."""
    names = []
    for conf in sorted(ROOT.glob("services/*/service.conf")):
        text = conf.read_text(encoding="utf-8")
        if "READY=/v2/" in text:
            names.append(re.search(r"^NAME=(\S+)", text, re.M).group(1))
    return names


def test_make_doctor_on_this_machine():
    done = run(["make", "--no-print-directory", "doctor"])
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    services = model_services()
    assert {"audio", "vlm"} <= set(services)
    for service in services:
        assert f"== {service}: " in out
    assert "  ctranslate2 4.8.5: " in out and "  torch 2.13.0" in out  # each venv's own libraries
    if not has_gpu():
        assert "  no GPU (no nvidia-smi, no NVML: no NVIDIA driver)" in out
        for service in services:
            assert f"== {service}: WILL RUN ON CPU" in out, out


def test_doctor_replaying_an_sm120_card_with_an_sm90_torch_names_the_fix():
    done = run([sys.executable, "scripts/doctor.py"], VLM_DEVICE="cuda", VLM_MAX_MEMORY_GB="8",
               AUDIO_MAX_MEMORY_GB="12", AIP_GPU_PROBE_FILE=str(PROBES / "rtx5060ti_torch_sm90.json"))
    assert done.returncode == 78, done.stdout + done.stderr
    out = done.stdout
    assert "GPU 0: NVIDIA GeForce RTX 5060 Ti, compute capability 12.0, 15.9 GB" in out
    assert "== vlm: BROKEN" in out and "why: VLM_DEVICE=cuda cannot be served: torch 2.5.1+cu124" in out
    assert "fix: install a CUDA 12.8+ build of torch" in out and "whl/cu128" in out
    assert "WARNING: the budgets add up to 20 GB, more than the 15.9 GB card" in out


def test_gpu_check_script_runs_and_says_when_there_is_no_gpu():
    done = run(["bash", "scripts/gpu_check.sh"])
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith(("PASS doctor audio:", "INFO doctor audio:", "FAIL doctor audio:")) for line in lines)
    if not has_gpu():
        assert done.returncode == 2, done.stdout + done.stderr
        assert lines[-1] == "SKIP gpu: no GPU on this machine (nvidia-smi/NVML found none): nothing to run on a GPU"
        assert "INFO doctor vlm: will run on CPU (no GPU is visible: running on the CPU)" in lines
    else:  # on a GPU machine: one line per check, and the verdict in the exit code
        assert any(line.split(" ", 1)[1].startswith("audio inference:") for line in lines), lines
        assert done.returncode in (0, 1)
