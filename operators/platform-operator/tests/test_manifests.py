"""The operator's own manifests are valid Kubernetes and grant what the operator calls."""

from pathlib import Path

import yaml
from conftest import ROOT
from k8s_schemas import validate

DEPLOY = ROOT / "deploy"


def _docs(name):
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d]


def test_manifests_validate_strictly():
    for path in sorted(DEPLOY.glob("*.yaml")):
        for doc in _docs(path.name):
            validate(doc)


def _allowed(rules, group, resource):
    return {v for r in rules if group in r["apiGroups"] and resource in r["resources"] for v in r["verbs"]}


def test_rbac_covers_the_calls_and_no_more():
    docs = _docs("rbac.yaml")
    cluster = next(d for d in docs if d["kind"] == "ClusterRole")["rules"]
    assert _allowed(cluster, "platform.ai-platform.dev", "aiservices") == {"get", "list", "watch", "patch"}
    assert _allowed(cluster, "platform.ai-platform.dev", "aiservices/status") == {"get", "patch"}
    assert _allowed(cluster, "serving.kserve.io", "inferenceservices") >= {"get", "patch", "delete", "watch"}
    assert _allowed(cluster, "", "configmaps") == set()  # ConfigMaps only in two namespaces
    roles = {d["metadata"]["namespace"]: d["rules"] for d in docs if d["kind"] == "Role"}
    assert set(roles) == {"ai-platform", "nvidia-device-plugin"}
    for rules in roles.values():
        assert _allowed(rules, "", "configmaps") == {"get", "create", "patch"}
    for doc in docs:
        for rule in doc.get("rules", []):
            assert "*" not in rule["verbs"] and "*" not in rule["resources"]


def test_dockerfile_runs_the_handlers_as_non_root():
    text = Path(ROOT / "Dockerfile").read_text()
    assert "USER 10001" in text and "platform_operator.handlers" in text and "--standalone" in text
