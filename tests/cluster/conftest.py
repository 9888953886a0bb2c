"""Live-cluster tests: they run only when KUBECONFIG points at a cluster, and say so otherwise.

Run from the platform operator's venv (it has kopf and the kubernetes client):
    KUBECONFIG=~/.kube/config $(bash scripts/venv.sh operators/platform-operator)/bin/python -m pytest tests/cluster
"""

import os

import pytest

SKIP_REASON = "tests/cluster needs a live cluster: set KUBECONFIG to run them"


def pytest_collection_modifyitems(config, items):
    if os.environ.get("KUBECONFIG"):
        return
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def pytest_report_header(config):
    if not os.environ.get("KUBECONFIG"):
        return f"cluster tests: skipped ({SKIP_REASON})"
    return f"cluster tests: KUBECONFIG={os.environ['KUBECONFIG']}"
