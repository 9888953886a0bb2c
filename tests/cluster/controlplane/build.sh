#!/usr/bin/env bash
# Build the test control plane once per version into the cache and print the binary's path.
#
#   bash tests/cluster/controlplane/build.sh      # -> ~/.cache/ai-platform/bin/controlplane-<key>
#
# The key hashes go.mod, go.sum, the Go sources, this script and `go version`, so a warm run costs a hash.
# A cold build downloads the modules through the Go module proxy (GOPROXY, default cache
# ~/go/pkg/mod) and compiles kube-apiserver and kube-controller-manager: minutes, several GB of
# memory. How long it took goes to stderr; the path is the last line of stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="${AIP_CACHE:-$HOME/.cache/ai-platform}/bin"
command -v go >/dev/null || { echo "controlplane: Go is not installed (need go >= 1.25)" >&2; exit 1; }
key="$( (cd "$here" && cat go.mod go.sum ./*.go build.sh && go version) | sha256sum | cut -c1-16)"
binary="$bin_dir/controlplane-$key"
mkdir -p "$bin_dir"
exec 9>"$bin_dir/controlplane.lock"
flock 9
if [ -x "$binary" ]; then
  echo "controlplane: cached $binary (build 0s)" >&2
  echo "$binary"
  exit 0
fi
version=$(grep -m1 'k8s.io/kubernetes v' "$here/go.mod" | awk '{print $2}')   # e.g. v1.35.4
major=${version#v}; major=${major%%.*}; minor=${version#v*.}; minor=${minor%%.*}
echo "controlplane: building $binary (kube-apiserver $version)..." >&2
# the version the API server reports (/version; helm checks a chart's kubeVersion against it),
# set as Kubernetes' own build does (hack/lib/version.sh)
ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
start=$(date +%s)
(cd "$here" && GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath -mod=readonly" nice -n 10 go build -ldflags="$ldflags" -o "$binary.tmp" .) >&2
mv "$binary.tmp" "$binary"
find "$bin_dir" -maxdepth 1 -name 'controlplane-*' ! -name "controlplane-$key" -delete
echo "controlplane: built in $(( $(date +%s) - start ))s" >&2
echo "$binary"
