"""Prometheus metrics shared by the model services (served on KServe's `/metrics`)."""

from __future__ import annotations

import time
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

INFERENCE_SECONDS = Histogram(
    "aip_inference_seconds",
    "Time spent in a model stage",
    ["model", "stage"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
INFERENCE_ERRORS = Counter("aip_inference_errors_total", "Inference requests that failed", ["model", "code"])
INFERENCE_IN_FLIGHT = Gauge("aip_inference_in_flight", "Inferences running now", ["model"])
GPU_MEMORY_BUDGET = Gauge("aip_gpu_memory_budget_bytes",
                          "GPU memory budget of the service (<SERVICE>_MAX_MEMORY_GB); 0 when it has none",
                          ["model"])
GPU_MEMORY_USED = Gauge("aip_gpu_memory_used_bytes",
                        "GPU memory the service's PyTorch allocator holds (0 on a CPU or without torch)",
                        ["model"])


def torch_gpu_bytes() -> float:
    """Bytes PyTorch has reserved on the current GPU; 0 when torch is not loaded or no GPU is used.

    Only a torch that the service already imported is asked, so this never loads torch."""
    import sys

    torch = sys.modules.get("torch")
    try:
        if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
            return float(torch.cuda.memory_reserved())
    except Exception:  # noqa: BLE001 - a scrape must never fail on a driver error
        return 0.0
    return 0.0


def export_gpu_budget(model: str, max_memory_gb: float | None, used=torch_gpu_bytes) -> None:
    """Publish the service's GPU memory budget and, on each scrape, what it uses of it."""
    GPU_MEMORY_BUDGET.labels(model).set((max_memory_gb or 0) * 1024**3)
    GPU_MEMORY_USED.labels(model).set_function(used)


@contextmanager
def observe(model: str, stage: str):
    """Time a block into INFERENCE_SECONDS{model, stage}."""
    start = time.perf_counter()
    try:
        yield
    finally:
        INFERENCE_SECONDS.labels(model, stage).observe(time.perf_counter() - start)
