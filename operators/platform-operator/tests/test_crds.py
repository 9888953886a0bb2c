"""Generated CRDs: in sync with the models, structural, and accepting exactly the valid examples."""

import copy
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import ROOT
from k8s_schemas import validate

from platform_operator import GROUP, VERSION
from platform_operator.__main__ import main
from platform_operator.crd import CRD_FILES, aiservice_crd, gpupool_crd, render_yaml
from platform_operator.models import AISERVICE_RULES, GPUPOOL_RULES

CRDS = {"AIService": aiservice_crd(), "GPUPool": gpupool_crd()}


@pytest.mark.parametrize("filename", sorted(CRD_FILES))
def test_committed_crd_files_match_the_models(filename):
    committed = (ROOT / "crds" / filename).read_text(encoding="utf-8")
    assert committed == render_yaml(CRD_FILES[filename]()), \
        "CRD out of date: run `python -m platform_operator crds --out crds/`"


def test_crds_command_writes_the_same_files(tmp_path: Path, capsys):
    assert main(["crds", "--out", str(tmp_path)]) == 0
    for filename in CRD_FILES:
        assert (tmp_path / filename).read_text() == (ROOT / "crds" / filename).read_text()
    assert "aiservices.yaml" in capsys.readouterr().out


def _walk(node, path="$"):
    yield path, node
    for key in ("properties",):
        for name, sub in node.get(key, {}).items():
            yield from _walk(sub, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from _walk(node[key], f"{path}[{key}]")


def _schema(kind: str) -> dict:
    return CRDS[kind]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_schema_is_structural(kind):
    for path, node in _walk(_schema(kind)):
        assert "$ref" not in node and "title" not in node and "$defs" not in node, path
        assert node.get("default", "x") is not None, path
        if node.get("x-kubernetes-int-or-string"):
            assert node["anyOf"] == [{"type": "integer"}, {"type": "string"}], path
            continue
        assert "anyOf" not in node and "oneOf" not in node, path
        assert node.get("type") in {"object", "array", "string", "integer", "number", "boolean"}, path
        if "properties" in node:
            assert "additionalProperties" not in node, path
            for required in node.get("required", []):
                assert required in node["properties"], path


@pytest.mark.parametrize("kind,scope,plural", [("AIService", "Namespaced", "aiservices"),
                                               ("GPUPool", "Cluster", "gpupools")])
def test_crd_identity_status_and_columns(kind, scope, plural):
    crd = CRDS[kind]
    assert crd["metadata"]["name"] == f"{plural}.{GROUP}"
    assert crd["spec"]["scope"] == scope and crd["spec"]["names"]["kind"] == kind
    version = crd["spec"]["versions"][0]
    assert version["name"] == VERSION and version["served"] and version["storage"]
    assert version["subresources"] == {"status": {}}
    conditions = _schema(kind)["properties"]["status"]["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map" and conditions["x-kubernetes-list-map-keys"] == ["type"]
    for column in version["additionalPrinterColumns"]:
        field = re.match(r"^\.(spec|status|metadata)\.(\w+)", column["jsonPath"])
        assert field, column
        section, name = field.groups()
        if section != "metadata":
            assert name in _schema(kind)["properties"][section]["properties"], column


@pytest.mark.parametrize("kind,rules", [("AIService", AISERVICE_RULES), ("GPUPool", GPUPOOL_RULES)])
def test_cel_rules_are_present_and_well_formed(kind, rules):
    spec = _schema(kind)["properties"]["spec"]
    assert spec["x-kubernetes-validations"] == [r.as_crd() for r in rules] and rules
    for rule in spec["x-kubernetes-validations"]:
        cel = rule["rule"]
        assert rule["message"]
        assert cel.count("(") == cel.count(")") and cel.count("[") == cel.count("]") and cel.count("'") % 2 == 0
        for ref in re.findall(r"self((?:\.\w+)+)", cel):  # every field a rule names exists
            node = spec
            for part in ref.strip(".").split("."):
                node = node["properties"][part]


def _strict(schema):
    """Emulate `kubectl --validate=strict`: unknown fields are errors, not pruned."""
    schema = copy.deepcopy(schema)
    for _, node in _walk(schema):
        if "properties" in node and node is not schema["properties"]["metadata"]:
            node["additionalProperties"] = False
    return schema


def _validator(kind):
    return jsonschema.Draft4Validator(_strict(_schema(kind)))


def test_every_example_validates_against_its_crd(examples):
    assert {d["kind"] for d in examples.values()} == {"AIService", "GPUPool"}
    for name, doc in examples.items():
        errors = list(_validator(doc["kind"]).iter_errors(doc))
        assert not errors, f"{name}: {[e.message for e in errors]}"


@pytest.mark.parametrize("change,fragment", [
    (lambda s: s.update(task="summarise"), "summarise"),
    (lambda s: s.update(gpu={"memoryGB": "lots"}), "lots"),
    (lambda s: s.update(scaling={"maxReplicas": 0}), "0"),
    (lambda s: s.update(typo=True), "typo"),
    (lambda s: s.pop("image"), "image"),
    (lambda s: s["route"].update(resource="Bad_Name"), "Bad_Name"),
])
def test_invalid_aiservices_fail_the_crd_schema(examples, change, fragment):
    doc = copy.deepcopy(examples["audio"])
    change(doc["spec"])
    errors = [e.message for e in _validator("AIService").iter_errors(doc)]
    assert errors and any(fragment in m for m in errors), errors


def test_gpupool_example_is_the_rtx_5060_ti(examples):
    spec = examples["gpupool-rtx5060ti"]["spec"]
    assert (spec["memoryGB"], spec["replicas"], spec["renameByDefault"], spec["reserveGB"]) == (16, 4, True, 1)
    assert yaml.safe_load(render_yaml(CRDS["GPUPool"]))["spec"]["names"]["shortNames"] == ["gpool"]


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_crds_validate_against_the_apiextensions_schema(kind):
    validate(CRDS[kind])
