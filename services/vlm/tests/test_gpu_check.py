"""The start-up GPU check in a real vlm-service process, replaying recorded GPU probes
(kit/gpu_probes: an RTX 5060 Ti, sm_120; the GPU is the one boundary this machine cannot reach)."""

import os
import subprocess
import sys

import httpx

from conftest import start_server
from kit.testing import free_port, gpu_probe_env


def test_cuda_with_an_sm90_only_torch_refuses_to_start_naming_the_wheel_index(tmp_path, tiny_vlm_dir):
    env = {**os.environ, "VLM_PORT": str(free_port()), "VLM_GRPC_PORT": str(free_port()), "VLM_DEVICE": "cuda",
           "VLM_MODEL": str(tiny_vlm_dir), "VLM_MAX_MEMORY_GB": "8", **gpu_probe_env("rtx5060ti_torch_sm90")}
    run = subprocess.run([sys.executable, "-m", "vlm_service"], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=180)
    assert run.returncode == 78
    refusal = [line for line in run.stderr.splitlines() if "GPU check failed" in line]
    assert len(refusal) == 1
    assert "torch 2.5.1+cu124 is built for CUDA 12.4" in refusal[0] and "sm_120" in refusal[0]
    assert "https://download.pytorch.org/whl/cu128" in refusal[0]
    assert "could not be loaded" not in run.stderr  # the refusal is not mistaken for a broken model


def test_auto_with_an_sm90_only_torch_serves_on_the_cpu_and_says_so(tmp_path, tiny_vlm_dir):
    proc = start_server(tmp_path, "vlm-fallback", VLM_MODEL=str(tiny_vlm_dir), VLM_MAX_NEW_TOKENS="8",
                        VLM_MAX_MEMORY_GB="8", **gpu_probe_env("rtx5060ti_torch_sm90"))
    try:
        details = httpx.get(f"{proc.url}/device", timeout=5).json()
        log = proc.log_text()
    finally:
        proc.stop()
    assert details["device"] == "cpu" and details["requested"] == "auto" and details["verdict"] == "will run on CPU"
    assert details["warnings"][0].startswith("a GPU is visible but not usable, falling back to the CPU: torch 2.5.1")
    assert any("VLM loaded" in line and " on cpu in " in line for line in log.splitlines())
    assert any("falling back to the CPU" in line and '"WARNING"' in line for line in log.splitlines())


def test_without_a_model_nothing_asks_for_the_gpu(server):
    details = httpx.get(f"{server.url}/device", timeout=5).json()
    assert details["device"] == "cpu" and details["notes"] == ["VLM_MODEL not set: no model runs on a GPU"]
