#!/usr/bin/env bash
# Install cert-manager and KServe at the pinned versions of versions.env.
#   k8s/kserve/install.sh standard   kind, k3s: KServe Standard (raw Deployment + HPA) mode
#   k8s/kserve/install.sh knative    cloud: Knative Serving + Istio, KServe serverless (scale to zero)
# Uses kubectl and helm against the current kube-context.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.env"
mode=${1:-standard}
case "$mode" in standard|knative) ;; *) echo "usage: $0 standard|knative" >&2; exit 2 ;; esac

echo "cert-manager $CERT_MANAGER_VERSION"
kubectl apply --server-side -f "https://github.com/cert-manager/cert-manager/releases/download/${CERT_MANAGER_VERSION}/cert-manager.yaml"
kubectl -n cert-manager rollout status deploy/cert-manager-webhook --timeout=180s

if [ "$mode" = knative ]; then
  echo "Knative Serving $KNATIVE_VERSION + Istio $ISTIO_VERSION"
  kubectl apply -f "https://github.com/knative/serving/releases/download/${KNATIVE_VERSION}/serving-crds.yaml"
  kubectl apply -f "https://github.com/knative/serving/releases/download/${KNATIVE_VERSION}/serving-core.yaml"
  kubectl apply -f "https://github.com/knative/net-istio/releases/download/${KNATIVE_VERSION}/istio.yaml"
  kubectl apply -f "https://github.com/knative/net-istio/releases/download/${KNATIVE_VERSION}/net-istio.yaml"
  kubectl -n knative-serving rollout status deploy/controller --timeout=300s
fi

echo "KServe $KSERVE_VERSION ($mode)"
helm upgrade --install kserve-crd oci://ghcr.io/kserve/charts/kserve-crd --version "$KSERVE_VERSION" \
  --namespace kserve --create-namespace --wait
if [ "$mode" = standard ]; then
  helm upgrade --install kserve oci://ghcr.io/kserve/charts/kserve --version "$KSERVE_VERSION" \
    --namespace kserve --wait \
    --set kserve.controller.deploymentMode=Standard \
    --set kserve.controller.gateway.ingressGateway.className=nginx
else
  helm upgrade --install kserve oci://ghcr.io/kserve/charts/kserve --version "$KSERVE_VERSION" \
    --namespace kserve --wait \
    --set kserve.controller.deploymentMode=Knative
fi
kubectl -n kserve rollout status deploy/kserve-controller-manager --timeout=300s
echo "KServe $KSERVE_VERSION ready ($mode mode)"
