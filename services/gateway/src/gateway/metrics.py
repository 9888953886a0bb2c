"""Prometheus metrics and the pure-ASGI middleware that records every request."""

from __future__ import annotations

import logging
import time

from prometheus_client import Counter, Gauge, Histogram

access_log = logging.getLogger("gateway.access")

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

REQUESTS = Counter("gateway_requests_total", "HTTP requests answered", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "gateway_request_duration_seconds", "Request latency per route", ["method", "route"], buckets=_BUCKETS
)
UPSTREAM_REQUESTS = Counter(
    "gateway_upstream_requests_total", "Calls to upstreams by outcome", ["upstream", "outcome"]
)
UPSTREAM_SECONDS = Histogram(
    "gateway_upstream_duration_seconds", "Upstream call latency", ["upstream"], buckets=_BUCKETS
)
UPSTREAM_INFLIGHT = Gauge("gateway_upstream_inflight", "Calls in flight per upstream", ["upstream"])
BREAKER_STATE = Gauge(
    "gateway_breaker_state", "Circuit breaker state per upstream (0 closed, 1 half-open, 2 open)", ["upstream"]
)
JOBS_QUEUED = Gauge("gateway_job_queue_depth", "Jobs waiting to run")
JOBS_RUNNING = Gauge("gateway_jobs_running", "Jobs running in this process")
JOBS_FINISHED = Counter("gateway_jobs_finished_total", "Jobs finished by kind and state", ["kind", "state"])
ROUTE_JOBS_QUEUED = Gauge(
    "gateway_jobs_queued", "Jobs waiting per route, across every gateway replica (the database's count)", ["route"]
)
ROUTE_JOBS_RUNNING = Gauge(
    "gateway_jobs_in_progress", "Jobs running per route, across every gateway replica (the database's count)",
    ["route"],
)
RATE_LIMITED = Counter("gateway_rate_limited_total", "Requests refused by the rate limit")
RATE_LIMIT_ERRORS = Counter("gateway_rate_limit_errors_total",
                            "Requests let through because the rate limit storage failed")
ROUTE_TABLE_VERSION = Gauge("gateway_route_table_version", "Increments each time the route table is loaded")


class MetricsMiddleware:
    """Count and time each HTTP request by its route template (bounded label values)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status_holder = [500]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            elapsed = time.perf_counter() - start
            REQUESTS.labels(method, label, str(status_holder[0])).inc()
            REQUEST_SECONDS.labels(method, label).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info("%s %s %d", method, scope["path"], status_holder[0],
                                extra={"duration_ms": round(elapsed * 1000, 2)})


def set_route_job_gauges(counts: dict[tuple[str, str], int], routes: list[str]) -> None:
    """Set the per-route job gauges from `{(route, state): n}`; every current route gets a
    value (0 when idle), so an autoscaler sees a series even before the first job."""
    seen = set(routes) | {r for r, _ in counts}
    for route in seen:
        ROUTE_JOBS_QUEUED.labels(route).set(counts.get((route, "queued"), 0))
        ROUTE_JOBS_RUNNING.labels(route).set(counts.get((route, "running"), 0))
