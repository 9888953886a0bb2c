"""The CRDs' CEL rules, evaluated with cel-python on defaulted objects, agree with the operator."""

import copy

import celpy
import pytest
from pydantic import ValidationError

from platform_operator.crd import aiservice_crd, gpupool_crd
from platform_operator.models import AISERVICE_NAME_RULE, AIServiceSpec, GPUPoolSpec


def _spec_schema(crd):
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]


def apply_defaults(value, schema):
    """Fill in defaults the way the API server does before validation."""
    if schema.get("type") != "object" or not isinstance(value, dict):
        return value
    out = copy.deepcopy(value)
    for name, sub in schema.get("properties", {}).items():
        if name not in out and "default" in sub:
            out[name] = copy.deepcopy(sub["default"])
        if name in out:
            out[name] = apply_defaults(out[name], sub)
    return out


def cel_accepts(schema, obj) -> list[str]:
    """Messages of the rules that reject `obj`."""
    env = celpy.Environment()
    failed = []
    for rule in schema["x-kubernetes-validations"]:
        program = env.program(env.compile(rule["rule"]))
        if not bool(program.evaluate({"self": celpy.json_to_cel(obj)})):
            failed.append(rule["message"])
    return failed


BASE = {"task": "custom", "image": "x:1"}


@pytest.mark.parametrize("spec", [
    BASE,
    {**BASE, "scaling": {"minReplicas": 2, "maxReplicas": 3}},
    {**BASE, "scaling": {"minReplicas": 4, "maxReplicas": 3}},
    {**BASE, "scaling": {"minReplicas": 0}},
    {**BASE, "scaling": {"minReplicas": 0}, "deploymentMode": "Knative"},
    {**BASE, "scaling": {"scaleMetric": "concurrency"}},
    {**BASE, "scaling": {"scaleMetric": "cpu", "maxReplicas": 2}},
    {**BASE, "scaling": {"scaleMetric": "rps"}, "deploymentMode": "Knative"},
    {**BASE, "scaling": {"autoscaler": "external", "maxReplicas": 3}},
    {**BASE, "scaling": {"autoscaler": "external", "minReplicas": 0}, "deploymentMode": "Knative"},
])
def test_aiservice_rules_agree_with_the_operator(spec):
    schema = _spec_schema(aiservice_crd())
    failed = cel_accepts(schema, apply_defaults(spec, schema))
    try:
        AIServiceSpec.model_validate(spec)
    except ValidationError as exc:
        assert len(failed) == 1 and failed[0] in str(exc)
    else:
        assert failed == []


@pytest.mark.parametrize("spec,ok", [
    ({"gpuModel": "g", "memoryGB": 16}, True),
    ({"gpuModel": "g", "memoryGB": 16, "reserveGB": 16}, False),
    ({"gpuModel": "g", "memoryGB": 2, "reserveGB": 1.5}, True),
])
def test_gpupool_rules_agree_with_the_operator(spec, ok):
    schema = _spec_schema(gpupool_crd())
    assert (cel_accepts(schema, apply_defaults(spec, schema)) == []) is ok
    if ok:
        GPUPoolSpec.model_validate(spec)
    else:
        with pytest.raises(ValidationError):
            GPUPoolSpec.model_validate(spec)


def test_defaults_in_the_crd_match_the_models():
    schema = _spec_schema(aiservice_crd())
    defaulted = apply_defaults(BASE, schema)
    model = AIServiceSpec.model_validate(BASE).model_dump(by_alias=True, exclude_none=True)
    for key in ("deploymentMode", "scaling", "resources", "route"):
        assert defaulted[key] == model[key], key


@pytest.mark.parametrize("name,ok", [("audio", True), ("document-qa", True), ("a" * 45, True), ("a" * 46, False),
                                     ("1audio", False), ("Audio", False), ("audio-", False), ("au.dio", False)])
def test_name_rule_agrees_with_the_operator(name, ok):
    root = aiservice_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert (cel_accepts(root, {"metadata": {"name": name}}) == []) is ok
    assert AISERVICE_NAME_RULE.check(name) is ok
