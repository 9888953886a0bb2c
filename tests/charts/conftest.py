"""Fixtures for the chart tests: the pinned helm binary, a chart tree with the umbrella's
dependencies built, and rendering helpers (real `helm template`, no cluster)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tools")]

import helmbin  # noqa: E402
from chartkit import CHARTS, Helm  # noqa: E402


@pytest.fixture(scope="session")
def helm_bin() -> str:
    path = helmbin.helm_path()
    out = subprocess.run([path, "version", "--short"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("v4."), out.stdout
    return path


@pytest.fixture(scope="session")
def helm(helm_bin, tmp_path_factory) -> Helm:
    """Helm over a copy of charts/ whose umbrella has its file:// dependencies built."""
    tree = tmp_path_factory.mktemp("charts") / "charts"
    shutil.copytree(CHARTS, tree, ignore=shutil.ignore_patterns("charts", "Chart.lock"))
    h = Helm(helm_bin, tree)
    h.run("dependency", "build", str(tree / "ai-platform"))
    return h
