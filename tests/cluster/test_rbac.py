"""deploy/rbac.yaml is what the operator needs, and the harness notices when it is not.

The other tests run the operator as the ServiceAccount of deploy/rbac.yaml and fail on any 403.
Here a copy of that ClusterRole without `patch` on the status subresources is bound to another
ServiceAccount: the operator then gets 403s, no condition lands, and the harness reports the
refusals; with the real ServiceAccount the same AIService is admitted."""

from __future__ import annotations

import copy
import time

import pytest
import yaml

from clusterkit import (OPERATOR, OPERATOR_NAMESPACE, aiservice, condition, get_ais, operator_kubeconfig,
                        operator_running, refusals, wait_condition, wait_for)

REDUCED = "platform-operator-without-status"


@pytest.fixture
def reduced_identity(platform, tmp_path):
    docs = list(yaml.safe_load_all((OPERATOR / "deploy" / "rbac.yaml").read_text()))
    made = []
    for doc in docs:
        doc = copy.deepcopy(doc)
        kind = doc["kind"]
        if kind == "ClusterRole":
            doc["rules"] = [r for r in doc["rules"] if not any(res.endswith("/status") for res in r["resources"])]
            assert len(doc["rules"]) == len(docs[1]["rules"]) - 1
        if kind in ("ClusterRole", "ClusterRoleBinding", "ServiceAccount"):
            doc["metadata"]["name"] = REDUCED
        if kind == "ClusterRoleBinding":
            doc["roleRef"]["name"] = REDUCED
        if kind in ("RoleBinding", "ClusterRoleBinding"):
            doc["subjects"][0]["name"] = REDUCED
            doc["metadata"]["name"] = f"{doc['metadata']['name']}-reduced" if kind == "RoleBinding" else REDUCED
        if kind == "Role":
            continue
        made.append(platform.apply(doc))
    yield operator_kubeconfig(platform, OPERATOR_NAMESPACE, REDUCED, tmp_path / "kubeconfig")
    for obj in made:
        platform.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace"))


def test_a_missing_verb_is_caught(platform, operator, namespace, reduced_identity):
    operator.stop()
    platform.create(aiservice("rbac-probe", namespace, route={"enabled": False}))
    with operator_running(reduced_identity, allow_refusals=True) as runner:
        # the handler runs (kopf's bookkeeping annotations are plain patches), its status patch is refused
        wait_for(lambda: any(k.startswith("operator.platform.ai-platform.dev/") for k in (
            get_ais(platform, "rbac-probe", namespace)["metadata"].get("annotations") or {})), 30,
            what="the reduced operator handling the AIService")
        time.sleep(3)  # its status patches are being refused meanwhile
    found = refusals(runner.output)
    assert any("aiservices" in line or "status" in line for line in found), runner.output[-3000:]
    assert condition(get_ais(platform, "rbac-probe", namespace), "Admitted") is None
    operator.start()
    wait_condition(platform, "rbac-probe", namespace, "Admitted", "True")
