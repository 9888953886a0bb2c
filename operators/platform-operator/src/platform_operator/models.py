"""Pydantic models of the custom resources: the single source of truth for the CRDs."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.alias_generators import to_camel

Task = Literal["transcription", "statement-extraction", "document-qa", "translation", "custom"]
DeploymentMode = Literal["Standard", "Knative"]

_QUANTITY = re.compile(r"^([+]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


def _quantity(value: object) -> str:
    """Accept a Kubernetes quantity given as a number or string; return it as a string."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("a quantity is a number or a string such as 500m or 4Gi")
    text = str(value)
    if not _QUANTITY.match(text):
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return text


Quantity = Annotated[
    str,
    BeforeValidator(_quantity),
    WithJsonSchema({"x-kubernetes-int-or-string": True,
                    "anyOf": [{"type": "integer"}, {"type": "string"}]}),
]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class GPURequest(_Model):
    """A time-sliced share of a GPU with the memory budget the service promises to keep to."""

    memory_gb: float = Field(alias="memoryGB", ge=0.5, le=1024,
                             description="GPU memory budget of one replica in GB.")
    pool: str | None = Field(None, pattern=_DNS_LABEL, max_length=63,
                             description="GPUPool name; defaults to the only pool in the cluster.")


class Resources(_Model):
    """CPU and memory of one replica."""

    cpu: Quantity = Field("500m", description="CPU request.")
    memory: Quantity = Field("2Gi", description="Memory request, also the limit unless memoryLimit is set.")
    cpu_limit: Quantity | None = Field(None, description="CPU limit; none by default.")
    memory_limit: Quantity | None = Field(None, description="Memory limit; defaults to memory.")


class Scaling(_Model):
    """Replica bounds and the autoscaler target."""

    min_replicas: int = Field(1, ge=0, le=100, description="0 scales to zero (Knative mode only).")
    max_replicas: int = Field(1, ge=1, le=100)
    scale_target: int | None = Field(None, ge=1, le=1000,
                                     description="Target per replica: concurrency (Knative) or CPU % (Standard).")
    scale_metric: Literal["concurrency", "rps", "cpu", "memory"] | None = Field(
        None, description="Defaults to concurrency in Knative mode and cpu in Standard mode.")
    autoscaler: Literal["hpa", "external"] = Field(
        "hpa", description="Standard mode: 'hpa' lets KServe make a CPU/memory HPA; 'external' leaves "
                           "scaling to an outside autoscaler (a KEDA ScaledObject on queued jobs), so two "
                           "autoscalers never fight over the predictor.")


class Route(_Model):
    """How the gateway exposes the service under /api/v1/<resource>."""

    enabled: bool = Field(True, description="Register the route with the gateway.")
    resource: str | None = Field(None, pattern=_DNS_LABEL, max_length=63,
                                 description="Path segment; defaults per task.")
    scopes: list[str] | None = Field(None, max_length=16, description="API-key scopes; defaults to [resource].")
    protocol: Literal["v1", "v2"] = Field("v1", description="Open Inference Protocol version the gateway speaks.")
    timeout_s: int | None = Field(None, alias="timeoutSeconds", ge=1, le=3600)
    max_upload_mb: int | None = Field(None, alias="maxUploadMB", ge=1, le=10240)
    max_concurrency: int = Field(4, ge=1, le=1000)


class AIServiceSpec(_Model):
    """Desired state of one AI service."""

    task: Task = Field(description="What the service does; also the gateway route kind.")
    image: str = Field(min_length=1, max_length=512, description="Container image of the model server.")
    model_uri: str | None = Field(None, alias="modelURI", max_length=2048,
                                  description="KServe storageUri (hf://, pvc://, s3://, gs://, https://).")
    model_name: str | None = Field(None, pattern=_DNS_LABEL, max_length=63,
                                   description="KServe model name; defaults per task.")
    env_prefix: str | None = Field(None, pattern=_ENV_NAME, max_length=40,
                                   description="Prefix of the service's environment variables; defaults per task.")
    args: list[str] = Field(default_factory=list, max_length=64, description="Container arguments.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    gpu: GPURequest | None = Field(None, description="Leave out for a CPU-only service.")
    resources: Resources = Field(default_factory=Resources)
    scaling: Scaling = Field(default_factory=Scaling)
    deployment_mode: DeploymentMode = Field("Standard", description="Knative allows scale to zero.")
    route: Route = Field(default_factory=Route)

    @model_validator(mode="after")
    def _rules(self) -> AIServiceSpec:
        for rule in AISERVICE_RULES:
            if not rule.check(self):
                raise ValueError(rule.message)
        return self


class GPUPoolSpec(_Model):
    """One time-sliced GPU model on a set of nodes."""

    node_selector: dict[str, str] = Field(default_factory=dict, description="Labels of the GPU nodes.")
    gpu_model: str = Field(min_length=1, max_length=128, description="For people, e.g. NVIDIA GeForce RTX 5060 Ti.")
    memory_gb: float = Field(alias="memoryGB", ge=1, le=1024, description="Memory of one GPU in GB.")
    replicas: int = Field(4, ge=1, le=64, description="Time-slicing replicas: shares advertised per GPU.")
    rename_by_default: bool = Field(True, description="Advertise shares as nvidia.com/gpu.shared.")
    fail_requests_greater_than_one: bool = Field(True, description="Reject pods asking for more than one share.")
    reserve_gb: float = Field(1.0, alias="reserveGB", ge=0, le=1024,
                              description="Memory kept free for the driver and display.")

    @model_validator(mode="after")
    def _rules(self) -> GPUPoolSpec:
        for rule in GPUPOOL_RULES:
            if not rule.check(self):
                raise ValueError(rule.message)
        return self

    @property
    def capacity_gb(self) -> float:
        """Memory that admitted services may budget."""
        return round(self.memory_gb - self.reserve_gb, 3)


class Condition(_Model):
    """A standard Kubernetes status condition."""

    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str = ""
    message: str = ""
    last_transition_time: str | None = None
    observed_generation: int | None = None


class AIServiceStatus(_Model):
    """Observed state written by the operator."""

    conditions: list[Condition] = Field(default_factory=list)
    url: str | None = None
    observed_generation: int | None = None
    pool: str | None = None
    route: str | None = Field(None, description="Gateway path of the registered route.")


class GPUPoolStatus(_Model):
    """Budget bookkeeping of a pool."""

    conditions: list[Condition] = Field(default_factory=list)
    capacity_gb: float | None = Field(None, alias="capacityGB")
    allocated_gb: float | None = Field(None, alias="allocatedGB")
    admitted: list[str] = Field(default_factory=list, description="namespace/name of admitted services.")
    waiting: list[str] = Field(default_factory=list, description="namespace/name of services over budget.")
    config_map: str | None = None
    observed_generation: int | None = None


class Rule:
    """One validation rule, as a CEL expression for the CRD and a Python check for the operator."""

    def __init__(self, cel: str, message: str, check) -> None:
        self.cel, self.message, self.check = cel, message, check

    def as_crd(self) -> dict:
        return {"rule": self.cel, "message": self.message}


AISERVICE_RULES = (
    Rule("self.scaling.minReplicas <= self.scaling.maxReplicas",
         "scaling.minReplicas must not exceed scaling.maxReplicas",
         lambda s: s.scaling.min_replicas <= s.scaling.max_replicas),
    Rule("self.scaling.minReplicas > 0 || self.deploymentMode == 'Knative'",
         "scale to zero (minReplicas 0) needs deploymentMode Knative",
         lambda s: s.scaling.min_replicas > 0 or s.deployment_mode == "Knative"),
    Rule("!has(self.scaling.autoscaler) || self.scaling.autoscaler == 'hpa' || self.deploymentMode == 'Standard'",
         "scaling.autoscaler 'external' needs deploymentMode Standard (Knative scales itself)",
         lambda s: s.scaling.autoscaler == "hpa" or s.deployment_mode == "Standard"),
    Rule("!has(self.scaling.scaleMetric) || self.deploymentMode == 'Knative' || "
         "self.scaling.scaleMetric in ['cpu', 'memory']",
         "Standard mode scales on cpu or memory only",
         lambda s: s.scaling.scale_metric in (None, "cpu", "memory") or s.deployment_mode == "Knative"),
)

# KServe names the predictor Service `<name>-predictor` (a DNS-1035 label of at most 63 characters).
MAX_NAME_LENGTH = 45
_NAME_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
AISERVICE_NAME_RULE = Rule(
    f"self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$') && self.metadata.name.size() <= {MAX_NAME_LENGTH}",
    f"the name must be a DNS-1035 label of at most {MAX_NAME_LENGTH} characters (KServe adds -predictor)",
    lambda name: bool(_NAME_RE.match(name)) and len(name) <= MAX_NAME_LENGTH,
)

GPUPOOL_RULES = (
    Rule("self.reserveGB < self.memoryGB", "reserveGB must be less than memoryGB",
         lambda p: p.reserve_gb < p.memory_gb),
)
