"""docker-compose.yml (and the GPU override) against the Compose Specification's JSON schema, and
every Dockerfile, port and environment variable it names checked against the services."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from buildfiles import COMPOSE_FILES
from chartkit import ROOT

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "compose-spec.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)  # its $schema is draft-07
# compose service -> service folder
FOLDERS = {"vlm-service": "services/vlm", "audio-service": "services/audio", "api-gateway": "services/gateway",
           "web-frontend": "services/web-frontend", "translation-service": "services/translation",
           "document-qa-service": "services/document-qa"}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def service_conf(folder: str) -> dict[str, str]:
    text = (ROOT / folder / "service.conf").read_text(encoding="utf-8")
    return dict(re.findall(r'^([A-Z]+)="?([^"\n]*)"?$', text, re.M))


def settings_vars(folder: str) -> set[str]:
    """Environment variables a Python service reads: its Settings fields with the env prefix (plus
    kit-kserve's ServiceSettings fields), and the ENV lines of its Dockerfiles."""
    names = set()
    for settings in (ROOT / folder / "src").glob("*/settings.py"):
        text = settings.read_text(encoding="utf-8")
        prefix = re.search(r'env_prefix="([A-Z_]+)"', text).group(1)
        fields = re.findall(r"^    ([a-z_][a-z0-9_]*)\s*:", text, re.M)
        if "ServiceSettings" in text:
            kit = (ROOT / "services" / "kit-kserve" / "src" / "kit_kserve" / "settings.py").read_text(encoding="utf-8")
            fields += re.findall(r"^    ([a-z_][a-z0-9_]*)\s*:", kit, re.M)
        names |= {prefix + f.upper() for f in fields if f != "model_config"}
    for dockerfile in (ROOT / folder).glob("Dockerfile*"):
        names |= set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", dockerfile.read_text(encoding="utf-8")))
    return names


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_file_is_valid_against_the_compose_spec(path):
    VALIDATOR.validate(load(path))


def test_the_schema_rejects_a_broken_file():
    broken = load(COMPOSE_FILES[0])
    broken["services"]["api-gateway"]["portz"] = ["8090:8090"]
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(broken)


def test_every_service_with_a_dockerfile_is_in_compose():
    services = load(COMPOSE_FILES[0])["services"]
    assert set(services) == set(FOLDERS)
    with_dockerfile = {str(p.parent.relative_to(ROOT)) for p in ROOT.glob("services/*/Dockerfile")}
    assert with_dockerfile == set(FOLDERS.values())


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_dockerfiles_ports_and_variables_exist(path):
    for name, svc in load(path)["services"].items():
        folder = FOLDERS[name]
        build = svc.get("build")
        if build:
            context = ROOT / build["context"]
            assert (context / build.get("dockerfile", "Dockerfile")).is_file(), f"{name}: {build}"
            assert str(context.resolve()).startswith(str(ROOT))
        port = service_conf(folder)["PORT"]
        for mapping in svc.get("ports", []):
            host, container = mapping.split(":")
            assert host == container == port, f"{name}: {mapping} (service.conf PORT={port})"
        known = settings_vars(folder) if (ROOT / folder / "src").is_dir() and list((ROOT / folder / "src").glob("*/settings.py")) \
            else set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", (ROOT / folder / "Dockerfile").read_text()))
        for var in svc.get("environment", {}):
            assert var in known, f"{name}: {var} is not a setting of {folder}"
        for check in [svc.get("healthcheck", {}).get("test", [])]:
            text = " ".join(check)
            if "127.0.0.1:" in text:
                assert f"127.0.0.1:{port}/" in text, f"{name}: health check on the wrong port"


def test_gpu_override_reserves_the_gpu_with_a_memory_budget():
    gpu = load(COMPOSE_FILES[1])["services"]
    for name in ("vlm-service", "audio-service"):
        devices = gpu[name]["deploy"]["resources"]["reservations"]["devices"]
        assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
        assert gpu[name]["build"]["dockerfile"].endswith("Dockerfile.gpu")
        budgets = [float(v) for k, v in gpu[name]["environment"].items() if k.endswith("_MAX_MEMORY_GB")]
        assert len(budgets) == 1
    assert sum(float(v) for s in gpu.values() for k, v in s["environment"].items()
               if k.endswith("_MAX_MEMORY_GB")) <= 15, "budgets exceed the RTX 5060 Ti's 16 GB less 1 GB reserve"


def test_health_checks_state_and_no_secrets():
    services = load(COMPOSE_FILES[0])["services"]
    for name, svc in services.items():
        assert svc.get("healthcheck"), f"{name}: no health check"
        assert svc.get("read_only") is True and svc.get("cap_drop") == ["ALL"], name
    assert "gateway-data:/data" in services["api-gateway"]["volumes"]
    keys = services["api-gateway"]["environment"]["GATEWAY_API_KEYS"]
    assert keys.startswith("${GATEWAY_API_KEYS:?"), "API keys come from the environment, never the file"
