"""`python -m platform_operator render`: the dry run users and tests run without a cluster."""

import json
import subprocess
import sys

import yaml
from conftest import EXAMPLES, ROOT
from k8s_schemas import validate, validate_inference_service

from platform_operator.__main__ import main
from platform_operator.dryrun import render_documents


def _docs(*names):
    return [yaml.safe_load((EXAMPLES / n).read_text()) for n in names]


def test_cli_renders_every_example_into_valid_objects():
    files = sorted(map(str, EXAMPLES.glob("*.yaml")))
    out = subprocess.run([sys.executable, "-m", "platform_operator", "render", *files],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    objects = [d for d in yaml.safe_load_all(out) if d]
    kinds = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert kinds == [("ConfigMap", "time-slicing-rtx5060ti"), ("InferenceService", "audio"),
                     ("InferenceService", "document-qa"), ("InferenceService", "translation"),
                     ("InferenceService", "vlm"), ("ConfigMap", "ai-platform-gateway-routes")]
    for obj in objects:
        (validate_inference_service if obj["kind"] == "InferenceService" else validate)(obj)
    table = json.loads(objects[-1]["data"]["routes.json"])
    assert [r["name"] for r in table["routes"]] == ["audio", "document-qa", "translation", "vlm"]
    assert {r["kind"] for r in table["routes"]} == {"transcription", "document-qa", "translation",
                                                    "statement-extraction"}


def test_over_budget_services_are_noted_not_rendered():
    docs = _docs("gpupool-rtx5060ti.yaml", "vlm.yaml")
    greedy = _docs("vlm.yaml")[0]
    greedy["metadata"]["name"] = "vlm-2"
    greedy["spec"]["route"]["resource"] = "statements-2"
    result = render_documents([*docs, greedy])
    assert [o["metadata"]["name"] for o in result.objects if o["kind"] == "InferenceService"] == ["vlm"]
    (note,) = result.notes
    assert "ai-platform/vlm-2 not admitted (GPUBudgetExceeded)" in note and "needs 8 GB" in note


def test_gpu_service_without_a_pool_is_noted():
    result = render_documents(_docs("audio.yaml"))
    assert result.objects == [] and "no GPUPool" in result.notes[0]


def test_cli_prints_notes_as_comments_and_fails_on_invalid_input(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: platform.ai-platform.dev/v1alpha1\nkind: AIService\n"
                   "metadata: {name: x}\nspec: {task: custom}\n")
    assert main(["render", str(bad)]) == 1
    assert "image" in capsys.readouterr().err
    assert main(["render", str(EXAMPLES / "audio.yaml")]) == 0
    assert capsys.readouterr().out.startswith("# AIService ai-platform/audio not admitted: no GPUPool")


def test_namespace_option_applies_to_resources_without_one(tmp_path, capsys):
    doc = _docs("translation.yaml")[0]
    del doc["metadata"]["namespace"]
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["render", "--namespace", "team-a", str(path)]) == 0
    objects = list(yaml.safe_load_all(capsys.readouterr().out))
    assert objects[0]["metadata"]["namespace"] == "team-a"
    assert "translation-predictor.team-a.svc" in objects[1]["data"]["routes.json"]


def test_cli_refuses_names_kserve_cannot_use(tmp_path, capsys):
    doc = _docs("translation.yaml")[0]
    doc["metadata"]["name"] = "Translation"
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["render", str(path)]) == 1
    assert "DNS-1035" in capsys.readouterr().err


def test_dry_run_admits_exactly_what_reconcile_would():
    """The dry run and the operator share the admission code: the same services on the same pool
    get the same decisions, also with budgets whose sum is not exact in binary floating point."""
    from platform_operator.admission import plan
    from platform_operator.models import GPUPoolSpec
    from platform_operator.reconcile import claims_on

    pool = {"apiVersion": "platform.ai-platform.dev/v1alpha1", "kind": "GPUPool", "metadata": {"name": "p"},
            "spec": {"gpuModel": "t", "memoryGB": 7.0, "reserveGB": 1.0, "replicas": 8}}
    services = []
    for i, (gb, replicas) in enumerate([(0.7, 3), (0.6, 1), (0.7, 3), (0.6, 2), (0.9, 1)]):
        services.append({"apiVersion": "platform.ai-platform.dev/v1alpha1", "kind": "AIService",
                         "metadata": {"name": f"s{i}", "namespace": "ns", "creationTimestamp": f"{i:06d}"},
                         "spec": {"task": "custom", "image": "i", "gpu": {"memoryGB": gb},
                                  "scaling": {"minReplicas": 1, "maxReplicas": replicas}}})
    rendered = render_documents([pool, *services], namespace="ns")
    dry = {o["metadata"]["name"] for o in rendered.objects if o["kind"] == "InferenceService"}
    decisions = plan(GPUPoolSpec.model_validate(pool["spec"]), claims_on("p", [pool], services))
    assert dry == {k.split("/")[1] for k, d in decisions.items() if d.admitted}
    assert dry == {"s0", "s1", "s2", "s3"}  # 2.1 + 0.6 + 2.1 + 1.2 = 6 GB fills it exactly; s4 does not fit


def test_dry_run_reports_the_figures_reconcile_writes(client):
    """`reconcile_service` run on each service in turn (with the recording API client) writes the
    same admission decisions and figures into the Admitted conditions as the dry run's notes,
    rounded the same way: 1.3001 GB x 3 replicas is a 3.9 GB claim (rounded to the MB), so with
    2.1 GB it fits a 6 GB pool exactly, in both (unrounded arithmetic refuses it)."""
    from platform_operator.conditions import find
    from platform_operator.config import OperatorConfig
    from platform_operator.models import AIServiceSpec
    from platform_operator.reconcile import reconcile_service

    api = "platform.ai-platform.dev/v1alpha1"
    pool = {"apiVersion": api, "kind": "GPUPool", "metadata": {"name": "p"},
            "spec": {"gpuModel": "t", "memoryGB": 7.0, "reserveGB": 1.0, "replicas": 8}}
    services = [{"apiVersion": api, "kind": "AIService",
                 "metadata": {"name": f"s{i}", "namespace": "ns", "creationTimestamp": f"{i:06d}", "uid": f"u{i}"},
                 "spec": {"task": "custom", "image": "i", "gpu": {"memoryGB": gb},
                          "scaling": {"minReplicas": 1, "maxReplicas": replicas}}}
                for i, (gb, replicas) in enumerate([(0.7, 3), (1.3001, 3), (0.5, 1), (0.5004, 1)])]
    client.put(pool)
    conditions = {}
    for svc in services:
        client.put(svc)
        live = client.get(api, "AIService", svc["metadata"]["name"], "ns")
        outcome = reconcile_service(client, OperatorConfig(namespace="ns"), live,
                                    AIServiceSpec.model_validate(svc["spec"]))
        client.patch(api, "AIService", svc["metadata"]["name"], "ns", {"status": outcome.status}, status=True)
        conditions[svc["metadata"]["name"]] = find(outcome.status["conditions"], "Admitted")

    rendered = render_documents([pool, *services], namespace="ns")
    dry = {o["metadata"]["name"] for o in rendered.objects if o["kind"] == "InferenceService"}
    # 2.1 + 3.9 fill the 6 GB (unrounded 2.0999999999999996 + 3.9003 would not); 0.5 and 0.5004 are left out
    assert dry == {n for n, c in conditions.items() if c["status"] == "True"} == {"s0", "s1"}
    refused = {n: c["message"] for n, c in conditions.items() if c["status"] != "True"}
    assert rendered.notes == [f"AIService ns/{n} not admitted (GPUBudgetExceeded): {m}" for n, m in refused.items()]
    assert conditions["s1"]["message"] == ("needs 3.9 GB; fits GPUPool p: capacity 6 GB (memory minus reserve), "
                                           "2.1 GB held by other services, 3.9 GB free")
    assert refused["s3"] == ("needs 0.5 GB; does not fit GPUPool p: capacity 6 GB (memory minus reserve), "
                             "6 GB held by other services, 0 GB free")
