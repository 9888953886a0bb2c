"""skaffold.yaml: valid against Skaffold's JSON schema for its apiVersion (vendored from the
Skaffold repository), every artifact's Dockerfile exists, the image templates reach every image
the release runs (the operator-made InferenceServices included), and every profile's values
file exists and renders."""

from __future__ import annotations

import re

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from buildfiles import profile_config, skaffold
from chartkit import CHARTS, ROOT, UMBRELLA, name, of_kind, operator_render, pod_specs
from test_render import validate_object

SCHEMAS = Path(__file__).parent / "schemas"
PROFILES = [p["name"] for p in skaffold()["profiles"]]


def schema_for(config: dict) -> dict:
    version = config["apiVersion"].split("/")[1]
    return json.loads((SCHEMAS / f"skaffold-{version}.json").read_text(encoding="utf-8"))


def test_skaffold_yaml_is_valid_for_its_api_version():
    config = skaffold()
    assert config["apiVersion"] == "skaffold/v4beta14"
    jsonschema.Draft7Validator(schema_for(config)).validate(config)


def test_the_schema_rejects_a_typo():
    config = skaffold()
    config["deploy"]["helm"]["releases"][0]["valueFiles"] = ["x.yaml"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema_for(config)).validate(config)


THIRD_PARTY_IMAGES = {"redis"}


@pytest.mark.parametrize("profile", [None, *PROFILES])
def test_every_profile_is_schema_valid_after_its_patches(profile):
    config = profile_config(profile)
    jsonschema.Draft7Validator(schema_for(config)).validate({k: v for k, v in config.items() if k != "profiles"})


@pytest.mark.parametrize("profile", [None, *PROFILES])
def test_artifacts_have_their_dockerfiles(profile):
    for art in profile_config(profile)["build"]["artifacts"]:
        context = ROOT / art["context"]
        assert context.is_dir(), art
        assert (context / art["docker"]["dockerfile"]).is_file(), art
        for rule in art.get("sync", {}).get("manual", []):
            assert list(context.glob(rule["src"])), f"sync src {rule['src']} matches nothing"


def _image_values(config: dict) -> dict[str, str]:
    """setValueTemplates with Skaffold's variables filled in as Skaffold would for a registry."""
    images = {art["image"]: f"registry.test/{art['image']}" for art in config["build"]["artifacts"]}
    out = {}
    release = config["deploy"]["helm"]["releases"][0]
    for key, template in release["setValueTemplates"].items():
        _, kind, image = template.strip("{}. ").split("_", 2)  # IMAGE_REPO_<name>, IMAGE_TAG_<name>
        matches = [i for i in images if i.replace("-", "_").replace(".", "_").replace("/", "_") == image]
        assert len(matches) == 1, f"{template}: no artifact {image}"
        out[key] = images[matches[0]] if kind == "REPO" else "t0123abc"
    assert len(out) == 2 * len(images), "every artifact needs IMAGE_REPO_ and IMAGE_TAG_ templates"
    return out


@pytest.mark.parametrize("profile", [None, *PROFILES])
def test_profile_values_exist_render_and_use_the_built_images(helm, profile):
    config = profile_config(profile)
    (release,) = config["deploy"]["helm"]["releases"]
    assert (ROOT / release["chartPath"]).resolve() == CHARTS / UMBRELLA
    values = [ROOT / v for v in release["valuesFiles"]]
    assert all(v.is_file() for v in values), values
    sets = {**_image_values(config), **release.get("setValues", {})}
    objects = helm.template(UMBRELLA, values, sets=sets, release=release["name"], namespace=release["namespace"])
    for obj in objects:
        validate_object(obj)
    made, notes = operator_render(of_kind(objects, "AIService", "GPUPool"), namespace=release["namespace"])
    assert not notes
    images = [c["image"] for what, _, spec in pod_specs(objects) if not what.startswith("Pod/")
              for c in spec.get("initContainers", []) + spec["containers"]]
    images += [i["spec"]["predictor"]["containers"][0]["image"] for i in of_kind(made, "InferenceService")]
    # third-party images the charts run as they are (the gateway's rate-limit Redis): pinned, not built
    third_party = [i for i in images if i.split(":")[0] in THIRD_PARTY_IMAGES]
    assert all(re.fullmatch(r"[\w./-]+:\d[\w.-]*", i) for i in third_party), third_party
    images = [i for i in images if i not in third_party]
    assert len(images) >= 5
    for image in images:
        assert image.startswith("registry.test/") and image.endswith(":t0123abc"), image
    services = {name(s) for s in of_kind(objects, "Service")}
    for forward in config["portForward"]:
        assert forward["resourceName"] in services and forward["namespace"] == release["namespace"]


def test_profiles_pick_the_right_values_and_dockerfiles():
    kind_cluster = yaml.safe_load((ROOT / "k8s" / "kind" / "cluster.yaml").read_text())["name"]
    by_name = {p["name"]: p for p in skaffold()["profiles"]}
    assert by_name["kind"]["activation"] == [{"kubeContext": f"kind-{kind_cluster}"}]
    assert profile_config("k3s")["deploy"]["helm"]["releases"][0]["valuesFiles"] == ["charts/ai-platform/ci/gpu-values.yaml"]
    gpu_files = {a["docker"]["dockerfile"] for a in profile_config("k3s")["build"]["artifacts"]}
    assert {"services/vlm/Dockerfile.gpu", "services/audio/Dockerfile.gpu"} <= gpu_files
    assert profile_config("cloud")["build"]["local"]["push"] is True
    assert profile_config("kind")["build"]["local"]["push"] is False
    assert by_name["dev"]["activation"] == [{"command": "dev"}]


def test_dev_sync_lands_where_uvicorn_reloads(helm):
    """The gateway artifact's sync rule writes into the emptyDir that the dev chart mounts and
    uvicorn --reload watches."""
    config = profile_config("dev")
    (rule,) = next(a for a in config["build"]["artifacts"] if a["image"] == "gateway")["sync"]["manual"]
    release = config["deploy"]["helm"]["releases"][0]
    objects = helm.template(UMBRELLA, [ROOT / v for v in release["valuesFiles"]], sets=release["setValues"])
    (spec,) = [s for w, _, s in pod_specs(objects) if w == "Deployment/ai-platform-gateway"]
    gateway = spec["containers"][0]
    mount = next(m for m in gateway["volumeMounts"] if m["name"] == "app-src")
    assert mount["mountPath"] == rule["dest"]
    package = rule["src"].removeprefix(rule["strip"]).split("/")[0]
    assert f"{rule['dest']}/{package}" in gateway["command"]
    assert gateway["securityContext"]["readOnlyRootFilesystem"] is True
    validate_object(objects[0])
