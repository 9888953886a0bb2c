"""The resource models: defaults, per-task derivations, and the rules shared with the CRD."""

import pytest
from pydantic import ValidationError

from platform_operator.models import AIServiceSpec, GPUPoolSpec

BASE = {"task": "custom", "image": "example/model:1"}


def test_defaults_fill_an_almost_empty_spec():
    spec = AIServiceSpec.model_validate(BASE)
    assert spec.deployment_mode == "Standard"
    assert (spec.scaling.min_replicas, spec.scaling.max_replicas) == (1, 1)
    assert (spec.resources.cpu, spec.resources.memory) == ("500m", "2Gi")
    assert spec.gpu is None and spec.route.enabled and spec.route.protocol == "v1"


@pytest.mark.parametrize("value,text", [(2, "2"), (0.5, "0.5"), ("250m", "250m"), ("4Gi", "4Gi")])
def test_quantities_accept_numbers_and_strings(value, text):
    spec = AIServiceSpec.model_validate({**BASE, "resources": {"cpu": value}})
    assert spec.resources.cpu == text


@pytest.mark.parametrize("bad", [
    {"task": "summarise", "image": "x"},
    {"task": "custom"},
    {**BASE, "resources": {"memory": "four gigs"}},
    {**BASE, "scaling": {"minReplicas": 3, "maxReplicas": 2}},
    {**BASE, "scaling": {"minReplicas": 0}},
    {**BASE, "scaling": {"scaleMetric": "concurrency"}},
    {**BASE, "gpu": {}},
    {**BASE, "gpu": {"memoryGB": 0.1}},
    {**BASE, "envPrefix": "lower"},
    {**BASE, "route": {"resource": "Not_A_Label"}},
    {**BASE, "unknownField": 1},
    {**BASE, "deploymentMode": "RawDeployment"},
])
def test_invalid_specs_are_rejected(bad):
    with pytest.raises(ValidationError):
        AIServiceSpec.model_validate(bad)


def test_scale_to_zero_is_allowed_in_knative_mode():
    spec = AIServiceSpec.model_validate({**BASE, "deploymentMode": "Knative",
                                         "scaling": {"minReplicas": 0, "scaleMetric": "concurrency"}})
    assert spec.scaling.min_replicas == 0


def test_pool_capacity_is_memory_minus_reserve():
    pool = GPUPoolSpec.model_validate({"gpuModel": "RTX 5060 Ti", "memoryGB": 16, "reserveGB": 1.5})
    assert pool.capacity_gb == 14.5
    assert pool.replicas == 4 and pool.rename_by_default


def test_pool_reserve_must_leave_memory():
    with pytest.raises(ValidationError, match="reserveGB"):
        GPUPoolSpec.model_validate({"gpuModel": "x", "memoryGB": 8, "reserveGB": 8})


def test_the_models_serialise_with_the_resource_field_names():
    spec = AIServiceSpec.model_validate({**BASE, "gpu": {"memoryGB": 2}, "route": {"timeoutSeconds": 9}})
    dumped = spec.model_dump(by_alias=True, exclude_none=True)
    assert dumped["gpu"] == {"memoryGB": 2.0}
    assert dumped["route"]["timeoutSeconds"] == 9 and "modelURI" not in dumped
