"""Every Dockerfile, parsed with dockerfile-parse: pinned base images, no `latest`, a non-root
USER in the final stage, and every COPY source present in the build context that skaffold.yaml
and docker-compose give it."""

from __future__ import annotations

import glob
import re

import pytest
from buildfiles import all_dockerfiles, compose_builds, skaffold_builds
from chartkit import ROOT
from dockerfile_parse import DockerfileParser

BUILDS = {dockerfile: context for _, context, dockerfile in skaffold_builds() + compose_builds()}
DOCKERFILES = all_dockerfiles()


def parse(path):
    with open(path, "rb") as handle:  # fileobj: a path not named Dockerfile is taken for a folder
        parser = DockerfileParser(fileobj=handle)
        return [(i["instruction"], i["value"]) for i in parser.structure]


def stages(instructions):
    """[(image, alias)] of every FROM."""
    out = []
    for ins, value in instructions:
        if ins == "FROM":
            words = [w for w in value.split() if not w.startswith("--")]
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            out.append((words[0], alias))
    return out


def test_every_dockerfile_is_built_by_skaffold_or_compose():
    assert len(DOCKERFILES) >= 7
    unbuilt = [str(p.relative_to(ROOT)) for p in DOCKERFILES if p not in BUILDS]
    assert not unbuilt, f"no skaffold artifact or compose service builds {unbuilt}"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_base_images_are_pinned(path):
    froms = stages(parse(path))
    aliases = {alias for _, alias in froms if alias}
    for image, _ in froms:
        if image in aliases:
            continue
        name, _, tag = image.partition("@")[0].rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
        # a digest, or a tag naming a full major.minor.patch release: `3.11-slim` moves under you
        assert "@sha256:" in image or (tag and re.match(r"v?\d+\.\d+\.\d+", tag)), \
            f"{path.name}: base {image} needs a full version tag (major.minor.patch) or a digest"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_final_stage_runs_as_non_root(path):
    instructions = parse(path)
    last_from = max(i for i, (ins, _) in enumerate(instructions) if ins == "FROM")
    users = [value.split(":")[0].strip() for ins, value in instructions[last_from:] if ins == "USER"]
    assert users, f"{path.name}: the final stage sets no USER (runs as root)"
    assert users[-1] not in ("root", "0"), f"{path.name}: USER {users[-1]}"
    text = path.read_text(encoding="utf-8")
    assert not re.search(r":latest\b", text), f"{path.name} mentions :latest"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_copy_sources_exist_in_the_build_context(path):
    context = BUILDS[path]
    copies = 0
    for ins, value in parse(path):
        if ins not in ("COPY", "ADD"):
            continue
        words = value.split()
        if any(w.startswith("--from") for w in words):
            continue
        sources = [w for w in words if not w.startswith("--")][:-1]
        for src in sources:
            copies += 1
            assert glob.glob(str(context / src)), f"{path.name}: COPY {src} not in context {context.relative_to(ROOT) or '.'}"
    assert copies, f"{path.name} copies nothing from its context"
