#!/usr/bin/env bash
# Create or reuse the virtual environment of one component and print its path.
#
#   scripts/venv.sh services/audio      -> ~/.cache/ai-platform/venvs/audio-<hash>
#
# The venv is keyed by the hash of the component's requirements.txt and the Python version,
# lives outside the checkout (so fresh clones and CI reuse it) and is rebuilt only when that
# hash changes. kit (when the component's pyproject names ai-platform-kit) and the component
# itself are then installed editable, without dependencies, from this checkout.
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
  for old in "$cache/venvs/$name"-*; do
    [ "$old" != "$venv" ] && [ -d "$old" ] && rm -rf "$old"
  done
fi

# Local packages, editable from this checkout; redone only when the checkout path changes.
locals=()
if [ -f "$dir/pyproject.toml" ]; then
  grep -q "ai-platform-kit" "$dir/pyproject.toml" && [ "$dir" != "$root/services/kit" ] && locals+=("$root/services/kit")
  locals+=("$dir")
elif [ -f "$dir/local-packages.txt" ]; then
  while read -r p; do [ -n "$p" ] && locals+=("$root/$p"); done < "$dir/local-packages.txt"
fi
stamp="${locals[*]:-none}"
if [ "${#locals[@]}" -gt 0 ] && [ "$(cat "$venv/.local" 2>/dev/null)" != "$stamp" ]; then
  args=()
  for p in "${locals[@]}"; do args+=(-e "$p"); done
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation "${args[@]}" 2>&1 \
    | grep -v "^WARNING: Location 'file:" >&2 || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "venv.sh: installing local packages failed" >&2; exit 1; }
  echo "$stamp" > "$venv/.local"
fi
echo "$venv"
