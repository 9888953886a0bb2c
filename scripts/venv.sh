#!/usr/bin/env bash
# Create or reuse the virtual environment of one component and print its path.
#
#   scripts/venv.sh services/audio      -> ~/.cache/ai-platform/venvs/audio-<hash>
#
# The venv is keyed by the hash of the component's requirements.txt and the Python version,
# lives outside the checkout (so fresh clones and CI reuse it) and is rebuilt only when that
# hash changes. The local packages the component's pyproject depends on (services/kit,
# services/kit-kserve, and theirs in turn) and the component itself are then installed editable,
# without dependencies, from this checkout; `pip check` then proves that requirements.txt pins
# every dependency they declare (a missing one fails here, naming it).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 <component-dir>" >&2; exit 2; }
if [ -d "$1" ]; then dir=$(cd "$1" && pwd); else dir=$(cd "$root/$1" && pwd); fi
req="$dir/requirements.txt"
[ -f "$req" ] || { echo "venv.sh: $req is missing" >&2; exit 2; }

name=$(basename "$dir")
[ "$dir" = "$root/tests" ] && name=platform-tests
py=${PYTHON:-python3}
pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
hash=$({ cat "$req"; echo "python=$pyver layout=1"; } | sha256sum | cut -c1-12)
cache=${AIP_CACHE:-$HOME/.cache/ai-platform}
venv="$cache/venvs/$name-$hash"
mkdir -p "$cache/venvs"
SETUPTOOLS_VERSION=84.2.1

exec 9>"$cache/venvs/.$name.lock"
flock 9

if [ ! -f "$venv/.complete" ]; then
  echo "venv.sh: creating $venv from ${req#"$root"/}" >&2
  rm -rf "$venv"
  "$py" -m venv "$venv"
  # setuptools >= 64 builds editable installs without build isolation
  if ! { "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
           $(grep -qi '^setuptools' "$req" || echo "setuptools==$SETUPTOOLS_VERSION") -r "$req" 2>&1 \
         | grep -v "^WARNING: Location 'file:" >&2; [ "${PIPESTATUS[0]}" -eq 0 ]; }; then
    echo "venv.sh: installing ${req#"$root"/} failed" >&2
    rm -rf "$venv"
    exit 1
  fi
  touch "$venv/.complete"
  # drop older venvs of this component
  for old in "$cache/venvs/$name"-????????????; do  # -<hash> exactly: kit-* is not kit-kserve-*
    [ "$old" != "$venv" ] && [ -d "$old" ] && rm -rf "$old"
  done
fi

# Local packages, editable from this checkout; redone (and checked) only when the list changes.
# A component with a pyproject gets the local distributions it depends on (transitively) and
# itself; a component without one (tests/) lists local package folders in local-packages.txt.
locals_list=$("$py" - "$root" "$dir" <<'PY'
import re, sys, tomllib
from pathlib import Path

root, comp = Path(sys.argv[1]), Path(sys.argv[2])


def project(d):
    return tomllib.loads((d / "pyproject.toml").read_text())["project"]


def deps(d):
    return [re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower() for r in project(d).get("dependencies", [])]


dists = {project(d)["name"].lower(): d for d in sorted(root.glob("services/*"))
         if (d / "pyproject.toml").is_file()}
if (comp / "pyproject.toml").is_file():
    wanted = [comp]
else:
    listed = comp / "local-packages.txt"
    wanted = [root / p for p in listed.read_text().split()] if listed.is_file() else []
order = []


def visit(d):
    for name in deps(d):
        if name in dists and dists[name] not in order:
            visit(dists[name])
    if d not in order:
        order.append(d)


for d in wanted:
    visit(d)
print("\n".join(str(d) for d in order))
PY
)  # (a failure here stops the script: set -e)
locals=()
[ -z "$locals_list" ] || mapfile -t locals <<< "$locals_list"
stamp="${locals[*]:-none} pip-check"
if [ "$(cat "$venv/.local" 2>/dev/null)" != "$stamp" ]; then
  if [ "${#locals[@]}" -gt 0 ]; then
    args=()
    for p in "${locals[@]}"; do args+=(-e "$p"); done
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation "${args[@]}" 2>&1 \
      | grep -v "^WARNING: Location 'file:" >&2 || true
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "venv.sh: installing local packages failed" >&2; exit 1; }
  fi
  if ! broken=$("$venv/bin/python" -m pip check --disable-pip-version-check 2>&1); then
    echo "$broken" | sed "s|^|venv.sh: $name: |" >&2
    echo "venv.sh: pin the missing dependencies in ${req#"$root"/}" >&2
    exit 1
  fi
  echo "$stamp" > "$venv/.local"
fi
echo "$venv"
