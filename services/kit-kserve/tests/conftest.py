import sys
from pathlib import Path

import pytest

from kit.testing import ServerProcess, free_port

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def echo_server():
    port, grpc = free_port(), free_port()
    env = {"ECHO_PORT": str(port), "ECHO_GRPC_PORT": str(grpc), "ECHO_MAX_CONCURRENCY": "1",
           "ECHO_MAX_QUEUE": "2", "ECHO_MAX_REQUEST_MB": "1", "ECHO_HEADER_TIMEOUT_S": "1.5",
           "ECHO_BODY_TIMEOUT_S": "2", "ECHO_MAX_MEMORY_GB": "1.5"}
    url = f"http://127.0.0.1:{port}"
    with ServerProcess([sys.executable, str(HERE / "echo_server.py")], env=env,
                       ready_url=f"{url}/v2/health/ready", name="echo") as proc:
        proc.url = url
        proc.grpc_port = grpc
        yield proc
