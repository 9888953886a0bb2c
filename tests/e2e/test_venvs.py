"""scripts/venv.sh installs a component's local packages (services/kit, services/kit-kserve) without
their dependencies, so `pip check` after that install is what holds requirements.txt to every
dependency they declare; and each component's declared local packages are the ones its code imports."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[2]
LOCAL = {"kit": "ai-platform-kit", "kit_kserve": "ai-platform-kit-kserve"}


def component(tmp_path: Path, name: str, deps: list[str], requirements: str) -> Path:
    """A minimal component folder: a pyproject with `deps`, a package, a requirements.txt."""
    comp = tmp_path / name
    pkg = comp / "src" / name.replace("-", "_")
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    quoted = ", ".join(f'"{d}"' for d in deps)
    (comp / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "0.1.0"\ndependencies = [{quoted}]\n\n'
        '[tool.setuptools.packages.find]\nwhere = ["src"]\n')
    (comp / "requirements.txt").write_text(requirements)
    return comp


def venv_sh(comp: Path, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "AIP_CACHE": str(cache)}
    return subprocess.run(["bash", str(ROOT / "scripts" / "venv.sh"), str(comp)], env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_local_package_dependency_missing_from_requirements_fails_the_venv(tmp_path):
    """kit-kserve declares kserve; a component that uses it without pinning kserve gets no venv."""
    comp = component(tmp_path, "needs-kserve", ["ai-platform-kit-kserve"], "# kserve forgotten\n")
    out = venv_sh(comp, tmp_path / "cache")
    assert out.returncode == 1, out.stderr
    assert "ai-platform-kit-kserve 0.1.0 requires kserve, which is not installed" in out.stderr
    assert "pin the missing dependencies in" in out.stderr
    assert out.stdout == ""
    # not remembered as checked: the next call fails the same way
    again = venv_sh(comp, tmp_path / "cache")
    assert again.returncode == 1 and "requires kserve" in again.stderr


def test_the_core_kit_needs_nothing_but_itself(tmp_path):
    """A component on the core kit only (as the gateway and the test suites are) passes pip check
    with no third-party package at all, and gets kit installed editable from this checkout."""
    comp = component(tmp_path, "core-only", ["ai-platform-kit"], "# nothing\n")
    out = venv_sh(comp, tmp_path / "cache")
    assert out.returncode == 0, out.stderr
    python = Path(out.stdout.strip()) / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import kit.logging, kit.testing, kit.gpu; print(kit.__file__)"],
                           capture_output=True, text=True, check=True).stdout
    assert Path(where.strip()).is_relative_to(ROOT / "services" / "kit" / "src")
    assert subprocess.run([str(python), "-c", "import kit_kserve"], capture_output=True).returncode == 1


def top_level_imports(src: Path, module_level_only: bool = False) -> set[str]:
    names = set()
    for path in src.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = tree.body if module_level_only else ast.walk(tree)
        for node in nodes:
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def declared(folder: Path) -> set[str]:
    project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {d.split(">")[0].split("=")[0].split("[")[0].strip().lower() for d in project.get("dependencies", [])}


COMPONENTS = sorted(p for p in (ROOT / "services").glob("*") if (p / "pyproject.toml").is_file())


@pytest.mark.parametrize("folder", COMPONENTS, ids=lambda p: p.name)
def test_each_component_declares_the_local_packages_it_imports(folder):
    imported = top_level_imports(folder / "src")
    for package, dist in LOCAL.items():
        if package in imported and not (folder / "src" / package).is_dir():  # its own package aside
            assert dist in declared(folder), f"{folder.name} imports {package} but does not declare {dist}"


def test_the_core_kit_imports_only_the_standard_library():
    """What the gateway installs must not pull KServe in: kit's modules import, at module level,
    nothing but the standard library and kit (GPU frameworks are probed lazily, when present)."""
    imported = top_level_imports(ROOT / "services" / "kit" / "src", module_level_only=True)
    assert imported - set(sys.stdlib_module_names) - {"kit", "__future__"} == set()
    assert declared(ROOT / "services" / "kit") == set()
