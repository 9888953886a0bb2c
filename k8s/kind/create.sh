#!/usr/bin/env bash
# Create the kind cluster, ingress-nginx and KServe (Standard mode): `make cluster-up`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/k8s/kserve/versions.env"
mkdir -p "$root/.data/models"
if ! kind get clusters | grep -qx ai-platform; then
  (cd "$root" && kind create cluster --config k8s/kind/cluster.yaml)
fi
kubectl config use-context kind-ai-platform
kubectl apply -f "https://raw.githubusercontent.com/kubernetes/ingress-nginx/${INGRESS_NGINX_VERSION}/deploy/static/provider/kind/deploy.yaml"
kubectl -n ingress-nginx rollout status deploy/ingress-nginx-controller --timeout=300s
bash "$root/k8s/kserve/install.sh" standard
