"""The operator's CRD schemas: validation of AIService/GPUPool objects and the model-service
chart's values schema for `aiService`, derived from the AIService CRD so the two cannot drift.

    python tests/charts/crdschema.py     # rewrites charts/model-service/values.schema.json
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = ROOT / "operators" / "platform-operator" / "crds"
MODEL_SERVICE_SCHEMA = ROOT / "charts" / "model-service" / "values.schema.json"
KINDS = {"AIService": "aiservices.yaml", "GPUPool": "gpupools.yaml"}


def crd(kind: str) -> dict:
    return yaml.safe_load((CRD_DIR / KINDS[kind]).read_text(encoding="utf-8"))


def object_schema(kind: str) -> dict:
    """openAPIV3Schema of the served version, made strict (unknown fields are errors)."""
    version = next(v for v in crd(kind)["spec"]["versions"] if v.get("served"))
    return strict(version["schema"]["openAPIV3Schema"])


def strict(schema: dict) -> dict:
    """A JSON Schema from an OpenAPI v3 structural schema: drop x-kubernetes-* and defaults,
    forbid properties that are not declared."""
    out = {}
    for key, value in schema.items():
        if key.startswith("x-kubernetes-") or key == "default":
            continue
        if key == "properties":
            out[key] = {k: strict(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = strict(value)
        elif key in ("anyOf", "allOf", "oneOf"):
            out[key] = [strict(v) for v in value]
        else:
            out[key] = copy.deepcopy(value)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def aiservice_values_schema() -> dict:
    """`aiService` in the model-service values: the AIService spec without `image` (the chart sets
    it from image.repository/tag) and without required fields (a preset may supply them)."""
    spec = strict(object_schema("AIService")["properties"]["spec"])
    spec["properties"].pop("image")
    spec.pop("required", None)
    spec["description"] = "AIService spec fields (the CRD's), merged over the preset's; image comes from image.*"
    return spec


def presets() -> list[str]:
    """The model-service chart's presets (charts/model-service/presets/<name>.yaml), sorted."""
    return sorted(p.stem for p in (MODEL_SERVICE_SCHEMA.parent / "presets").glob("*.yaml"))


def model_service_values_schema() -> dict:
    image = {
        "type": "object", "additionalProperties": False,
        "properties": {"repository": {"type": "string"}, "tag": {"type": "string", "not": {"const": "latest"}}},
    }
    string_map = {"type": "object", "additionalProperties": {"type": "string"}}
    return {
        "$schema": "https://json-schema.org/draft-07/schema#",
        "title": "model-service values (aiService generated from the AIService CRD by tests/charts/crdschema.py)",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "global": {"type": "object"},
            "enabled": {"type": "boolean"},
            "nameOverride": {"type": "string"},
            "fullnameOverride": {"type": "string"},
            "preset": {"enum": ["", *presets()]},
            "name": {"type": "string", "pattern": "^([a-z]([-a-z0-9]*[a-z0-9])?)?$", "maxLength": 45},
            "image": image,
            "aiService": aiservice_values_schema(),
            "networkPolicy": {
                "type": "object", "additionalProperties": False,
                "properties": {
                    "enabled": {"type": "boolean"},
                    "ports": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 65535}},
                    "extraIngressFrom": {"type": "array", "items": {"type": "object"}},
                },
            },
            "podMonitor": {
                "type": "object", "additionalProperties": False,
                "properties": {"enabled": {"type": "boolean"}, "port": {"type": "string"},
                               "interval": {"type": "string"}, "labels": string_map},
            },
            "keda": {
                "type": "object", "additionalProperties": False,
                "properties": {
                    "enabled": {"type": "boolean"},
                    "serverAddress": {"type": "string", "pattern": "^https?://"},
                    "metric": {"type": "string", "pattern": "^[a-zA-Z_:][a-zA-Z0-9_:]*$"},
                    "threshold": {"type": "number", "exclusiveMinimum": 0},
                    "pollingInterval": {"type": "integer", "minimum": 1},
                    "cooldownPeriod": {"type": "integer", "minimum": 0},
                },
            },
            "tests": {
                "type": "object", "additionalProperties": False,
                "properties": {"enabled": {"type": "boolean"}, "image": image},
            },
            "chroma": {
                "type": "object", "additionalProperties": False,
                "properties": {
                    "enabled": {"type": "boolean"},
                    "image": {
                        "type": "object", "additionalProperties": False,
                        "properties": {
                            "repository": {"type": "string", "minLength": 1},
                            "tag": {"type": "string", "minLength": 1, "not": {"const": "latest"}},
                            "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
                        },
                    },
                    "persistence": {
                        "type": "object", "additionalProperties": False,
                        "properties": {
                            "enabled": {"type": "boolean"},
                            "size": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?([EPTGMK]i?)?$"},
                            "storageClass": {"type": "string"},
                        },
                    },
                    "resources": {"type": "object"},
                },
            },
        },
    }


def dump(schema: dict) -> str:
    return json.dumps(schema, indent=2) + "\n"


if __name__ == "__main__":
    MODEL_SERVICE_SCHEMA.write_text(dump(model_service_values_schema()), encoding="utf-8")
    sys.stdout.write(f"wrote {MODEL_SERVICE_SCHEMA.relative_to(ROOT)}\n")
