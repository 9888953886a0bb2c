"""Shared fixtures: examples, a recording client at the Kubernetes API boundary, kopf arguments."""

from __future__ import annotations

import copy
import logging
import threading
from pathlib import Path

import kopf
import pytest
import yaml

from platform_operator.client import ApiError
from platform_operator.config import OperatorConfig

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def load_example(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


@pytest.fixture
def examples() -> dict[str, dict]:
    return {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.yaml"))}


class RecordingClient:
    """Stands in for the API server: records every call and keeps applied objects in memory.

    `fail` maps a method name to an ApiError to raise on its next calls.
    """

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.store: dict[tuple, dict] = {}
        self.events: list[tuple[str, str, str, str]] = []
        self.fail: dict[str, ApiError] = {}
        self._version = 0

    def _check(self, method: str) -> None:
        if method in self.fail:
            raise self.fail[method]

    @staticmethod
    def _key(api_version, kind, name, namespace):
        return (api_version, kind, namespace or "", name)

    def put(self, obj: dict) -> dict:
        """Seed an object as if it existed in the cluster."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        self._version += 1
        meta["resourceVersion"] = str(self._version)
        self.store[self._key(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))] = obj
        return copy.deepcopy(obj)

    def apply(self, obj):
        self.calls.append(("apply", copy.deepcopy(obj)))
        self._check("apply")
        meta = obj["metadata"]
        key = self._key(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        live = self.store.get(key)
        wanted = meta.get("resourceVersion")
        if wanted is not None and (live is None or live["metadata"]["resourceVersion"] != wanted):
            raise ApiError(409, "Conflict: the object has been modified")
        new = copy.deepcopy(obj)
        if live and "status" in live:
            new["status"] = live["status"]
        return self.put(new)

    def get(self, api_version, kind, name, namespace=None):
        self.calls.append(("get", api_version, kind, name, namespace))
        self._check("get")
        found = self.store.get(self._key(api_version, kind, name, namespace))
        return copy.deepcopy(found) if found else None

    def list(self, api_version, kind, namespace=None):
        self.calls.append(("list", api_version, kind, namespace))
        self._check("list")
        return [copy.deepcopy(o) for (av, k, ns, _), o in sorted(self.store.items())
                if av == api_version and k == kind and (namespace is None or ns == namespace)]

    def delete(self, api_version, kind, name, namespace=None):
        self.calls.append(("delete", api_version, kind, name, namespace))
        self._check("delete")
        self.store.pop(self._key(api_version, kind, name, namespace), None)

    def patch(self, api_version, kind, name, namespace, body, status=False):
        self.calls.append(("patch", api_version, kind, name, namespace, copy.deepcopy(body), status))
        self._check("patch")
        live = self.store[self._key(api_version, kind, name, namespace)]
        if status:
            live.setdefault("status", {}).update(body["status"])
        else:
            live["metadata"].setdefault("annotations", {}).update(body["metadata"]["annotations"])
        return copy.deepcopy(live)

    def event(self, obj, type, reason, message):
        self.calls.append(("event", type, reason))
        self.events.append((obj["metadata"]["name"], type, reason, message))

    def of(self, method: str) -> list[tuple]:
        return [c for c in self.calls if c[0] == method]

    def applied(self, kind: str) -> list[dict]:
        return [c[1] for c in self.calls if c[0] == "apply" and c[1]["kind"] == kind]


@pytest.fixture
def client() -> RecordingClient:
    return RecordingClient()


@pytest.fixture
def memo(client) -> kopf.Memo:
    return kopf.Memo(client=client, config=OperatorConfig(namespace="ai-platform"), lock=threading.Lock())


def kopf_kwargs(body: dict, memo: kopf.Memo, **extra) -> dict:
    """The keyword arguments kopf passes a resource handler, built from a real kopf Body."""
    raw = copy.deepcopy(body)
    wrapped = kopf.Body(raw)
    meta = raw["metadata"]
    return {
        "body": wrapped, "spec": wrapped.spec, "meta": wrapped.meta, "status": wrapped.status,
        "name": meta["name"], "namespace": meta.get("namespace"), "uid": meta.get("uid"),
        "labels": wrapped.metadata.labels, "annotations": wrapped.metadata.annotations,
        "patch": kopf.Patch(), "memo": memo, "logger": logging.getLogger("test.handlers"),
        "retry": 0, "started": None, "runtime": None, "diff": (), "old": None, "new": None,
        "reason": "create", "param": None, "resource": None,
        **extra,
    }


def make_object(doc: dict, *, uid: str, created: str, generation: int = 1, status: dict | None = None) -> dict:
    """A resource as the API server would return it."""
    obj = copy.deepcopy(doc)
    obj["metadata"].update(uid=uid, creationTimestamp=created, generation=generation)
    if status is not None:
        obj["status"] = status
    return obj
