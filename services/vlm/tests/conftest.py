import base64
import os
import sys
from pathlib import Path

import httpx
import pytest

from kit.testing import ServerProcess, free_port

HERE = Path(__file__).parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def start_server(tmp: Path, name: str, **env) -> ServerProcess:
    port, grpc = free_port(), free_port()
    full = {"VLM_PORT": str(port), "VLM_GRPC_PORT": str(grpc), "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "VLM_MAX_PAGES": "5", "VLM_MAX_IMAGE_PIXELS": "20000000",
            "VLM_MAX_FILE_MB": "10", "VLM_LOG_LEVEL": "INFO", **env}
    url = f"http://127.0.0.1:{port}"
    proc = ServerProcess([sys.executable, "-m", "vlm_service"], env=full, cwd=str(tmp),
                         ready_url=f"{url}/v2/health/ready", timeout=180, name=name)
    proc.start()
    proc.url = url
    proc.grpc_address = f"127.0.0.1:{grpc}"
    return proc


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    proc = start_server(tmp_path_factory.mktemp("vlm-server"), "vlm")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory):
    from tiny_vlm import build_tiny_vlm

    return build_tiny_vlm(tmp_path_factory.mktemp("tiny-vlm") / "model")


@pytest.fixture(scope="session")
def vlm_server(tmp_path_factory, tiny_vlm_dir):
    proc = start_server(tmp_path_factory.mktemp("vlm-server-tiny"), "vlm-tiny", VLM_MODEL=str(tiny_vlm_dir),
                        VLM_MAX_NEW_TOKENS="24")
    yield proc
    proc.stop()


def predict(url: str, data: bytes, timeout: float = 120, **options) -> httpx.Response:
    """v1 predict with one base64 document and its options."""
    body = {"instances": [{"document": {"b64": base64.b64encode(data).decode()}, **options}]}
    return httpx.post(f"{url}/v1/models/vlm:predict", json=body, timeout=timeout)
