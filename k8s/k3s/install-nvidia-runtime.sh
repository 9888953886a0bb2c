#!/usr/bin/env bash
# NVIDIA Container Toolkit for k3s on Ubuntu/Debian (run as root on the GPU host), then k3s.
# k3s finds nvidia-container-runtime at start and adds the "nvidia" runtime to its containerd.
set -euo pipefail
source "$(dirname "$0")/../kserve/versions.env"

curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey \
  | gpg --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg
curl -fsSL https://nvidia.github.io/libnvidia-container/stable/deb/nvidia-container-toolkit.list \
  | sed 's#deb https://#deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://#' \
  > /etc/apt/sources.list.d/nvidia-container-toolkit.list
apt-get update
apt-get install -y --no-install-recommends "nvidia-container-toolkit=${NVIDIA_CONTAINER_TOOLKIT_VERSION}"

# k3s at the pinned version; its containerd gets the nvidia runtime automatically
curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION="${K3S_VERSION}" sh -s - --write-kubeconfig-mode 0644
kubectl apply -f "$(dirname "$0")/runtimeclass-nvidia.yaml"
# label the GPU node for the GPUPool's nodeSelector and the device plugin
kubectl label node "$(hostname)" nvidia.com/gpu.present=true --overwrite
