"""KubeClient, the thin layer over the kubernetes dynamic client: call shapes and error mapping."""

import pytest
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import ResourceNotFoundError

from platform_operator.client import ApiError, KubeClient


class FakeResource:
    """Stands in for one discovered API resource of the dynamic client."""

    def __init__(self, log, error=None):
        self.log, self.error = log, error
        self.subresources = {"status": self}

    def to_dict(self):  # like the real Resource: must not be mistaken for a result
        return {"kind": "APIResource"}

    def _do(self, verb, **kwargs):
        self.log.append((verb, kwargs))
        if self.error:
            raise self.error
        return Instance({"kind": "X", "items": [{"metadata": {"name": "a"}}]})

    def server_side_apply(self, **kw):
        return self._do("apply", **kw)

    def get(self, **kw):
        return self._do("get", **kw)

    def delete(self, **kw):
        return self._do("delete", **kw)

    def patch(self, **kw):
        return self._do("patch", **kw)


class Instance:
    """Like the dynamic client's ResourceInstance: a result turned into a dict with to_dict()."""

    def __init__(self, data):
        self.data = data

    def to_dict(self):
        return self.data


class FakeResources:
    def __init__(self, resource, missing=False):
        self.resource, self.missing = resource, missing

    def get(self, api_version, kind):
        if self.missing:
            raise ResourceNotFoundError(f"No matches found for {api_version} {kind}")
        return self.resource


def make(error=None, missing=False):
    log = []
    client = KubeClient.__new__(KubeClient)
    client._dyn = type("Dyn", (), {"resources": FakeResources(FakeResource(log, error), missing)})()
    client._manager = "platform-operator"
    return client, log


def test_apply_is_a_forced_server_side_apply_with_the_field_manager():
    client, log = make()
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}}
    client.apply(obj)
    assert log == [("apply", {"body": obj, "name": "c", "namespace": "n", "field_manager": "platform-operator",
                              "force_conflicts": True})]


def test_status_patch_is_a_merge_patch_of_the_subresource():
    client, log = make()
    client.patch("g/v1", "AIService", "a", "n", {"status": {}}, status=True)
    assert log[0][1]["content_type"] == "application/merge-patch+json"


def test_list_returns_items():
    client, _ = make()
    assert client.list("v1", "ConfigMap") == [{"metadata": {"name": "a"}}]


def test_missing_objects_are_none_or_ignored():
    client, _ = make(ApiException(status=404, reason="Not Found"))
    assert client.get("v1", "ConfigMap", "c", "n") is None
    client.delete("v1", "ConfigMap", "c", "n")


@pytest.mark.parametrize("status", [409, 500, 403])
def test_other_api_errors_are_raised_as_api_error(status):
    client, _ = make(ApiException(status=status, reason="boom"))
    with pytest.raises(ApiError) as raised:
        client.get("v1", "ConfigMap", "c", "n")
    assert raised.value.status == status


def test_a_kind_that_is_not_installed_is_an_api_error():
    client, _ = make(missing=True)
    with pytest.raises(ApiError, match="serving.kserve.io"):
        client.apply({"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
                      "metadata": {"name": "a", "namespace": "n"}})
