"""The start-up GPU check in a real audio-service process, replaying recorded GPU probes
(kit/gpu_probes; the GPU is the one boundary this machine cannot reach)."""

import os
import subprocess
import sys

import httpx

from kit.testing import ServerProcess, free_port, gpu_probe_env

BASE = {"HF_HUB_OFFLINE": "1", "AUDIO_MODEL": "", "AUDIO_MAX_CONCURRENCY": "1"}


def _env(port: int, **extra) -> dict:
    return {**BASE, "AUDIO_PORT": str(port), "AUDIO_GRPC_PORT": str(free_port()), **extra}


def test_cuda_on_a_ctranslate2_without_cuda_refuses_to_start_with_the_reason():
    env = _env(free_port(), AUDIO_DEVICE="cuda", AUDIO_MAX_MEMORY_GB="4",
               **gpu_probe_env("rtx5060ti_ct2_without_cuda"))
    run = subprocess.run([sys.executable, "-m", "audio_service"], env={**os.environ, **env},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 78
    refusal = [line for line in run.stderr.splitlines() if "GPU check failed" in line]
    assert len(refusal) == 1 and '"level": "CRITICAL"' in refusal[0]
    assert "AUDIO_DEVICE=cuda cannot be served: CTranslate2 4.8.5 cannot use the NVIDIA GeForce RTX 5060 Ti" in refusal[0]
    assert "Dockerfile.gpu" in refusal[0]


def test_budget_over_free_memory_refuses_to_start():
    env = _env(free_port(), AUDIO_DEVICE="cuda", AUDIO_MAX_MEMORY_GB="8", **gpu_probe_env("rtx5060ti_ct2_busy"))
    run = subprocess.run([sys.executable, "-m", "audio_service"], env={**os.environ, **env},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 78
    assert "AUDIO_MAX_MEMORY_GB=8 is more than the 5.0 GB free" in run.stderr


def test_auto_falls_back_to_cpu_with_a_warning_in_the_log_and_on_device():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(port, AUDIO_DEVICE="auto", AUDIO_MAX_MEMORY_GB="4", **gpu_probe_env("rtx5060ti_ct2_without_cuda"))
    with ServerProcess([sys.executable, "-m", "audio_service"], env=env, ready_url=f"{url}/v2/health/ready",
                       name="audio-fallback", timeout=120) as proc:
        details = httpx.get(f"{url}/device", timeout=5).json()
        health = subprocess.run([sys.executable, "-m", "kit.gpu", "health", "--port", str(port)],
                                capture_output=True, text=True, timeout=60)  # the image's HEALTHCHECK
        log = proc.log_text()
    gone = subprocess.run([sys.executable, "-m", "kit.gpu", "health", "--port", str(port)],
                          capture_output=True, text=True, timeout=60)
    assert gone.returncode == 1 and gone.stdout.startswith("not ready")
    assert health.returncode == 0
    assert health.stdout.startswith("ready, will run on CPU: a GPU is visible but not usable, falling back")
    assert details["device"] == "cpu" and details["requested"] == "auto" and details["budget_gb"] == 4
    assert details["verdict"] == "will run on CPU" and details["gpu"]["name"] == "NVIDIA GeForce RTX 5060 Ti"
    assert len(details["warnings"]) == 1
    assert details["warnings"][0].startswith("a GPU is visible but not usable, falling back to the CPU: CTranslate2")
    warned = [line for line in log.splitlines() if "falling back to the CPU" in line]
    assert warned and '"level": "WARNING"' in warned[0]


def test_device_details_of_this_machine(server):
    details = httpx.get(f"{server.url}/device", timeout=5).json()  # real queries on this machine
    assert details["requested"] == "auto" and details["verdict"] in ("will run on CPU", "ready on GPU")
    if details["gpu"] is None:  # a machine without a GPU (CI, the development machines)
        assert details["device"] == "cpu" and details["warnings"] == []
        assert details["notes"] == ["no GPU is visible: running on the CPU"]
