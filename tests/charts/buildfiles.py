"""What builds the images: skaffold.yaml artifacts (with every profile's patches) and the compose
files; shared by the Dockerfile, compose and skaffold tests."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from chartkit import ROOT

SKAFFOLD = ROOT / "skaffold.yaml"
COMPOSE_FILES = (ROOT / "docker-compose.yml", ROOT / "docker-compose.gpu.yml")


def skaffold() -> dict:
    return yaml.safe_load(SKAFFOLD.read_text(encoding="utf-8"))


def _pointer(path: str) -> list:
    return [int(p) if p.isdigit() else p.replace("~1", "/").replace("~0", "~") for p in path.strip("/").split("/")]


def apply_patches(config: dict, patches: list[dict]) -> dict:
    """JSON Patch (RFC 6902) add/replace/remove, as Skaffold applies a profile's `patches`."""
    out = copy.deepcopy(config)
    for patch in patches:
        *parents, last = _pointer(patch["path"])
        node = out
        for part in parents:
            node = node[part]
        op = patch["op"]
        if op == "add":
            if isinstance(node, list):
                node.insert(len(node) if last == "-" else last, patch["value"])
            else:
                node[last] = patch["value"]
        elif op == "replace":
            node[last]  # KeyError/IndexError: the path must exist
            node[last] = patch["value"]
        elif op == "remove":
            del node[last]
        else:
            raise ValueError(f"unsupported patch op {op}")
    return out


def profile_config(name: str | None) -> dict:
    """skaffold.yaml as a profile sees it: top-level fields overridden by the profile's, then its patches."""
    base = skaffold()
    if name is None:
        return base
    profile = next(p for p in base["profiles"] if p["name"] == name)
    config = copy.deepcopy(base)
    for key in ("build", "deploy", "portForward", "manifests", "test", "verify"):
        if key in profile:
            if key == "build":
                config["build"] = {**config["build"], **profile["build"]}
            else:
                config[key] = profile[key]
    return apply_patches(config, profile.get("patches", []))


def skaffold_builds() -> list[tuple[str, Path, Path]]:
    """(image, context, Dockerfile) of every artifact in every profile (and none)."""
    out = set()
    names = [None] + [p["name"] for p in skaffold()["profiles"]]
    for profile in names:
        for art in profile_config(profile)["build"]["artifacts"]:
            context = ROOT / art.get("context", ".")
            dockerfile = context / art.get("docker", {}).get("dockerfile", "Dockerfile")
            out.add((art["image"], context, dockerfile))
    return sorted(out)


def compose_builds() -> list[tuple[str, Path, Path]]:
    out = []
    for path in COMPOSE_FILES:
        for name, svc in yaml.safe_load(path.read_text(encoding="utf-8"))["services"].items():
            build = svc.get("build")
            if build:
                context = ROOT / build["context"]
                out.append((name, context, context / build.get("dockerfile", "Dockerfile")))
    return out


def all_dockerfiles() -> list[Path]:
    return sorted(list(ROOT.glob("services/*/Dockerfile*")) + list(ROOT.glob("operators/*/Dockerfile*")))
