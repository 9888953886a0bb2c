"""Generate the CustomResourceDefinitions from the pydantic models.

Pydantic's JSON schema is reduced to the structural subset Kubernetes accepts: references are
inlined, optional (`anyOf` with null) fields become plain optional properties, titles and
`additionalProperties: false` go (Kubernetes prunes unknown fields instead), and validation rules
become CEL `x-kubernetes-validations`.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from pydantic import BaseModel

from . import GROUP, VERSION
from .models import (
    AISERVICE_NAME_RULE,
    AISERVICE_RULES,
    GPUPOOL_RULES,
    AIServiceSpec,
    AIServiceStatus,
    GPUPoolSpec,
    GPUPoolStatus,
    Rule,
)

_DROP = {"title", "$defs"}


def _resolve(node, defs: dict):
    if isinstance(node, dict):
        if "$ref" in node:
            target = copy.deepcopy(defs[node["$ref"].split("/")[-1]])
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return _resolve({**target, **extra}, defs)
        return {k: _resolve(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, defs) for v in node]
    return node


def _is_null(node: dict) -> bool:
    return node.get("type") == "null"


def _clean(node):
    """Reduce one resolved JSON-schema node to a Kubernetes structural schema node."""
    if isinstance(node, list):
        return [_clean(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: v for k, v in node.items() if k not in _DROP}
    if "anyOf" in node and any(_is_null(o) for o in node["anyOf"]):
        options = [o for o in node.pop("anyOf") if not _is_null(o)]
        if len(options) != 1:
            raise ValueError(f"cannot express a union of {options} structurally")
        node = {k: v for k, v in {**options[0], **node}.items() if k not in _DROP}
    if node.get("default", 0) is None:
        del node["default"]
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if "properties" in node:
        node["type"] = "object"
        node.pop("additionalProperties", None)
    out = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: _clean(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "anyOf"):
            out[key] = _clean(value)
        else:
            out[key] = value
    for name, sub in out.get("properties", {}).items():
        # An object with all-defaulted fields defaults to {} so Kubernetes fills in its defaults.
        if sub.get("type") == "object" and "properties" in sub and not sub.get("required") \
                and name not in out.get("required", []):
            sub.setdefault("default", {})
    return out


def schema_of(model: type[BaseModel], rules: tuple[Rule, ...] = ()) -> dict:
    """Structural openAPIV3Schema of one model, with its CEL rules."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    schema = _clean(_resolve(raw, raw.get("$defs", {})))
    if rules:
        schema["x-kubernetes-validations"] = [r.as_crd() for r in rules]
    return schema


def _status_schema(model: type[BaseModel]) -> dict:
    schema = schema_of(model)
    conditions = schema["properties"]["conditions"]
    conditions["x-kubernetes-list-type"] = "map"
    conditions["x-kubernetes-list-map-keys"] = ["type"]
    return schema


def _condition_column(kind: str) -> dict:
    return {"name": kind, "type": "string", "jsonPath": f'.status.conditions[?(@.type=="{kind}")].status'}


_AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def _crd(kind: str, plural: str, scope: str, short: list[str], spec: dict, status: dict,
         columns: list[dict], root_rules: tuple[Rule, ...] = ()) -> dict:
    root = {
        "type": "object",
        "description": spec.get("description", ""),
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }
    if root_rules:
        root["x-kubernetes-validations"] = [r.as_crd() for r in root_rules]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}",
                     "labels": {"app.kubernetes.io/part-of": "ai-platform",
                                "app.kubernetes.io/managed-by": "platform-operator"}},
        "spec": {
            "group": GROUP,
            "scope": scope,
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural,
                      "singular": kind.lower(), "shortNames": short, "categories": ["ai-platform"]},
            "versions": [{
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": columns,
                "schema": {"openAPIV3Schema": root},
            }],
        },
    }


def aiservice_crd() -> dict:
    """CRD of the namespaced AIService."""
    columns = [
        {"name": "Task", "type": "string", "jsonPath": ".spec.task"},
        {"name": "GPU-GB", "type": "number", "jsonPath": ".spec.gpu.memoryGB"},
        {"name": "Pool", "type": "string", "jsonPath": ".status.pool"},
        _condition_column("Admitted"),
        _condition_column("Ready"),
        _condition_column("GPUReady"),
        {"name": "URL", "type": "string", "jsonPath": ".status.url", "priority": 1},
        _AGE,
    ]
    return _crd("AIService", "aiservices", "Namespaced", ["ais"],
                schema_of(AIServiceSpec, AISERVICE_RULES), _status_schema(AIServiceStatus), columns,
                (AISERVICE_NAME_RULE,))


def gpupool_crd() -> dict:
    """CRD of the cluster-scoped GPUPool."""
    columns = [
        {"name": "GPU", "type": "string", "jsonPath": ".spec.gpuModel"},
        {"name": "Memory-GB", "type": "number", "jsonPath": ".spec.memoryGB"},
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
        {"name": "Allocated-GB", "type": "number", "jsonPath": ".status.allocatedGB"},
        {"name": "Capacity-GB", "type": "number", "jsonPath": ".status.capacityGB"},
        _AGE,
    ]
    return _crd("GPUPool", "gpupools", "Cluster", ["gpool"],
                schema_of(GPUPoolSpec, GPUPOOL_RULES), _status_schema(GPUPoolStatus), columns)


CRD_FILES = {"aiservices.yaml": aiservice_crd, "gpupools.yaml": gpupool_crd}


def render_yaml(doc: dict) -> str:
    """Stable YAML text of a document."""
    return "# Generated by `python -m platform_operator crds`; do not edit.\n" + \
        yaml.safe_dump(doc, sort_keys=False, width=100)


def write_crds(out: Path) -> list[Path]:
    """Write every CRD file into `out`; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for filename, build in CRD_FILES.items():
        path = out / filename
        path.write_text(render_yaml(build()), encoding="utf-8")
        paths.append(path)
    return paths
