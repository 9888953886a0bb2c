#!/usr/bin/env bash
# Install NVIDIA's device plugin with time-slicing at the pinned version of k8s/kserve/versions.env.
# Run after the platform chart: the chart creates the GPUPool, the operator writes the
# time-slicing ConfigMap that device-plugin-values.yaml names.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../kserve/versions.env"
helm repo add nvdp https://nvidia.github.io/k8s-device-plugin >/dev/null
helm repo update nvdp >/dev/null
helm upgrade --install nvdp nvdp/nvidia-device-plugin --version "$NVIDIA_DEVICE_PLUGIN_VERSION" \
  -n nvidia-device-plugin --create-namespace -f "$here/device-plugin-values.yaml"
kubectl get node -o jsonpath='{.items[*].status.allocatable}'; echo
