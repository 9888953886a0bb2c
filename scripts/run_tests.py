#!/usr/bin/env python3
"""Run every test suite in its own environment and sum the results.

Suites: each component (services/*, operators/*) with requirements.txt and tests/, in its own
venv; the top-level tests/ in the venv of tests/requirements.txt; each component's ci-test.sh
(e.g. the web frontend's npm tests); tests/cluster in the venv of tests/cluster/requirements.txt,
against KUBECONFIG's cluster when it is set, else against the control plane built from
tests/cluster/controlplane (cached; the build time is printed). Counts come from
JUnit XML. The last line is `N passed, N failed` (skips are reported on the line before, never
counted as passed); exit 1 on any failure.

    python3 scripts/run_tests.py [--only NAME[,NAME]] [-- extra pytest args]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Suite:
    name: str
    cmd: list[str]
    cwd: Path
    junit: Path
    env: dict[str, str]


@dataclass
class Result:
    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    note: str = ""


def venv_for(component: Path) -> Path:
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "venv.sh"), str(component)],
        check=True, stdout=subprocess.PIPE, text=True,
    )
    return Path(out.stdout.strip().splitlines()[-1])


def discover(junit_dir: Path, extra: list[str]) -> list[tuple[str, callable]]:
    """(name, builder) pairs; builders create venvs lazily so a failing install is one failure."""
    suites = []
    components = sorted(
        [p for p in (ROOT / "services").glob("*") if p.is_dir()]
        + [p for p in (ROOT / "operators").glob("*") if p.is_dir()]
    )
    base_env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}

    def pytest_suite(name: str, component: Path, cwd: Path, targets: list[str]):
        def build() -> Suite:
            venv = venv_for(component)
            junit = junit_dir / f"junit-{name}.xml"
            cmd = [str(venv / "bin" / "python"), "-m", "pytest", *targets, "-p", "no:cacheprovider",
                   "-o", "junit_family=xunit1", f"--junitxml={junit}", "-q", "-rfEs", *extra]
            env = {**base_env, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
            return Suite(name, cmd, cwd, junit, env)
        return build

    for comp in components:
        if (comp / "requirements.txt").exists() and (comp / "tests").is_dir():
            suites.append((comp.name, pytest_suite(comp.name, comp, comp, ["tests"])))
        if (comp / "ci-test.sh").exists():
            name = f"{comp.name}-ci"
            junit = junit_dir / f"junit-{name}.xml"
            suites.append((name, lambda comp=comp, name=name, junit=junit: Suite(
                name, ["bash", "ci-test.sh"], comp, junit, {**base_env, "JUNIT_XML": str(junit)})))
    if (ROOT / "tests" / "requirements.txt").exists():
        suites.append(("platform", pytest_suite(
            "platform", ROOT / "tests", ROOT, ["tests", "--ignore=tests/cluster"])))
    cluster = ROOT / "tests" / "cluster"
    if (cluster / "requirements.txt").exists():
        suites.append(("cluster", cluster_suite(pytest_suite("cluster", cluster, ROOT, ["tests/cluster"]))))
    return suites


def cluster_suite(build_pytest):
    """The cluster suite; without KUBECONFIG it first builds the test control plane (a cached
    Go build: seconds when warm, minutes when cold) and says how long that took."""
    def build() -> Suite:
        suite = build_pytest()
        if os.environ.get("KUBECONFIG"):
            print(f"cluster: using KUBECONFIG={os.environ['KUBECONFIG']}", flush=True)
            return suite
        start = time.monotonic()
        out = subprocess.run(["bash", str(ROOT / "tests" / "cluster" / "controlplane" / "build.sh")],
                             check=True, stdout=subprocess.PIPE, text=True)
        print(f"cluster: control-plane build took {time.monotonic() - start:.1f}s", flush=True)
        suite.env["CONTROLPLANE_BIN"] = out.stdout.strip().splitlines()[-1]
        return suite
    return build


def count(junit: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from a JUnit XML file."""
    tree = ET.parse(junit)
    root = tree.getroot()
    nodes = [root] if root.tag == "testsuite" else root.findall("testsuite")
    tests = failures = errors = skipped = 0
    for node in nodes:
        tests += int(node.get("tests", 0))
        failures += int(node.get("failures", 0))
        errors += int(node.get("errors", 0))
        skipped += int(node.get("skipped", node.get("disabled", 0)) or 0)
    if root.tag == "testsuites" and not nodes:
        tests = int(root.get("tests", 0))
        failures = int(root.get("failures", 0))
        errors = int(root.get("errors", 0))
        skipped = int(root.get("skipped", 0) or 0)
    failed = failures + errors
    return tests - failed - skipped, failed, skipped


def run(name: str, build) -> Result:
    start = time.monotonic()
    result = Result(name)
    print(f"\n=== {name} ===", flush=True)
    try:
        suite = build()
    except subprocess.CalledProcessError as exc:
        result.failed, result.note = 1, f"environment setup failed ({exc})"
        return result
    suite.junit.unlink(missing_ok=True)
    proc = subprocess.run(suite.cmd, cwd=suite.cwd, env={**os.environ, **suite.env})
    result.seconds = time.monotonic() - start
    if suite.junit.exists():
        try:
            result.passed, result.failed, result.skipped = count(suite.junit)
        except ET.ParseError as exc:
            result.note = f"unreadable report: {exc}"
    if proc.returncode not in (0, 5) and result.failed == 0:
        result.failed = 1
        result.note = result.note or f"exited {proc.returncode} without failing tests"
    if proc.returncode == 0 and not suite.junit.exists():
        result.failed, result.note = 1, "no JUnit report written"
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=os.environ.get("TESTS", ""), help="comma-separated suite names")
    parser.add_argument("extra", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args()
    junit_dir = Path(os.environ.get("AIP_TEST_REPORTS", ROOT / ".data" / "test-reports"))
    junit_dir.mkdir(parents=True, exist_ok=True)
    only = {s for s in args.only.split(",") if s}
    suites = [(n, b) for n, b in discover(junit_dir, args.extra) if not only or n in only]
    if not suites:
        print("no test suites found")
        print("0 passed, 1 failed")
        return 1
    results = [run(name, build) for name, build in suites]
    print("\n=== summary ===")
    for r in results:
        note = f"  ({r.note})" if r.note else ""
        print(f"{r.name:<24} {r.passed:>5} passed {r.failed:>4} failed {r.skipped:>4} skipped {r.seconds:7.1f}s{note}")
    passed = sum(r.passed for r in results)
    failed = sum(r.failed for r in results)
    skipped = sum(r.skipped for r in results)
    if skipped:
        print(f"{skipped} skipped (not counted as passed): see the suites above")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
