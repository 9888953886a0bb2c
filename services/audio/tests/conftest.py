"""A real audio-service process on free loopback ports, and real speech made with espeak-ng."""

import base64
import os
import sys
from pathlib import Path

import httpx
import pytest

from audio_service import testaudio
from kit.testing import ServerProcess, free_port

os.environ.setdefault("HF_HUB_OFFLINE", "1")
MAX_DURATION_S = 90


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[str, Path]:
    """s0..sN.wav (one sentence each), long.wav (60 s) and too_long.wav (over the limit)."""
    tmp = tmp_path_factory.mktemp("audio")
    out = {f"s{i}": testaudio.speak(text, tmp / f"s{i}.wav") for i, text in enumerate(testaudio.SENTENCES)}
    out["long"] = testaudio.long_clip(tmp / "long.wav", 60)
    out["too_long"] = testaudio.long_clip(tmp / "too_long.wav", MAX_DURATION_S + 10)
    return out


@pytest.fixture(scope="session")
def server():
    port, grpc_port = free_port(), free_port()
    env = {"AUDIO_PORT": str(port), "AUDIO_GRPC_PORT": str(grpc_port), "AUDIO_MAX_DURATION_S": str(MAX_DURATION_S),
           "AUDIO_MAX_CONCURRENCY": "2", "HF_HUB_OFFLINE": "1", "AUDIO_MODEL": "",
           "AUDIO_HEADER_TIMEOUT_S": "2", "AUDIO_MAX_REQUEST_MB": "150", "AUDIO_STREAM_KEEPALIVE_S": "0.5"}
    url = f"http://127.0.0.1:{port}"
    with ServerProcess([sys.executable, "-m", "audio_service"], env=env, ready_url=f"{url}/v2/health/ready",
                       name="audio", timeout=120) as proc:
        proc.url = url
        proc.grpc_port = grpc_port
        yield proc


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def predict(url: str, data: bytes | str | None, timeout: float = 120, **options) -> httpx.Response:
    """v1 predict with one instance: `data` bytes are base64-encoded, a str is sent as the b64 value."""
    audio = {"b64": data if isinstance(data, str) else b64(data)}
    return httpx.post(f"{url}/v1/models/audio:predict", json={"instances": [{"audio": audio, **options}]},
                      timeout=timeout)
