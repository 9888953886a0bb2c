"""The real document-qa-service as a process on a free loopback port, started the way `make run`
starts it: its own venv (scripts/venv.sh) first on PATH and its service.conf RUN line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from kit.testing import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[3]
SERVICE_DIR = ROOT / "services" / "document-qa"


def service_conf() -> dict[str, str]:
    conf = SERVICE_DIR / "service.conf"
    if not conf.exists():
        pytest.fail("services/document-qa/service.conf is missing: the document-qa service is not there")
    out = subprocess.run(["bash", "-c", 'READY=/; . ./service.conf; printf "%s\\0%s" "$RUN" "$READY"'],
                         cwd=SERVICE_DIR, capture_output=True, text=True, check=True)
    run, ready = out.stdout.split("\0")[:2]
    return {"RUN": run, "READY": ready or "/"}


def service_venv() -> Path:
    out = subprocess.run(["bash", str(ROOT / "scripts" / "venv.sh"), "services/document-qa"], cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        pytest.fail(f"could not prepare the venv of services/document-qa:\n{out.stderr[-3000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


class RealDocQa(ServerProcess):
    """document-qa-service with its data in `data_dir` (kept across restarts of this object)."""

    def __init__(self, data_dir: Path, port: int | None = None, timeout: float = 300):
        conf = service_conf()
        venv = service_venv()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        env = {"PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}", "VIRTUAL_ENV": str(venv),
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
               "DOCQA_PORT": str(self.port), "DOCQA_GRPC_PORT": str(free_port()), "DOCQA_HOST": "127.0.0.1",
               "DOCQA_DATA_DIR": str(data_dir)}
        super().__init__(["bash", "-c", "exec " + conf["RUN"]], env=env, cwd=str(SERVICE_DIR),
                         ready_url=self.url + conf["READY"], timeout=timeout, name="document-qa")
