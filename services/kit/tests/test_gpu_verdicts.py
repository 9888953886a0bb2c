"""Verdicts over recorded capability queries (kit/gpu_probes/*.json): no GPU needed."""

import json
import os
import subprocess
import sys

import pytest

from kit import gpu, gpuprobe
from kit.doctor import EXIT_BROKEN, evaluate, render
from kit.testing import RECORDED_GPU_PROBES
from kit.gpuverdict import BROKEN, CPU, READY_GPU, arch_support, budget_overview, decide, select_gpu

PROBES = RECORDED_GPU_PROBES


def recorded(name: str) -> dict:
    return json.loads((PROBES / f"{name}.json").read_text())


def test_sm120_card_with_sm90_only_torch_is_refused_for_cuda_with_the_wheel_index():
    d = decide("VLM", "cuda", 8, recorded("rtx5060ti_torch_sm90"), ("torch",))
    assert d.verdict == BROKEN and d.device == "cpu"
    assert "CUDA 12.4" in d.error and "12.8" in d.error and "RTX 5060 Ti (sm_120" in d.error
    assert any("download.pytorch.org/whl/cu128" in f for f in d.fixes)


def test_sm120_card_with_sm90_only_torch_on_auto_falls_back_to_cpu_with_a_warning():
    d = decide("VLM", "auto", 8, recorded("rtx5060ti_torch_sm90"), ("torch",))
    assert d.verdict == CPU and d.device == "cpu" and d.error is None
    assert len(d.warnings) == 1 and d.warnings[0].startswith("a GPU is visible but not usable, falling back")


def test_an_sm90_only_build_is_caught_by_its_architectures_even_with_a_new_cuda():
    probe = recorded("rtx5060ti_torch_sm90")
    probe["frameworks"]["torch"].update(cuda="12.8", version="2.13.0+custom")
    d = decide("VLM", "cuda", 8, probe, ("torch",))
    assert "has kernels for sm_50" in d.error and "not sm_120" in d.error and "no kernel image" in d.error


def test_cu128_torch_on_the_card_is_ready_and_a_missing_budget_is_warned():
    d = decide("VLM", "auto", None, recorded("rtx5060ti_torch_cu128"), ("torch",))
    assert d.verdict == READY_GPU and d.device == "cuda"
    assert d.warnings == ["no VLM_MAX_MEMORY_GB budget: this service may take the whole GPU"]
    assert decide("VLM", "cuda", 8, recorded("rtx5060ti_torch_cu128"), ("torch",)).warnings == []


def test_cpu_only_machine_auto_runs_on_cpu_silently_and_cuda_is_refused():
    for name, fws in (("cpu_only_vlm", ("torch",)), ("cpu_only_audio", ("ctranslate2",))):
        auto = decide("X", "auto", 4, recorded(name), fws)
        assert auto.verdict == CPU and auto.warnings == [] and auto.notes == ["no GPU is visible: running on the CPU"]
        cuda = decide("X", "cuda", 4, recorded(name), fws)
        assert cuda.verdict == BROKEN and cuda.error == "X_DEVICE=cuda but no GPU is visible"


def test_budget_over_free_memory_refuses_cuda_and_auto_falls_back():
    probe = recorded("rtx5060ti_ct2_busy")
    cuda = decide("AUDIO", "cuda", 6, probe, ("ctranslate2",))
    assert cuda.verdict == BROKEN and "AUDIO_MAX_MEMORY_GB=6 is more than the 5.0 GB free" in cuda.error
    assert "other processes hold 10.9 GB" in cuda.error
    auto = decide("AUDIO", "auto", 6, probe, ("ctranslate2",))
    assert auto.device == "cpu" and "more than the 5.0 GB free" in auto.warnings[0]
    assert decide("AUDIO", "cuda", 4, probe, ("ctranslate2",)).verdict == READY_GPU


def test_budget_over_the_card_is_refused():
    d = decide("VLM", "cuda", 24, recorded("rtx5060ti_torch_cu128"), ("torch",))
    assert "VLM_MAX_MEMORY_GB=24 is more than the NVIDIA GeForce RTX 5060 Ti (sm_120, 16 GB) has" in d.error


def test_ctranslate2_without_cuda():
    probe = recorded("rtx5060ti_ct2_without_cuda")
    d = decide("AUDIO", "cuda", 4, probe, ("ctranslate2",))
    assert d.verdict == BROKEN and "CTranslate2 4.8.5 cannot use" in d.error and "cuDNN 9" in d.error
    assert any("Dockerfile.gpu" in f for f in d.fixes)
    auto = decide("AUDIO", "auto", 4, probe, ("ctranslate2",))
    assert auto.device == "cpu" and "CTranslate2 4.8.5 cannot use" in auto.warnings[0]
    assert decide("AUDIO", "auto", 4, recorded("rtx5060ti_ct2_cuda"), ("ctranslate2",)).device == "cuda"


def test_cpu_request_never_looks_at_the_gpu():
    d = decide("VLM", "cpu", 4, recorded("rtx5060ti_torch_sm90"), ("torch",))
    assert d.verdict == CPU and d.gpu is None and d.notes == ["VLM_DEVICE=cpu"]


def test_driver_older_than_the_runtime():
    probe = recorded("rtx5060ti_torch_cu128")
    probe["machine"]["driver_cuda"] = "11.8"
    d = decide("VLM", "cuda", 4, probe, ("torch",))
    assert "supports only CUDA 11.8" in d.error and any("570" in f for f in d.fixes)


@pytest.mark.parametrize("archs,cap,expected", [
    (["sm_80", "sm_86", "sm_90"], (12, 0), None),
    (["sm_90", "sm_120"], (12, 0), "native"),
    (["sm_120"], (12, 1), "native"),
    (["sm_80", "compute_90"], (12, 0), "ptx"),
    (["sm_86"], (8, 9), "native"),
    (["sm_90"], (8, 9), None),
])
def test_arch_support(archs, cap, expected):
    assert arch_support(archs, cap) == expected


def test_select_gpu_follows_cuda_visible_devices():
    probe = recorded("rtx5060ti_torch_cu128")
    second = {**probe["machine"]["gpus"][0], "index": 1, "uuid": "GPU-other", "name": "second"}
    probe["machine"]["gpus"].append(second)
    assert select_gpu({**probe, "cuda_visible_devices": "1"})["name"] == "second"
    assert select_gpu({**probe, "cuda_visible_devices": "GPU-other"})["name"] == "second"
    assert select_gpu({**probe, "cuda_visible_devices": ""}) is None
    hidden = decide("VLM", "cuda", 4, {**probe, "cuda_visible_devices": "-1"}, ("torch",))
    assert hidden.error == "VLM_DEVICE=cuda but no GPU is visible (CUDA_VISIBLE_DEVICES hides it)"


def test_budget_overview_flags_budgets_that_overflow_the_card():
    gpu_ = recorded("rtx5060ti_torch_cu128")["machine"]["gpus"][0]
    line, warning = budget_overview({"audio": 4, "vlm": 8, "docqa": None}, gpu_)
    assert line == "budgets: audio 4 + vlm 8 = 12 GB of 15.9 GB" and warning is None
    _, warning = budget_overview({"audio": 6, "vlm": 12}, gpu_)
    assert "add up to 18 GB, more than the 15.9 GB card" in warning


def test_parse_nvidia_smi_csv():
    text = "0, GPU-5b1c, NVIDIA GeForce RTX 5060 Ti, 12.0, 16311, 15838, 570.133.07\n"
    assert gpuprobe.parse_smi_csv(text) == [{
        "index": 0, "uuid": "GPU-5b1c", "name": "NVIDIA GeForce RTX 5060 Ti", "capability": "12.0",
        "memory_total_mb": 16311.0, "memory_free_mb": 15838.0, "driver": "570.133.07"}]


def test_doctor_report_names_the_verdicts_and_fixes():
    probe = recorded("rtx5060ti_torch_sm90")
    env = {"VLM_DEVICE": "cuda", "VLM_MAX_MEMORY_GB": "8", "AUDIO_MAX_MEMORY_GB": "4"}
    reports = [evaluate("vlm", "VLM", env, probe, ("torch",)),
               evaluate("audio", "AUDIO", env, recorded("rtx5060ti_ct2_cuda"), ("ctranslate2",))]
    text, code = render(probe["machine"], reports, probe)
    assert code == EXIT_BROKEN
    assert "GPU 0: NVIDIA GeForce RTX 5060 Ti, compute capability 12.0, 15.9 GB" in text
    assert "budgets: vlm 8 + audio 4 = 12 GB of 15.9 GB" in text
    assert "== vlm: BROKEN" in text and "== audio: READY ON GPU" in text
    assert "tiny kernel: RuntimeError: CUDA error: no kernel image is available" in text
    assert "fix: install a CUDA 12.8+ build of torch" in text


def test_startup_check_records_the_decision_and_refuses_with_the_reason():
    probe = recorded("rtx5060ti_torch_sm90")
    d = gpu.startup_check("VLM", "auto", 8, ("torch",), probe=probe)
    assert d.device == "cpu" and gpu.current()["warnings"] == d.warnings and gpu.current()["verdict"] == CPU
    with pytest.raises(gpu.GPUCheckFailed, match=r"^GPU check failed: VLM_DEVICE=cuda cannot be served: .*Fix: "):
        gpu.startup_check("VLM", "cuda", 8, ("torch",), probe=probe)
    assert gpu.current()["verdict"] == BROKEN


def _check_cli(probe_file: str | None, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AUDIO_")} | env
    if probe_file:
        environ[gpuprobe.PROBE_FILE_ENV] = str(PROBES / f"{probe_file}.json")
    return subprocess.run([sys.executable, "-m", "kit.gpu", "check", "--prefix", "AUDIO", "--frameworks", "ctranslate2"],
                          capture_output=True, text=True, env=environ, timeout=120)


def test_check_command_on_this_machine_and_on_recorded_cards():
    here = _check_cli(None)  # real queries: this machine has no GPU
    assert here.returncode == 0 and here.stdout.strip() == "audio: will run on CPU: no GPU is visible: running on the CPU"
    bad = _check_cli("rtx5060ti_ct2_without_cuda", AUDIO_DEVICE="cuda")
    assert bad.returncode == gpu.EXIT_GPU_CHECK and bad.stdout.startswith("audio: broken: AUDIO_DEVICE=cuda cannot")
    busy = _check_cli("rtx5060ti_ct2_busy", AUDIO_DEVICE="cuda", AUDIO_MAX_MEMORY_GB="8")
    assert busy.returncode == gpu.EXIT_GPU_CHECK and "AUDIO_MAX_MEMORY_GB=8 is more than the 5.0 GB free" in busy.stdout
    good = _check_cli("rtx5060ti_ct2_cuda", AUDIO_DEVICE="cuda", AUDIO_MAX_MEMORY_GB="4")
    assert good.returncode == 0 and good.stdout.strip() == "audio: ready on GPU"


def test_a_failed_check_leaves_its_reason_as_the_termination_message(tmp_path):
    log = tmp_path / "termination-log"
    log.write_text("")
    environ = {**os.environ, gpuprobe.PROBE_FILE_ENV: str(PROBES / "rtx5060ti_torch_sm90.json"), "VLM_DEVICE": "cuda"}
    run = subprocess.run([sys.executable, "-m", "kit.gpu", "check", "--prefix", "VLM", "--frameworks", "torch",
                          "--termination-log", str(log)], capture_output=True, text=True, env=environ, timeout=120)
    assert run.returncode == gpu.EXIT_GPU_CHECK
    assert log.read_text().startswith("GPU check failed: VLM_DEVICE=cuda cannot be served: torch 2.5.1+cu124")
    absent = tmp_path / "absent"
    gpu.write_termination_log("x", str(absent))  # outside Kubernetes there is no such file: nothing made
    assert not absent.exists()
