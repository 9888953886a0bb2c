"""Rendering and inspection helpers shared by the chart tests."""

from __future__ import annotations

import functools
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHARTS = ROOT / "charts"
UMBRELLA = "ai-platform"
COMPONENT_CHARTS = ("platform-operator", "gateway", "web-frontend", "model-service")
ALL_CHARTS = (*COMPONENT_CHARTS, UMBRELLA)
RELEASE, NAMESPACE = "ai-platform", "ai-platform"
# APIs a full cluster has beyond the core: the Prometheus operator and KEDA
EXTRA_APIS = ("monitoring.coreos.com/v1", "keda.sh/v1alpha1")


def ci_values(chart: str) -> list[Path]:
    return sorted((CHARTS / chart / "ci").glob("*-values.yaml"))


class HelmError(RuntimeError):
    pass


@dataclass(frozen=True)
class Helm:
    binary: str
    tree: Path

    def run(self, *args: str) -> str:
        proc = subprocess.run([self.binary, *args], capture_output=True, text=True,
                              env={**os.environ, "HELM_CACHE_HOME": str(self.tree.parent / ".helm-cache"),
                                   "HELM_CONFIG_HOME": str(self.tree.parent / ".helm-config"),
                                   "HELM_DATA_HOME": str(self.tree.parent / ".helm-data")})
        if proc.returncode != 0:
            raise HelmError(proc.stderr.strip() or proc.stdout.strip())
        return proc.stdout

    def chart(self, name: str) -> str:
        return str(self.tree / name)

    def template(self, chart: str, values: list[Path] | tuple = (), sets: dict | None = None,
                 apis: tuple[str, ...] = EXTRA_APIS, release: str = RELEASE,
                 namespace: str = NAMESPACE, crds: bool = True) -> list[dict]:
        """`helm template` the chart; returns the rendered objects (CRDs and test pods included)."""
        return _template(self, chart, tuple(str(v) for v in values), tuple(sorted((sets or {}).items())),
                         apis, release, namespace, crds)


@functools.lru_cache(maxsize=64)
def _template(helm: Helm, chart, values, sets, apis, release, namespace, crds) -> list[dict]:
    args = ["template", release, helm.chart(chart), "--namespace", namespace]
    if crds:
        args.append("--include-crds")
    for v in values:
        args += ["-f", v]
    for key, value in sets:
        args += ["--set", f"{key}={value}"]
    for api in apis:
        args += ["--api-versions", api]
    return [d for d in yaml.safe_load_all(helm.run(*args)) if d]


def of_kind(objects: list[dict], *kinds: str) -> list[dict]:
    return [o for o in objects if o.get("kind") in kinds]


def name(obj: dict) -> str:
    return obj["metadata"]["name"]


def is_hook(obj: dict) -> bool:
    return "helm.sh/hook" in (obj["metadata"].get("annotations") or {})


def pod_specs(objects: list[dict]) -> list[tuple[str, dict, dict]]:
    """(description, pod labels, pod spec) of every workload and helm test pod."""
    out = []
    for obj in objects:
        kind = obj["kind"]
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            tpl = obj["spec"]["template"]
            out.append((f"{kind}/{name(obj)}", tpl["metadata"].get("labels", {}), tpl["spec"]))
        elif kind == "Pod":
            out.append((f"Pod/{name(obj)}", obj["metadata"].get("labels", {}), obj["spec"]))
    return out


def load_yaml(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


@functools.cache
def operator_python() -> str:
    """The platform operator's venv (scripts/venv.sh), whose CLI renders AIServices."""
    out = subprocess.run(["bash", str(ROOT / "scripts" / "venv.sh"), "operators/platform-operator"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return str(Path(out.stdout.strip().splitlines()[-1]) / "bin" / "python")


def operator_render(docs: list[dict], namespace: str = NAMESPACE, env: dict | None = None) -> tuple[list[dict], list[str]]:
    """Run `python -m platform_operator render -` on AIService/GPUPool documents: what the operator
    would create, and its notes on services it would refuse."""
    proc = subprocess.run([operator_python(), "-m", "platform_operator", "render", "--namespace", namespace, "-"],
                          input=yaml.safe_dump_all(docs), capture_output=True, text=True,
                          env={**os.environ, "OPERATOR_NAMESPACE": namespace, **(env or {})})
    if proc.returncode != 0:
        raise AssertionError(f"operator render failed: {proc.stderr}")
    notes = [line[2:] for line in proc.stdout.splitlines() if line.startswith("# ")]
    return [d for d in yaml.safe_load_all(proc.stdout) if d], notes


def container_env(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}
