"""End-to-end fixtures: the real gateway, audio-service, vlm-service and document-qa-service as
processes on free loopback ports, each started from its own venv (scripts/venv.sh) with its service.conf RUN."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from kit.testing import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "e2e-key-0123456789abcdef"
STMT_ONLY_KEY = "e2e-stmt-key-0123456789"
DOCS_KEY_A = "e2e-docs-key-a-0123456789"
DOCS_KEY_B = "e2e-docs-key-b-0123456789"


def service_conf(name: str) -> dict[str, str]:
    conf = ROOT / "services" / name / "service.conf"
    if not conf.exists():
        pytest.fail(f"services/{name}/service.conf is missing: the service is not there to test against")
    out = subprocess.run(["bash", "-c", f'set -a; . "{conf}"; echo "$RUN"; echo "$READY"'],
                         capture_output=True, text=True, check=True)
    run, ready = out.stdout.splitlines()[:2]
    return {"RUN": run, "READY": ready or "/"}


def venv(name: str) -> Path:
    out = subprocess.run(["bash", str(ROOT / "scripts" / "venv.sh"), f"services/{name}"], cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        pytest.fail(f"could not prepare the venv of services/{name}:\n{out.stderr[-3000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


class Service(ServerProcess):
    """A service started the way `make run` starts it: its venv first on PATH, its RUN line."""

    def __init__(self, name: str, env: dict[str, str], port: int, timeout: float = 240):
        conf = service_conf(name)
        v = venv(name)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.venv_path = v
        full_env = {"PATH": f"{v / 'bin'}:/usr/local/bin:/usr/bin:/bin", "VIRTUAL_ENV": str(v),
                    "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **env}
        super().__init__(["bash", "-c", "exec " + conf["RUN"]], env=full_env, cwd=str(ROOT / "services" / name),
                         ready_url=self.url + conf["READY"], timeout=timeout, name=name)


@pytest.fixture(scope="session")
def keys() -> dict[str, str]:
    """The gateway's API keys in these tests: `all` scopes, statements only, and two keys with
    the `documents` scope (two owners of documents)."""
    return {"all": API_KEY, "statements": STMT_ONLY_KEY, "docs_a": DOCS_KEY_A, "docs_b": DOCS_KEY_B}


@pytest.fixture(scope="session")
def ports() -> dict[str, int]:
    """Ports fixed up front, so the gateway can be told where each service will listen and
    starts (and stays up) whether or not a service is running."""
    return {"audio": free_port(), "vlm": free_port(), "translation": free_port(), "docqa": free_port(),
            "gateway": free_port()}


@pytest.fixture(scope="session")
def audio_service(ports):
    svc = Service("audio", {"AUDIO_PORT": str(ports["audio"]), "AUDIO_GRPC_PORT": str(free_port()),
                           "AUDIO_MAX_MEMORY_GB": "2"}, ports["audio"])
    with svc:
        yield svc


@pytest.fixture(scope="session")
def vlm_service(ports):
    svc = Service("vlm", {"VLM_PORT": str(ports["vlm"]), "VLM_GRPC_PORT": str(free_port())}, ports["vlm"])
    with svc:
        yield svc


@pytest.fixture(scope="session")
def translation_service(ports, tmp_path_factory):
    """translation-service with the tiny random MarianMT (en->de) its own code builds."""
    model = tmp_path_factory.mktemp("translation") / "opus-mt-en-de-tiny"
    subprocess.run([str(venv("translation") / "bin" / "python"), "-c", "import sys; from translation_service.testmodel "
                    "import build_tiny_marian; build_tiny_marian(sys.argv[1])", str(model)],
                   check=True, capture_output=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    svc = Service("translation", {"TRANSLATION_PORT": str(ports["translation"]), "TRANSLATION_GRPC_PORT": str(free_port()),
                                  "TRANSLATION_MODEL": str(model), "TRANSLATION_CPU_THREADS": "1"}, ports["translation"])
    with svc:
        yield svc


@pytest.fixture(scope="session")
def docqa_service(ports, tmp_path_factory):
    """document-qa-service with its store in a temp dir that outlives a restart of the process."""
    data = tmp_path_factory.mktemp("docqa-data")
    svc = Service("document-qa", {"DOCQA_PORT": str(ports["docqa"]), "DOCQA_GRPC_PORT": str(free_port()),
                                  "DOCQA_HOST": "127.0.0.1", "DOCQA_DATA_DIR": str(data)}, ports["docqa"])
    with svc:
        yield svc


@pytest.fixture(scope="session")
def gateway(ports, tmp_path_factory):
    port = ports["gateway"]
    data = tmp_path_factory.mktemp("gateway")
    svc = Service("gateway", {
        "GATEWAY_PORT": str(port),
        "GATEWAY_DATA_DIR": str(data),
        "GATEWAY_API_KEYS": f"{API_KEY};{STMT_ONLY_KEY}:statements;{DOCS_KEY_A}:documents;{DOCS_KEY_B}:documents",
        "GATEWAY_AUDIO_URL": f"http://127.0.0.1:{ports['audio']}",
        "GATEWAY_DOCQA_URL": f"http://127.0.0.1:{ports['docqa']}",
        "GATEWAY_VLM_URL": f"http://127.0.0.1:{ports['vlm']}",
        "GATEWAY_TRANSLATION_URL": f"http://127.0.0.1:{ports['translation']}",
        "GATEWAY_BREAKER_FAILURES": "2",
        "GATEWAY_BREAKER_RESET_S": "1",
        "GATEWAY_JOB_POLL_S": "0.2",
    }, port, timeout=60)
    with svc:
        yield svc


@pytest.fixture(scope="session")
def speech(tmp_path_factory) -> tuple[bytes, str]:
    """Real speech: espeak-ng speaks a sentence, sox makes it 16 kHz mono."""
    text = "the quick brown fox jumps over the lazy dog"
    for tool in ("espeak-ng", "sox"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is not installed (apt-get install espeak-ng sox)")
    d = tmp_path_factory.mktemp("speech")
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(d / "raw.wav"), text], check=True, capture_output=True)
    subprocess.run(["sox", str(d / "raw.wav"), "-r", "16000", "-c", "1", str(d / "speech.wav")], check=True,
                   capture_output=True)
    return (d / "speech.wav").read_bytes(), text


@pytest.fixture(scope="session")
def statement_pdf(vlm_service, tmp_path_factory) -> tuple[bytes, dict]:
    """A synthetic bank statement from the vlm-service's own generator, with its ground truth."""
    import json

    d = tmp_path_factory.mktemp("statement")
    cmd = [str(vlm_service.venv_path / "bin" / "python"), "-m", "vlm_service.synth", "--layout", "debit_credit",
           "--seed", "3", "--transactions", "6", "--out", str(d / "s.pdf"), "--truth", str(d / "truth.json")]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT / "services" / "vlm")
    if out.returncode != 0:
        pytest.fail(f"{shlex.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return (d / "s.pdf").read_bytes(), json.loads((d / "truth.json").read_text())
