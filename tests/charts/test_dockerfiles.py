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


GPU_DOCKERFILES = sorted(ROOT.glob("services/*/Dockerfile.gpu"))


def _requirement(service_dir, name: str) -> str:
    for line in (service_dir / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if re.match(rf"{name}==", line.strip()):
            return line.strip().split("==", 1)[1]
    raise AssertionError(f"{service_dir.name}/requirements.txt does not pin {name}")


@pytest.mark.parametrize("path", GPU_DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_gpu_images_pin_a_cuda_base_of_at_least_12_8(path):
    """Blackwell (sm_120, the RTX 5060 Ti) needs CUDA 12.8+: every stage starts from such a base."""
    bases = [image for image, _ in stages(parse(path)) if image not in {a for _, a in stages(parse(path)) if a}]
    assert bases
    for image in bases:
        m = re.fullmatch(r"nvidia/cuda:(\d+)\.(\d+)\.(\d+)-(cudnn-)?runtime-ubuntu\d+\.\d+", image)
        assert m, f"{path.name}: {image} is not a pinned nvidia/cuda runtime image"
        assert (int(m.group(1)), int(m.group(2))) >= (12, 8), f"{path.name}: {image} is older than CUDA 12.8"


@pytest.mark.parametrize("path", GPU_DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_gpu_images_pin_wheels_with_sm_120(path):
    """torch from PyTorch's cu128+ index at the service's pinned version (+cuXYZ), torchvision at its
    matching release; everything else pinned by the service's requirements.txt."""
    runs = " ".join(value for ins, value in parse(path) if ins == "RUN")
    service = path.parent
    for pkg in re.findall(r"\b(torch|torchvision|torchaudio)(?:==|\b)", runs):
        assert re.search(rf"\b{pkg}==[0-9.]+\+cu1(2[89]|[3-9]\d)\b", runs), f"{path.name}: {pkg} unpinned or not a cu128+ build"
    if re.search(r"\btorch==", runs):
        index = re.search(r"--(?:extra-)?index-url\s+https://download\.pytorch\.org/whl/cu(\d+)", runs)
        assert index and int(index.group(1)) >= 128, f"{path.name}: torch must come from the cu128+ index"
        version = re.search(r"\btorch==([0-9.]+)\+cu", runs).group(1)
        assert version == _requirement(service, "torch"), f"{path.name}: torch {version} is not requirements.txt's"
    if re.search(r"\bctranslate2\b", runs):
        assert "-c requirements.txt" in runs, f"{path.name}: ctranslate2 is not held to requirements.txt"
        _requirement(service, "ctranslate2")
    assert re.search(r"pip install[^&]*-(r|c) [^ ]*req", runs), f"{path.name}: installs without the pinned requirements"


@pytest.mark.parametrize("path", GPU_DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_gpu_images_health_check_reports_the_gpu_check(path):
    checks = [value for ins, value in parse(path) if ins == "HEALTHCHECK"]
    assert len(checks) == 1 and '"kit.gpu", "health"' in checks[0], f"{path.name}: {checks}"
    port = re.search(r'"--port", "(\d+)"', checks[0]).group(1)
    conf = (path.parent / "service.conf").read_text(encoding="utf-8")
    assert f"PORT={port}" in conf, f"{path.name}: the health check asks port {port}, not the service's"
    assert "--start-period" in checks[0]


def test_there_are_gpu_images_for_the_gpu_services():
    assert {p.parent.name for p in GPU_DOCKERFILES} >= {"audio", "vlm"}
