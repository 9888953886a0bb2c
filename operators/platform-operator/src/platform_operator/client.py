"""The Kubernetes API boundary: a small client interface and its thin real implementation."""

from __future__ import annotations

import json
import logging
from typing import Protocol

from . import FIELD_MANAGER

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A failed Kubernetes API call; `status` is the HTTP status (0 when unknown)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message

    @property
    def namespace_terminating(self) -> bool:
        """The API server refused new content because the namespace is being deleted: nothing
        to make there any more, and not a permission problem."""
        return self.status == 403 and "being terminated" in self.message


def _api_message(exc) -> str:
    """The API server's own message (the Status body), else the HTTP reason."""
    try:
        message = json.loads(exc.body or "{}").get("message")
    except (ValueError, AttributeError):
        message = None
    return f"{exc.reason}: {message}" if message else (exc.reason or str(exc))


class Client(Protocol):
    """What the operator needs from the API server."""

    def apply(self, obj: dict) -> dict:
        """Server-side apply `obj` (forcing ownership of its fields); return the live object."""

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        """The object, or None when it does not exist."""

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[dict]:
        """Objects of a kind (all namespaces when `namespace` is None)."""

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> None:
        """Delete an object; a missing object is fine."""

    def patch(self, api_version: str, kind: str, name: str, namespace: str | None, body: dict,
              status: bool = False) -> dict:
        """JSON merge patch of the object (or of its status subresource)."""

    def event(self, obj: dict, type: str, reason: str, message: str) -> None:
        """Record a Kubernetes event about `obj`."""


class KubeClient:
    """Client over the official `kubernetes` dynamic client (in-cluster or KUBECONFIG)."""

    def __init__(self, api_client=None, field_manager: str = FIELD_MANAGER) -> None:
        from kubernetes import config, dynamic

        if api_client is None:
            try:
                config.load_incluster_config()
            except config.ConfigException:
                config.load_kube_config()
            from kubernetes.client import ApiClient
            api_client = ApiClient()
        self._dyn = dynamic.DynamicClient(api_client)
        self._manager = field_manager

    @staticmethod
    def _raw(fn, *args, **kwargs):
        from kubernetes.client.exceptions import ApiException
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        try:
            return fn(*args, **kwargs)
        except ApiException as exc:
            raise ApiError(exc.status or 0, _api_message(exc)) from exc
        except ResourceNotFoundError as exc:  # the kind is not installed (e.g. no KServe)
            raise ApiError(0, str(exc)) from exc

    def _call(self, fn, *args, **kwargs) -> dict:
        result = self._raw(fn, *args, **kwargs)
        return result.to_dict() if hasattr(result, "to_dict") else result

    def _res(self, api_version: str, kind: str):
        return self._raw(self._dyn.resources.get, api_version=api_version, kind=kind)

    def apply(self, obj: dict) -> dict:
        meta = obj["metadata"]
        res = self._res(obj["apiVersion"], obj["kind"])
        return self._call(res.server_side_apply, body=obj, name=meta["name"], namespace=meta.get("namespace"),
                          field_manager=self._manager, force_conflicts=True)

    def get(self, api_version, kind, name, namespace=None):
        try:
            return self._call(self._res(api_version, kind).get, name=name, namespace=namespace)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, api_version, kind, namespace=None):
        found = self._call(self._res(api_version, kind).get, namespace=namespace)
        return list(found.get("items", []))

    def delete(self, api_version, kind, name, namespace=None):
        try:
            self._call(self._res(api_version, kind).delete, name=name, namespace=namespace)
        except ApiError as exc:
            if exc.status != 404:
                raise

    def patch(self, api_version, kind, name, namespace, body, status=False):
        res = self._res(api_version, kind)
        target = res.subresources["status"] if status else res
        return self._call(target.patch, body=body, name=name, namespace=namespace,
                          content_type="application/merge-patch+json")

    def event(self, obj, type, reason, message):
        import kopf

        kopf.event(obj, type=type, reason=reason, message=message)
