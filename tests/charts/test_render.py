"""`helm template` of the umbrella chart for every ci/*-values.yaml (and each component chart
alone); every rendered object validated strictly: Kubernetes kinds with kubernetes-validate,
AIService/GPUPool against the operator's CRD schema, and every AIService through the operator's
own `render`."""

from __future__ import annotations

import copy
import filecmp

import jsonschema
import kubernetes_validate
import pytest
from chartkit import (CHARTS, COMPONENT_CHARTS, NAMESPACE, ROOT, UMBRELLA, ci_values, is_hook, name, of_kind,
                      operator_render)
from crdschema import dump, model_service_values_schema, object_schema

K8S_VERSION = "1.37.0"
OWN_KINDS = {"AIService", "GPUPool"}
# Kinds whose CRDs are not in kubernetes-validate: the fields the charts use, checked here.
THIRD_PARTY = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): {
        "required": ["spec"], "properties": {"spec": {
            "required": ["selector", "endpoints"],
            "properties": {"endpoints": {"type": "array", "minItems": 1,
                                         "items": {"required": ["port"], "properties": {"port": {"type": "string"}}}}}}}},
    ("monitoring.coreos.com/v1", "PodMonitor"): {
        "required": ["spec"], "properties": {"spec": {
            "required": ["selector", "podMetricsEndpoints"],
            "properties": {"podMetricsEndpoints": {"type": "array", "minItems": 1,
                                                   "items": {"required": ["port"]}}}}}},
    ("keda.sh/v1alpha1", "ScaledObject"): {
        "required": ["spec"], "properties": {"spec": {
            "required": ["scaleTargetRef", "triggers"],
            "properties": {"scaleTargetRef": {"required": ["name"]},
                           "minReplicaCount": {"type": "integer"}, "maxReplicaCount": {"type": "integer"},
                           "triggers": {"type": "array", "minItems": 1, "items": {
                               "required": ["type", "metadata"],
                               "properties": {"metadata": {"type": "object",
                                                           "additionalProperties": {"type": "string"}}}}}}}}},
}
# KServe's CRD is in no pip package: its predictor is checked as a PodSpec (as the operator's tests do)
KSERVE_PREDICTOR_FIELDS = {"minReplicas", "maxReplicas", "scaleTarget", "scaleMetric", "containerConcurrency"}

UMBRELLA_VALUES = ci_values(UMBRELLA)


def validate_object(obj: dict) -> None:
    """Raise on any object that is not valid for its kind."""
    api, kind = obj["apiVersion"], obj["kind"]
    if kind in OWN_KINDS:
        jsonschema.validate(obj, object_schema(kind))
    elif (api, kind) in THIRD_PARTY:
        jsonschema.validate(obj, THIRD_PARTY[(api, kind)])
    elif kind == "InferenceService":
        predictor = obj["spec"]["predictor"]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": copy.deepcopy(obj["metadata"]),
               "spec": {k: v for k, v in predictor.items() if k not in KSERVE_PREDICTOR_FIELDS}}
        kubernetes_validate.validate(pod, K8S_VERSION, strict=True)
    else:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


@pytest.fixture(scope="module", params=UMBRELLA_VALUES, ids=[p.stem for p in UMBRELLA_VALUES])
def umbrella(request, helm):
    return request.param, helm.template(UMBRELLA, [request.param])


def test_umbrella_renders_every_ci_values_file():
    assert {p.stem for p in UMBRELLA_VALUES} == {"cpu-values", "gpu-values", "cloud-values"}


def test_every_object_is_valid(umbrella):
    values, objects = umbrella
    assert len(objects) > 20, f"{values.name}: only {len(objects)} objects"
    errors = []
    for obj in objects:
        try:
            validate_object(obj)
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as exc:
            errors.append(f"{obj['kind']}/{name(obj)}: {getattr(exc, 'message', exc)}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{obj['kind']}/{name(obj)}: no schema ({exc})")
    assert not errors, "\n".join(errors)


def test_unique_names_per_kind(umbrella):
    _, objects = umbrella
    keys = [(o["kind"], o["metadata"].get("namespace"), name(o)) for o in objects]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


@pytest.mark.parametrize("chart", COMPONENT_CHARTS)
@pytest.mark.parametrize("flavour", ["cpu-values", "gpu-values", "cloud-values"])
def test_component_chart_installs_alone(helm, chart, flavour):
    objects = helm.template(chart, [CHARTS / chart / "ci" / f"{flavour}.yaml"], release=chart)
    assert objects
    for obj in objects:
        validate_object(obj)


def test_operator_chart_crds_are_the_generated_ones(helm):
    """The chart's crds/ are byte-identical to operators/platform-operator/crds (generated from
    models.py by `make crds`); a change there must be copied here."""
    generated = ROOT / "operators" / "platform-operator" / "crds"
    packaged = CHARTS / "platform-operator" / "crds"
    names = sorted(p.name for p in generated.glob("*.yaml"))
    assert names == sorted(p.name for p in packaged.glob("*.yaml"))
    match, mismatch, errors = filecmp.cmpfiles(generated, packaged, names, shallow=False)
    assert not mismatch and not errors, f"copy operators/platform-operator/crds/ to charts/platform-operator/crds/: {mismatch}"
    crds = of_kind(helm.template("platform-operator"), "CustomResourceDefinition")
    assert {name(c) for c in crds} == {"aiservices.platform.ai-platform.dev", "gpupools.platform.ai-platform.dev"}


def test_model_service_values_schema_is_generated_from_the_crd():
    """charts/model-service/values.schema.json's aiService is the AIService CRD's spec schema."""
    text = (CHARTS / "model-service" / "values.schema.json").read_text(encoding="utf-8")
    assert text == dump(model_service_values_schema()), "run: python tests/charts/crdschema.py"


def test_operator_renders_every_aiservice(umbrella):
    """The operator's own renderer admits every AIService the chart makes and produces one valid
    InferenceService and one route per service: chart values and operator are one contract."""
    values, objects = umbrella
    services = of_kind(objects, "AIService")
    assert services, f"{values.name}: no AIService"
    rendered, notes = operator_render(of_kind(objects, "AIService", "GPUPool"))
    assert not notes, notes
    isvcs = {name(o): o for o in of_kind(rendered, "InferenceService")}
    assert set(isvcs) == {name(s) for s in services}
    for isvc in isvcs.values():
        validate_object(isvc)
        assert isvc["metadata"]["namespace"] == NAMESPACE
    routes = of_kind(rendered, "ConfigMap")
    assert any(name(c) == "ai-platform-gateway-routes" for c in routes)


@pytest.mark.parametrize("preset", ["vlm", "audio", "document-qa", "translation"])
def test_every_preset_renders_through_the_operator(helm, preset):
    objects = helm.template("model-service", sets={"preset": preset}, release=preset)
    (service,) = of_kind(objects, "AIService")
    assert name(service) == preset
    jsonschema.validate(service, object_schema("AIService"))
    rendered, notes = operator_render([service])
    assert not notes
    (isvc,) = of_kind(rendered, "InferenceService")
    container = isvc["spec"]["predictor"]["containers"][0]
    assert container["image"].endswith(":0.1.0") and preset in container["image"]
    (routes,) = of_kind(rendered, "ConfigMap")
    assert f'"name": "{preset}"' in routes["data"]["routes.json"]


def test_hooks_are_only_helm_tests(umbrella):
    _, objects = umbrella
    for obj in objects:
        if is_hook(obj):
            assert obj["metadata"]["annotations"]["helm.sh/hook"] == "test", name(obj)
            assert obj["kind"] == "Pod"


def test_gpu_services_start_behind_the_gpu_check(helm):
    """On the GPU cluster values the predictors of vlm and audio ask for cuda (a wrong build refuses
    instead of running on the CPU) and their startup probe is kit's GPU check for their framework."""
    objects = helm.template(UMBRELLA, [CHARTS / "ai-platform" / "ci" / "gpu-values.yaml"])
    rendered, notes = operator_render(of_kind(objects, "AIService", "GPUPool"))
    assert not notes, notes
    checked = {}
    for isvc in of_kind(rendered, "InferenceService"):
        (container,) = isvc["spec"]["predictor"]["containers"]
        env = {e["name"]: e["value"] for e in container["env"]}
        command = container["startupProbe"]["exec"]["command"]
        assert command[:4] == ["python", "-m", "kit.gpu", "check"] and command[command.index("--prefix") + 1] + "_DEVICE" in env
        checked[name(isvc)] = (command[command.index("--frameworks") + 1], env[command[5] + "_DEVICE"])
        assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert checked == {"vlm": ("torch", "cuda"), "audio": ("ctranslate2", "cuda")}
