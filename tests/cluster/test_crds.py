"""The operator's CRDs on a live API server: server-side apply is accepted (structural schema,
CEL rules that compile), the examples validate, and every CEL rule fires apiserver-side with
its own message."""

from __future__ import annotations

import copy

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from clusterkit import API, FIELD_MANAGER, OPERATOR

CRDS = {d["spec"]["names"]["kind"]: d for f in sorted((OPERATOR / "crds").glob("*.yaml"))
        for d in yaml.safe_load_all(f.read_text()) if d}
EXAMPLES = [d for f in sorted((OPERATOR / "examples").glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]

SERVICE = {"apiVersion": API, "kind": "AIService", "metadata": {"name": "cel-probe", "namespace": "default"},
           "spec": {"task": "translation", "image": "ghcr.io/ai-platform/translation-service:0.1.0"}}
POOL = {"apiVersion": API, "kind": "GPUPool", "metadata": {"name": "cel-probe"},
        "spec": {"gpuModel": "NVIDIA GeForce RTX 5060 Ti", "memoryGB": 16, "reserveGB": 1}}


def _with(base: dict, name: str | None = None, **spec) -> dict:
    obj = copy.deepcopy(base)
    obj["spec"].update(spec)
    if name:
        obj["metadata"]["name"] = name
    return obj


# One object per CEL rule of the CRDs that breaks exactly that rule, keyed by the rule's message.
VIOLATIONS = {
    "scaling.minReplicas must not exceed scaling.maxReplicas":
        _with(SERVICE, scaling={"minReplicas": 3, "maxReplicas": 2}),
    "scale to zero (minReplicas 0) needs deploymentMode Knative":
        _with(SERVICE, scaling={"minReplicas": 0, "maxReplicas": 2}, deploymentMode="Standard"),
    "scaling.autoscaler 'external' needs deploymentMode Standard (Knative scales itself)":
        _with(SERVICE, scaling={"autoscaler": "external"}, deploymentMode="Knative"),
    "Standard mode scales on cpu or memory only":
        _with(SERVICE, scaling={"scaleMetric": "concurrency"}, deploymentMode="Standard"),
    "the name must be a DNS-1035 label of at most 45 characters (KServe adds -predictor)":
        _with(SERVICE, name="a" * 46),
    "reserveGB must be less than memoryGB":
        _with(POOL, memoryGB=8, reserveGB=8),
}


def _rules(node) -> list[dict]:
    """Every x-kubernetes-validations rule anywhere in a schema."""
    if isinstance(node, dict):
        found = list(node.get("x-kubernetes-validations", []))
        for value in node.values():
            found += _rules(value)
        return found
    if isinstance(node, list):
        return [r for item in node for r in _rules(item)]
    return []


def test_crds_server_side_apply_is_accepted(platform):
    """The committed CRDs apply server-side (again, now as an update) and are Established, with
    their CEL rules compiled by the API server."""
    for kind, crd in CRDS.items():
        live = platform.apply(crd, manager=FIELD_MANAGER + "-again")
        assert live["spec"]["names"]["kind"] == kind
        conds = {c["type"]: c["status"] for c in live["status"]["conditions"]}
        assert conds.get("Established") == "True" and conds.get("NamesAccepted") == "True", conds
        stored = live["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        assert _rules(stored) == _rules(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def test_every_example_is_accepted(platform):
    """Each example AIService and GPUPool passes the API server's validation (server dry run)."""
    assert EXAMPLES
    for doc in EXAMPLES:
        doc = copy.deepcopy(doc)
        if doc["kind"] == "AIService":
            doc["metadata"]["namespace"] = "default"
        live = platform.apply(doc, dry_run=True)
        assert live["spec"]["task" if doc["kind"] == "AIService" else "memoryGB"] == doc["spec"][
            "task" if doc["kind"] == "AIService" else "memoryGB"]


def test_every_cel_rule_has_a_violation_case():
    messages = {r["message"] for crd in CRDS.values() for v in crd["spec"]["versions"]
                for r in _rules(v["schema"]["openAPIV3Schema"])}
    assert messages == set(VIOLATIONS)


@pytest.mark.parametrize("message", sorted(VIOLATIONS))
def test_cel_rule_fires_on_the_api_server(platform, message):
    """The API server refuses the violating object with 422 and the rule's message."""
    obj = VIOLATIONS[message]
    with pytest.raises(ApiException) as err:
        platform.create(obj)
    assert err.value.status == 422, err.value.body
    assert message in err.value.body
    # the same object with the rule satisfied again is accepted (dry run)
    kind = obj["kind"]
    valid = SERVICE if kind == "AIService" else POOL
    assert platform.apply(valid, dry_run=True)["kind"] == kind
