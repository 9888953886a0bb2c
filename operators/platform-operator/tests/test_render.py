"""The InferenceService rendered for each task and option, validated against Kubernetes schemas."""

import pytest
from k8s_schemas import validate_inference_service

from platform_operator.models import AIServiceSpec, GPUPoolSpec
from platform_operator.render import Owner, env_prefix, inference_service, model_name

OWNER = Owner("svc", "ai-platform", "1b4e28ba-2fa1-11d2-883f-0016d3cca427")
POOL = GPUPoolSpec.model_validate({"gpuModel": "RTX 5060 Ti", "memoryGB": 16, "replicas": 4,
                                   "renameByDefault": True, "reserveGB": 1,
                                   "nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-GeForce-RTX-5060-Ti"}})


def spec(**fields) -> AIServiceSpec:
    return AIServiceSpec.model_validate({"task": "custom", "image": "example/model:1", **fields})


def container(isvc: dict) -> dict:
    (only,) = isvc["spec"]["predictor"]["containers"]
    return only


def env(isvc: dict) -> dict:
    return {e["name"]: e["value"] for e in container(isvc)["env"]}


@pytest.mark.parametrize("task,model,prefix", [
    ("transcription", "audio", "AUDIO"),
    ("statement-extraction", "vlm", "VLM"),
    ("document-qa", "document-qa", "DOCQA"),
    ("translation", "translation", "TRANSLATION"),
    ("custom", "svc", "SVC"),
])
def test_every_task_renders_a_valid_inference_service(task, model, prefix):
    s = spec(task=task, gpu={"memoryGB": 2.5})
    isvc = inference_service(OWNER, s, POOL)
    validate_inference_service(isvc)
    assert (model_name("svc", s), env_prefix("svc", s)) == (model, prefix)
    assert container(isvc)["name"] == "kserve-container"
    assert container(isvc)["readinessProbe"]["httpGet"] == {"path": f"/v2/models/{model}/ready", "port": 8080}
    assert env(isvc)[f"{prefix}_MAX_MEMORY_GB"] == "2.5"
    assert env(isvc)[f"{prefix}_PORT"] == "8080"
    assert isvc["metadata"]["labels"]["platform.ai-platform.dev/task"] == task


def test_custom_service_takes_explicit_prefix_and_model_name():
    s = spec(envPrefix="MY_LLM", modelName="llm", gpu={"memoryGB": 4})
    isvc = inference_service(Owner("my-llm", "team", "u"), s, POOL)
    assert env(isvc)["MY_LLM_MAX_MEMORY_GB"] == "4"
    assert container(isvc)["readinessProbe"]["httpGet"]["path"] == "/v2/models/llm/ready"
    derived = inference_service(Owner("my-llm", "team", "u"), spec(gpu={"memoryGB": 1}), POOL)
    assert "MY_LLM_MAX_MEMORY_GB" in env(derived)


def test_shared_gpu_when_the_pool_renames():
    isvc = inference_service(OWNER, spec(gpu={"memoryGB": 2}), POOL)
    resources = container(isvc)["resources"]
    assert resources["limits"]["nvidia.com/gpu.shared"] == "1"
    assert "nvidia.com/gpu" not in resources["limits"]
    predictor = isvc["spec"]["predictor"]
    assert predictor["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-GeForce-RTX-5060-Ti"}
    assert predictor["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_plain_gpu_resource_when_the_pool_does_not_rename():
    pool = POOL.model_copy(update={"rename_by_default": False, "node_selector": {}})
    isvc = inference_service(OWNER, spec(gpu={"memoryGB": 2}), pool)
    validate_inference_service(isvc)
    assert container(isvc)["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert "nodeSelector" not in isvc["spec"]["predictor"]


def test_cpu_only_service_has_no_gpu_anything():
    isvc = inference_service(OWNER, spec(resources={"cpu": 2, "memory": "4Gi", "cpuLimit": "3",
                                                    "memoryLimit": "5Gi"}))
    validate_inference_service(isvc)
    resources = container(isvc)["resources"]
    assert resources == {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"memory": "5Gi", "cpu": "3"}}
    assert not [k for k in env(isvc) if k.endswith("_MAX_MEMORY_GB")]
    assert "tolerations" not in isvc["spec"]["predictor"] and "nodeSelector" not in isvc["spec"]["predictor"]


def test_memory_limit_defaults_to_the_request():
    resources = container(inference_service(OWNER, spec(resources={"memory": "3Gi"})))["resources"]
    assert resources["limits"] == {"memory": "3Gi"} and resources["requests"]["memory"] == "3Gi"


@pytest.mark.parametrize("uri", ["hf://Systran/faster-whisper-small", "pvc://models/qwen", "s3://bucket/model"])
def test_model_uri_becomes_the_storage_uri(uri):
    isvc = inference_service(OWNER, spec(task="transcription", modelURI=uri))
    assert env(isvc)["STORAGE_URI"] == uri
    assert env(isvc)["AUDIO_MODEL"] == "/mnt/models"


def test_no_model_uri_no_storage_uri():
    assert "STORAGE_URI" not in env(inference_service(OWNER, spec()))


def test_env_and_args_pass_through_and_env_wins():
    isvc = inference_service(OWNER, spec(args=["--workers", "2"], env={"SVC_PORT": "9000", "HF_HOME": "/tmp/hf"}))
    assert container(isvc)["args"] == ["--workers", "2"]
    assert env(isvc)["SVC_PORT"] == "9000" and env(isvc)["HF_HOME"] == "/tmp/hf"
    names = [e["name"] for e in container(isvc)["env"]]
    assert names == sorted(names)


def test_standard_mode_scales_with_the_hpa():
    isvc = inference_service(OWNER, spec(scaling={"minReplicas": 1, "maxReplicas": 3, "scaleTarget": 70}))
    validate_inference_service(isvc)
    predictor, ann = isvc["spec"]["predictor"], isvc["metadata"]["annotations"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (1, 3)
    assert (predictor["scaleMetric"], predictor["scaleTarget"]) == ("cpu", 70)
    assert ann["serving.kserve.io/deploymentMode"] == "Standard"
    assert ann["serving.kserve.io/autoscalerClass"] == "hpa"
    assert "containerConcurrency" not in predictor and "startupProbe" in container(isvc)


def test_external_autoscaler_leaves_the_replica_count_to_keda():
    """With scaling.autoscaler 'external' KServe makes no HPA: the bounds stay, no metric or target."""
    isvc = inference_service(OWNER, spec(scaling={"minReplicas": 1, "maxReplicas": 4, "autoscaler": "external"}))
    validate_inference_service(isvc)
    predictor, ann = isvc["spec"]["predictor"], isvc["metadata"]["annotations"]
    assert ann["serving.kserve.io/autoscalerClass"] == "external"
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (1, 4)
    assert "scaleMetric" not in predictor and "scaleTarget" not in predictor


def test_knative_mode_scales_to_zero_on_concurrency():
    isvc = inference_service(OWNER, spec(deploymentMode="Knative", scaling={"minReplicas": 0, "maxReplicas": 2},
                                         route={"maxConcurrency": 6}))
    validate_inference_service(isvc)
    predictor, ann = isvc["spec"]["predictor"], isvc["metadata"]["annotations"]
    assert predictor["minReplicas"] == 0
    assert (predictor["scaleMetric"], predictor["scaleTarget"], predictor["containerConcurrency"]) == \
        ("concurrency", 6, 6)
    assert ann["serving.kserve.io/deploymentMode"] == "Knative"
    assert "serving.kserve.io/autoscalerClass" not in ann and "startupProbe" not in container(isvc)


def test_fixed_replicas_need_no_scale_target():
    predictor = inference_service(OWNER, spec())["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (1, 1)
    assert "scaleTarget" not in predictor and "scaleMetric" not in predictor


def test_prometheus_scraping_and_ownership():
    isvc = inference_service(OWNER, spec())
    ann = isvc["metadata"]["annotations"]
    assert ann["serving.kserve.io/enable-prometheus-scraping"] == "true"
    assert (ann["prometheus.io/scrape"], ann["prometheus.io/port"], ann["prometheus.io/path"]) == \
        ("true", "8080", "/metrics")
    assert isvc["metadata"]["ownerReferences"] == [{
        "apiVersion": "platform.ai-platform.dev/v1alpha1", "kind": "AIService", "name": "svc",
        "uid": OWNER.uid, "controller": True, "blockOwnerDeletion": True}]
    assert (isvc["metadata"]["name"], isvc["metadata"]["namespace"]) == ("svc", "ai-platform")


def test_container_is_locked_down():
    c = container(inference_service(OWNER, spec()))
    ctx = c["securityContext"]
    assert ctx["runAsNonRoot"] and ctx["readOnlyRootFilesystem"] and not ctx["allowPrivilegeEscalation"]
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert c["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]


def test_rendering_is_deterministic():
    s = spec(task="document-qa", gpu={"memoryGB": 3}, env={"B": "2", "A": "1"})
    assert inference_service(OWNER, s, POOL) == inference_service(OWNER, s, POOL)
