"""Start-up refusals are clear and final: no silent fallback, no half-started service."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kit import gpu


def start(tmp_path, **env) -> subprocess.CompletedProcess:
    full = {**os.environ, "DOCQA_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1", "DOCQA_PORT": "1", **env}
    return subprocess.run([sys.executable, "-m", "document_qa_service"], env=full, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.skipif(gpu.cuda_available(), reason="a machine with a usable GPU serves DOCQA_DEVICE=cuda")
def test_cuda_requested_without_a_gpu_exits_78(tmp_path):
    out = start(tmp_path, DOCQA_DEVICE="cuda")
    assert out.returncode == gpu.EXIT_GPU_CHECK, out.stderr[-2000:]
    assert "GPU check failed" in out.stdout + out.stderr


def test_a_model_that_is_not_a_directory_is_refused(tmp_path):
    out = start(tmp_path, DOCQA_DEVICE="cpu", DOCQA_LLM_MODEL="some-org/some-hub-model")
    assert out.returncode != 0
    assert "DOCQA_LLM_MODEL" in out.stderr and "never downloaded" in out.stderr
