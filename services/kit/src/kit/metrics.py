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


@contextmanager
def observe(model: str, stage: str):
    """Time a block into INFERENCE_SECONDS{model, stage}."""
    start = time.perf_counter()
    try:
        yield
    finally:
        INFERENCE_SECONDS.labels(model, stage).observe(time.perf_counter() - start)
