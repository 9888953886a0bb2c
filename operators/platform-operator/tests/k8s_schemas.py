"""Validation of rendered objects against the Kubernetes schemas (kubernetes-validate, strict)."""

from __future__ import annotations

import copy

import kubernetes_validate

K8S_VERSION = "1.37.0"

# Fields KServe's PredictorSpec adds to the inlined PodSpec (kserve 0.21, V1beta1PredictorSpec).
KSERVE_PREDICTOR_FIELDS = {
    "minReplicas", "maxReplicas", "scaleTarget", "scaleMetric", "scaleMetricType", "containerConcurrency",
    "timeout", "canaryTrafficPercent", "logger", "batcher", "labels", "annotations", "deploymentStrategy",
    "autoScaling", "storageUris", "model", "workerSpec",
}


def validate(obj: dict) -> None:
    """Strictly validate a core Kubernetes object; raises kubernetes_validate.ValidationError."""
    kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def validate_inference_service(isvc: dict) -> None:
    """KServe's CRD schema is not in any pip package: check the metadata and the predictor's PodSpec
    (containers, resources, probes, tolerations, node selector, volumes) strictly as a Pod."""
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1" and isvc["kind"] == "InferenceService"
    assert set(isvc["spec"]) == {"predictor"}
    predictor = copy.deepcopy(isvc["spec"]["predictor"])
    pod_spec = {k: v for k, v in predictor.items() if k not in KSERVE_PREDICTOR_FIELDS}
    validate({"apiVersion": "v1", "kind": "Pod", "metadata": copy.deepcopy(isvc["metadata"]), "spec": pod_spec})
