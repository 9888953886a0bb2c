"""The model-service chart's optional Chroma server for the document-qa preset (chroma.enabled):
a Deployment, Service, PVC and NetworkPolicy rendered by real `helm template`, the AIService's
DOCQA_CHROMA_URL pointing at it through the operator's InferenceService, and nothing of it when off."""

from __future__ import annotations

import re

import pytest
from chartkit import ROOT, UMBRELLA, HelmError, container_env, name, of_kind, operator_render, pod_specs
from test_policy import restricted_problems

RELEASE = "docs"
ON = {"preset": "document-qa", "chroma.enabled": "true"}


def by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in of_kind(objects, kind) if "chroma" in name(o)]


def chromadb_pin() -> str:
    text = (ROOT / "services" / "document-qa" / "requirements.txt").read_text(encoding="utf-8")
    return re.search(r"^chromadb==(\S+)", text, re.M).group(1)


def test_enabled_renders_a_restricted_chroma_server(helm):
    objects = helm.template("model-service", sets=ON, release=RELEASE)
    (deploy,) = by_kind(objects, "Deployment")
    (svc,) = by_kind(objects, "Service")
    (pvc,) = by_kind(objects, "PersistentVolumeClaim")
    (policy,) = by_kind(objects, "NetworkPolicy")
    assert name(deploy) == name(svc) == name(pvc) == name(policy) == "docs-model-service-chroma"

    assert not restricted_problems("chroma", pod_specs([deploy]))  # the rules every chart's pods follow
    pod = deploy["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["image"] == f"chromadb/chroma:{chromadb_pin()}"  # the server the pip client is tested with
    assert container["args"][:1] == ["run"] and "/data" in container["args"]
    sc, pod_sc = container["securityContext"], pod["spec"]["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]} and sc["runAsNonRoot"] is True
    assert pod_sc["runAsUser"] != 0 and pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes[mounts["/data"]]["persistentVolumeClaim"]["claimName"] == name(pvc)
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "10Gi" and "storageClassName" not in pvc["spec"]

    assert svc["spec"]["ports"][0]["port"] == 8000
    assert svc["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    # only the predictor pods of this release's AIService reach it (the label KServe sets)
    (service,) = of_kind(objects, "AIService")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {"serving.kserve.io/inferenceservice": name(service)}}}]
    assert rule["ports"] == [{"port": 8000, "protocol": "TCP"}]

    # the service is pointed at it, and may scale out (the replicas share it)
    url = f"http://{name(svc)}.ai-platform.svc:8000"
    assert service["spec"]["env"]["DOCQA_CHROMA_URL"] == url
    assert service["spec"]["scaling"]["maxReplicas"] > 1
    made, notes = operator_render([service])
    assert not notes, notes
    (isvc,) = of_kind(made, "InferenceService")
    predictor = isvc["spec"]["predictor"]["containers"][0]
    assert container_env(predictor)["DOCQA_CHROMA_URL"]["value"] == url


def test_disabled_renders_nothing_extra(helm):
    plain = helm.template("model-service", sets={"preset": "document-qa"}, release=RELEASE)
    assert not [o for o in plain if "chroma" in name(o)]
    (service,) = of_kind(plain, "AIService")
    assert "DOCQA_CHROMA_URL" not in service["spec"]["env"] and service["spec"]["scaling"]["maxReplicas"] == 1
    on = helm.template("model-service", sets=ON, release=RELEASE)
    assert {(o["kind"], name(o)) for o in on} - {(o["kind"], name(o)) for o in plain} == {
        (kind, "docs-model-service-chroma") for kind in ("Deployment", "Service", "PersistentVolumeClaim", "NetworkPolicy")}


def test_options(helm):
    objects = helm.template("model-service", release=RELEASE, sets={
        **ON, "chroma.persistence.enabled": "false", "networkPolicy.enabled": "false",
        "aiService.scaling.maxReplicas": "2", "aiService.env.DOCQA_COLLECTION": "team_chunks"})
    assert not by_kind(objects, "PersistentVolumeClaim") and not of_kind(objects, "NetworkPolicy")
    (deploy,) = by_kind(objects, "Deployment")
    data = [v for v in deploy["spec"]["template"]["spec"]["volumes"] if v["name"] == "data"]
    assert data == [{"name": "data", "emptyDir": {}}]
    (service,) = of_kind(objects, "AIService")
    assert service["spec"]["scaling"]["maxReplicas"] == 2  # a set value wins
    assert service["spec"]["env"]["DOCQA_COLLECTION"] == "team_chunks" and "DOCQA_CHROMA_URL" in service["spec"]["env"]
    objects = helm.template("model-service", release=RELEASE,
                            sets={**ON, "chroma.persistence.storageClass": "fast", "chroma.persistence.size": "50Gi"})
    (pvc,) = by_kind(objects, "PersistentVolumeClaim")
    assert pvc["spec"]["storageClassName"] == "fast" and pvc["spec"]["resources"]["requests"]["storage"] == "50Gi"


@pytest.mark.parametrize("sets, message", [
    ({"preset": "audio", "chroma.enabled": "true"}, "chroma.enabled is for the document-qa preset"),
    ({**ON, "chroma.image.tag": "latest"}, "chroma"),
    ({**ON, "chroma.persistence.size": "lots"}, "size"),
])
def test_bad_values_fail_clearly(helm, sets, message):
    with pytest.raises(HelmError, match=message):
        helm.template("model-service", sets=sets, release=RELEASE)


def test_umbrella_turns_it_on_for_document_qa(helm):
    objects = helm.template(UMBRELLA, sets={"document-qa.enabled": "true", "document-qa.chroma.enabled": "true"})
    (deploy,) = by_kind(objects, "Deployment")
    assert name(deploy) == "ai-platform-document-qa-chroma"
    assert not restricted_problems("umbrella", pod_specs(objects))
    (service,) = [s for s in of_kind(objects, "AIService") if name(s) == "document-qa"]
    assert service["spec"]["env"]["DOCQA_CHROMA_URL"] == "http://ai-platform-document-qa-chroma.ai-platform.svc:8000"
    assert not [o for o in helm.template(UMBRELLA, sets={"document-qa.enabled": "true"}) if "chroma" in name(o)]
