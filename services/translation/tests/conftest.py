"""A tiny random MarianMT model (built here), its CTranslate2 conversion, and real service processes."""

import os
import sys
from pathlib import Path

import httpx
import pytest

from kit.testing import ServerProcess, free_port

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A random en->de MarianMT with a SentencePiece vocabulary trained on the fly (save_pretrained)."""
    from translation_service.testmodel import build_tiny_marian

    return build_tiny_marian(tmp_path_factory.mktemp("models") / "opus-mt-en-de-tiny")


@pytest.fixture(scope="session")
def ct2_model(tiny_model, tmp_path_factory) -> Path:
    """The same tiny model converted with CTranslate2's TransformersConverter, as a user would
    (tokenizer files copied along), for TRANSLATION_BACKEND=auto to pick CTranslate2."""
    from ctranslate2.converters import TransformersConverter

    out = tmp_path_factory.mktemp("ct2") / "opus-mt-en-de-tiny-ct2"
    files = [str(tiny_model / f) for f in ("source.spm", "target.spm", "vocab.json", "tokenizer_config.json")]
    TransformersConverter(str(tiny_model), copy_files=files).convert(str(out))
    return out


def engine(path: Path, backend: str = "auto", max_input_tokens: int = 0, tmp: Path | None = None):
    from translation_service.backends import load_engine

    return load_engine(str(path), backend, "cpu", "auto", 1, 1, max_input_tokens, str(tmp or "/tmp/translation-ct2"))


@pytest.fixture(scope="session")
def hf_engine(tiny_model):
    return engine(tiny_model)


@pytest.fixture(scope="session")
def ct2_engine(ct2_model):
    return engine(ct2_model)


def start(env: dict) -> ServerProcess:
    port = free_port()
    full = {"TRANSLATION_PORT": str(port), "TRANSLATION_GRPC_PORT": str(free_port()), "HF_HUB_OFFLINE": "1",
            "TRANSLATION_CPU_THREADS": "1", "TRANSLATION_HEADER_TIMEOUT_S": "2", **env}
    proc = ServerProcess([sys.executable, "-m", "translation_service"], env=full,
                         ready_url=f"http://127.0.0.1:{port}/v2/health/ready", name="translation", timeout=120)
    proc.url = f"http://127.0.0.1:{port}"
    return proc


@pytest.fixture(scope="session")
def server(tiny_model):
    with start({"TRANSLATION_MODEL": str(tiny_model), "TRANSLATION_MAX_CHARS": "20000",
                "TRANSLATION_MAX_DOCUMENT_MB": "1", "TRANSLATION_MAX_INSTANCES": "4",
                "TRANSLATION_MAX_REQUEST_MB": "4"}) as proc:
        yield proc


@pytest.fixture(scope="session")
def bare_server(tmp_path_factory):
    """The service with no model configured (and nothing at /mnt/models)."""
    with start({"TRANSLATION_MODEL": ""}) as proc:
        yield proc


def predict(url: str, *instances: dict, timeout: float = 120) -> httpx.Response:
    return httpx.post(f"{url}/v1/models/translation:predict", json={"instances": list(instances)}, timeout=timeout)
