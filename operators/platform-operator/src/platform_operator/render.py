"""Pure rendering of the KServe InferenceService an AIService stands for."""

from __future__ import annotations

from dataclasses import dataclass

from . import API_VERSION
from .catalog import TASK_DEFAULTS, env_prefix_for
from .models import AIServiceSpec, GPUPoolSpec

ISVC_API_VERSION = "serving.kserve.io/v1beta1"
LABEL_SERVICE = "platform.ai-platform.dev/aiservice"
LABEL_TASK = "platform.ai-platform.dev/task"
MANAGED_BY = {"app.kubernetes.io/managed-by": "platform-operator", "app.kubernetes.io/part-of": "ai-platform"}
GPU_RESOURCE = "nvidia.com/gpu"
GPU_SHARED_RESOURCE = "nvidia.com/gpu.shared"
TERMINATION_LOG = "/dev/termination-log"


@dataclass(frozen=True)
class Owner:
    """Identity of the AIService that owns rendered objects."""

    name: str
    namespace: str
    uid: str

    def reference(self) -> dict:
        return {"apiVersion": API_VERSION, "kind": "AIService", "name": self.name, "uid": self.uid,
                "controller": True, "blockOwnerDeletion": True}


def model_name(name: str, spec: AIServiceSpec) -> str:
    """KServe model name: explicit, else the task's, else the resource name."""
    return spec.model_name or TASK_DEFAULTS[spec.task].model or name


def env_prefix(name: str, spec: AIServiceSpec) -> str:
    """Prefix of `<SERVICE>_*` variables: explicit, else the task's, else from the resource name."""
    return spec.env_prefix or TASK_DEFAULTS[spec.task].env_prefix or env_prefix_for(name)


def predictor_host(name: str, namespace: str) -> str:
    """Cluster DNS name of the predictor service KServe creates."""
    return f"{name}-predictor.{namespace}.svc.cluster.local"


def _gb(value: float) -> str:
    return f"{value:g}"


def _env(name: str, spec: AIServiceSpec, port: int) -> list[dict]:
    prefix = env_prefix(name, spec)
    env = {f"{prefix}_PORT": str(port), f"{prefix}_GRPC_PORT": str(port + 1)}
    if spec.model_uri:
        # KServe's storage initializer downloads STORAGE_URI of kserve-container into /mnt/models.
        env["STORAGE_URI"] = spec.model_uri
        env[f"{prefix}_MODEL"] = "/mnt/models"
    if spec.gpu:
        env[f"{prefix}_MAX_MEMORY_GB"] = _gb(spec.gpu.memory_gb)
    env.update(spec.env)
    return [{"name": key, "value": env[key]} for key in sorted(env)]


def _resources(spec: AIServiceSpec, pool: GPUPoolSpec | None) -> dict:
    res = spec.resources
    requests = {"cpu": res.cpu, "memory": res.memory}
    limits = {"memory": res.memory_limit or res.memory}
    if res.cpu_limit:
        limits["cpu"] = res.cpu_limit
    if spec.gpu:
        gpu = GPU_SHARED_RESOURCE if pool is not None and pool.rename_by_default else GPU_RESOURCE
        requests[gpu] = limits[gpu] = "1"
    return {"requests": requests, "limits": limits}


def _container(name: str, spec: AIServiceSpec, pool: GPUPoolSpec | None, port: int) -> dict:
    path = f"/v2/models/{model_name(name, spec)}/ready"
    container = {
        "name": "kserve-container",
        "image": spec.image,
        "env": _env(name, spec, port),
        "ports": [{"name": "http1", "containerPort": port, "protocol": "TCP"}],
        "resources": _resources(spec, pool),
        "readinessProbe": _probe(path, port, 3),
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        # a refused start-up GPU check (exit 78) leaves its reason in the container's status
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    if spec.deployment_mode == "Standard":  # Knative rejects startup probes
        container["startupProbe"] = gpu_check_probe(name, spec) or _probe(path, port, 60)
    if spec.args:
        container["args"] = list(spec.args)
    return container


def gpu_check_probe(name: str, spec: AIServiceSpec) -> dict | None:
    """The startup probe of a GPU service whose image carries kit: the same GPU check the service
    runs before loading its model (build vs the card's architecture, budget vs free memory). A
    failure writes its reason to the termination log, where the operator reads it for the
    AIService's GPUReady condition. Readiness (the model loaded) is the readiness probe's."""
    frameworks = TASK_DEFAULTS[spec.task].gpu_frameworks
    if not spec.gpu or not frameworks:
        return None
    command = ["python", "-m", "kit.gpu", "check", "--prefix", env_prefix(name, spec), "--frameworks", frameworks,
               "--termination-log", TERMINATION_LOG]
    return {"exec": {"command": command}, "periodSeconds": 10, "timeoutSeconds": 60, "failureThreshold": 3}


def _probe(path: str, port: int, failures: int) -> dict:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": 10, "failureThreshold": failures}


def _scaling(spec: AIServiceSpec) -> dict:
    scaling = spec.scaling
    out: dict = {"minReplicas": scaling.min_replicas, "maxReplicas": scaling.max_replicas}
    metric = scaling.scale_metric or ("concurrency" if spec.deployment_mode == "Knative" else "cpu")
    if scaling.autoscaler == "external" and spec.deployment_mode == "Standard":
        return out  # an outside autoscaler (KEDA) owns the replica count between these bounds
    if scaling.scale_target is not None or scaling.max_replicas > scaling.min_replicas:
        out["scaleMetric"] = metric
        out["scaleTarget"] = scaling.scale_target or (spec.route.max_concurrency if metric == "concurrency" else 80)
    return out


def annotations(spec: AIServiceSpec, port: int) -> dict[str, str]:
    """Deployment mode, autoscaler and Prometheus scraping annotations."""
    out = {
        "serving.kserve.io/deploymentMode": spec.deployment_mode,
        "serving.kserve.io/enable-prometheus-scraping": "true",
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": "/metrics",
    }
    if spec.deployment_mode == "Standard":
        out["serving.kserve.io/autoscalerClass"] = spec.scaling.autoscaler
    return out


def labels(name: str, spec: AIServiceSpec) -> dict[str, str]:
    """Labels on every object made for an AIService."""
    return {"app.kubernetes.io/name": name, **MANAGED_BY, LABEL_SERVICE: name, LABEL_TASK: spec.task}


def inference_service(owner: Owner, spec: AIServiceSpec, pool: GPUPoolSpec | None = None,
                      port: int = 8080) -> dict:
    """The KServe InferenceService for an (admitted) AIService."""
    predictor: dict = {
        **_scaling(spec),
        "containers": [_container(owner.name, spec, pool, port)],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    if spec.deployment_mode == "Knative":
        predictor["containerConcurrency"] = spec.route.max_concurrency
    if spec.gpu:
        if pool is not None and pool.node_selector:
            predictor["nodeSelector"] = dict(sorted(pool.node_selector.items()))
        tolerations = [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
        predictor["tolerations"] = tolerations
    return {
        "apiVersion": ISVC_API_VERSION,
        "kind": "InferenceService",
        "metadata": {
            "name": owner.name,
            "namespace": owner.namespace,
            "labels": labels(owner.name, spec),
            "annotations": annotations(spec, port),
            "ownerReferences": [owner.reference()],
        },
        "spec": {"predictor": predictor},
    }
