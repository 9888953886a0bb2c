"""`make new-service`'s chart and operator entries: the preset renders an AIService with the
service's task and route, the umbrella can enable it, and the operator turns the example into
an InferenceService with a gateway route."""

from __future__ import annotations

import shutil
import subprocess
import sys

import yaml
from chartkit import ROOT, Helm, of_kind, operator_render

NAME, RESOURCE = "hello-svc", "greetings"


def test_generated_chart_entries_render(helm_bin, tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "charts", root / "charts", ignore=shutil.ignore_patterns("charts", "Chart.lock"))
    (root / "services").mkdir()
    (root / "operators/platform-operator/examples").mkdir(parents=True)
    out = subprocess.run([sys.executable, str(ROOT / "scripts/new_service.py"), "--root", str(root),
                          "--name", NAME, "--port", "8765", "--task", "custom", "--resource", RESOURCE],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    h = Helm(helm_bin, root / "charts")
    svc = of_kind(h.template("model-service", sets={"preset": NAME}), "AIService")
    assert len(svc) == 1 and svc[0]["spec"]["task"] == "custom"
    assert svc[0]["spec"]["route"]["resource"] == RESOURCE and svc[0]["spec"]["modelName"] == NAME
    h.run("dependency", "build", str(root / "charts/ai-platform"))
    off = of_kind(h.template("ai-platform"), "AIService")
    assert NAME not in {s["metadata"]["name"] for s in off}
    on = of_kind(h.template("ai-platform", sets={f"{NAME}.enabled": "true"}), "AIService")
    assert NAME in {s["metadata"]["name"] for s in on}

    example = yaml.safe_load((root / f"operators/platform-operator/examples/{NAME}.yaml").read_text())
    objects, notes = operator_render([example])
    isvc = of_kind(objects, "InferenceService")
    assert len(isvc) == 1 and isvc[0]["metadata"]["name"] == NAME, notes
