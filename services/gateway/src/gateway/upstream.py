"""Calls to model services: per-upstream connection pool, timeout, bounded concurrency,
circuit breaker and safe retries. One upstream failing never touches another's pool,
semaphore or breaker, so other routes keep their latency.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import aiohttp
import orjson

from .errors import ApiError
from . import oip
from .metrics import BREAKER_STATE, UPSTREAM_INFLIGHT, UPSTREAM_REQUESTS, UPSTREAM_SECONDS
from .routetable import Route

log = logging.getLogger("gateway.upstream")

CLOSED, HALF_OPEN, OPEN = "closed", "half_open", "open"
_STATE_VALUE = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}


class CircuitBreaker:
    """Opens after `failures` consecutive failures; after `reset_s` lets one probe through
    (half-open); the probe's success closes it, its failure opens it again."""

    def __init__(self, name: str, failures: int, reset_s: float):
        self.name = name
        self.failures = failures
        self.reset_s = reset_s
        self.state = CLOSED
        self.consecutive = 0
        self.opened_at = 0.0
        self.probe_in_flight = False
        BREAKER_STATE.labels(name).set(0)

    def _set(self, state: str) -> None:
        if state != self.state:
            log.warning("breaker %s: %s -> %s", self.name, self.state, state)
        self.state = state
        BREAKER_STATE.labels(self.name).set(_STATE_VALUE[state])

    def retry_after(self) -> float:
        if self.state == OPEN:
            return max(1.0, self.reset_s - (time.monotonic() - self.opened_at))
        return 1.0

    def current_state(self) -> str:
        if self.state == OPEN and time.monotonic() - self.opened_at >= self.reset_s:
            return HALF_OPEN
        return self.state

    def before_call(self) -> bool:
        """Raise 503 when calls are refused; returns True when this call is the probe."""
        if self.state == CLOSED:
            return False
        if self.state == OPEN and time.monotonic() - self.opened_at >= self.reset_s:
            self._set(HALF_OPEN)
            self.probe_in_flight = False
        if self.state == HALF_OPEN and not self.probe_in_flight:
            self.probe_in_flight = True
            return True
        raise ApiError(
            503,
            f"upstream '{self.name}' is unavailable (circuit open after {self.failures} failures)",
            code="upstream_unavailable",
            retry_after=self.retry_after(),
        )

    def on_success(self, probe: bool) -> None:
        self.consecutive = 0
        if probe:
            self.probe_in_flight = False
        if self.state != CLOSED:
            self._set(CLOSED)

    def on_failure(self, probe: bool) -> None:
        self.consecutive += 1
        if probe:
            self.probe_in_flight = False
        if self.state == HALF_OPEN or self.consecutive >= self.failures:
            self.opened_at = time.monotonic()
            self._set(OPEN)

    def release_probe(self, probe: bool) -> None:
        """A probe that ended without a verdict (cancelled) lets the next call probe."""
        if probe and self.probe_in_flight:
            self.probe_in_flight = False


@dataclass
class HealthResult:
    live: bool
    ready: bool
    latency_ms: float | None
    error: str | None
    device: dict | None = None


def device_summary(doc) -> dict | None:
    """The device part of an upstream's `GET /device` (kit's start-up GPU check), or None."""
    if not isinstance(doc, dict) or "device" not in doc:
        return None
    gpu = doc.get("gpu") if isinstance(doc.get("gpu"), dict) else None
    budget = doc.get("budget_gb")
    return {
        "device": doc.get("device"),
        "requested": doc.get("requested"),
        "budget_gb": budget if isinstance(budget, (int, float)) else None,
        "verdict": doc.get("verdict"),
        "gpu": f"{gpu.get('name')} (compute capability {gpu.get('capability')})" if gpu else None,
        "warnings": [str(w) for w in doc.get("warnings") or []][:5],
    }


class Upstream:
    """The client side of one route's upstream."""

    def __init__(self, route: Route, breaker: CircuitBreaker, connect_timeout_s: float, max_queue: int):
        self.route = route
        self.breaker = breaker
        self.connect_timeout_s = connect_timeout_s
        self.max_queue = max_queue
        self.sem = asyncio.Semaphore(route.max_concurrency)
        self.waiting = 0
        self._session: aiohttp.ClientSession | None = None

    def signature(self) -> tuple:
        r = self.route
        return (r.upstream, r.max_concurrency, r.model)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.route.max_concurrency + 4, keepalive_timeout=30, enable_cleanup_closed=True
            )
            self._session = aiohttp.ClientSession(
                connector=connector, json_serialize=lambda o: orjson.dumps(o).decode(),
                cookie_jar=aiohttp.DummyCookieJar(),  # upstreams are APIs: no cookie bookkeeping
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def infer_upload(self, field: str, data: bytes, options: dict, request_id: str | None,
                           timeout_s: float | None = None):
        """One uploaded file (and its options) to the route's model, v1 or v2; the prediction."""
        route = self.route
        path, payload = oip.upload_request(route.protocol, route.model, field, data, options)
        doc = await self._post(path, payload, request_id, timeout_s)
        return oip.decode_prediction(route.protocol, doc, route.name)

    async def infer_json(self, body: dict, request_id: str | None, timeout_s: float | None = None):
        """A generic route's JSON object to the route's model, v1 or v2; the prediction."""
        route = self.route
        path, payload = oip.json_request(route.protocol, route.model, body)
        doc = await self._post(path, payload, request_id, timeout_s)
        return oip.decode_prediction(route.protocol, doc, route.name, generic=True)

    async def _post(self, path: str, payload: dict, request_id: str | None, timeout_s: float | None):
        route = self.route
        headers = {"content-type": "application/json"}
        if request_id:
            headers["x-request-id"] = request_id
        return await self.call("POST", f"{route.upstream}{path}", orjson.dumps(payload), headers,
                               timeout_s or route.timeout_s)

    async def call(self, method: str, url: str, body: bytes, headers: dict, timeout_s: float):
        name = self.route.name
        deadline = time.monotonic() + timeout_s
        probe = self.breaker.before_call()
        if self.sem.locked() and self.waiting >= self.max_queue:
            self.breaker.release_probe(probe)
            UPSTREAM_REQUESTS.labels(name, "busy").inc()
            raise ApiError(503, f"upstream '{name}' is busy; try again", code="upstream_busy", retry_after=1)
        if not self.sem.locked():
            await self.sem.acquire()  # free slot: no waiting, no timer task
        else:
            self.waiting += 1
            try:
                await asyncio.wait_for(self.sem.acquire(), timeout=timeout_s)
            except asyncio.TimeoutError:
                self.breaker.release_probe(probe)
                UPSTREAM_REQUESTS.labels(name, "queue_timeout").inc()
                raise ApiError(504, f"timed out waiting for upstream '{name}'", code="upstream_timeout") from None
            finally:
                self.waiting -= 1
        UPSTREAM_INFLIGHT.labels(name).inc()
        start = time.perf_counter()
        verdict: bool | None = None
        try:
            attempts = 1 + self.route.retries
            for attempt in range(attempts):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    verdict = False
                    raise ApiError(504, f"upstream '{name}' timed out after {timeout_s:g}s", code="upstream_timeout")
                timeout = aiohttp.ClientTimeout(total=remaining, sock_connect=min(self.connect_timeout_s, remaining))
                try:
                    async with self.session.request(method, url, data=body, headers=headers, timeout=timeout) as resp:
                        raw = await resp.read()
                        status = resp.status
                        retry_after = resp.headers.get("retry-after", "")
                except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
                    # the connection was never made, so nothing was sent: retrying is safe
                    timed_out = isinstance(exc, aiohttp.ConnectionTimeoutError)
                    if attempt + 1 < attempts and deadline - time.monotonic() > 0.2:
                        log.warning("upstream %s: %s on attempt %d of %d; retrying", name,
                                    "connect timeout" if timed_out else "connect error", attempt + 1, attempts)
                        await asyncio.sleep(0.05 * (attempt + 1))
                        continue
                    verdict = False
                    tries = f" ({attempt + 1} attempts)" if attempt else ""
                    if timed_out:
                        UPSTREAM_REQUESTS.labels(name, "connect_timeout").inc()
                        raise ApiError(
                            503, f"connecting to upstream '{name}' timed out after "
                                 f"{timeout.sock_connect:g}s{tries}; the request was not sent",
                            code="upstream_connect_timeout", retry_after=self.breaker.reset_s,
                        ) from None
                    UPSTREAM_REQUESTS.labels(name, "connect_error").inc()
                    raise ApiError(
                        503, f"upstream '{name}' cannot be reached{tries}: {exc.os_error or exc}",
                        code="upstream_unavailable", retry_after=self.breaker.reset_s,
                    ) from None
                except asyncio.TimeoutError:
                    verdict = False
                    UPSTREAM_REQUESTS.labels(name, "timeout").inc()
                    raise ApiError(504, f"upstream '{name}' timed out after {timeout_s:g}s",
                                   code="upstream_timeout") from None
                except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError) as exc:
                    # the request reached the upstream, which went away while working on it
                    verdict = False
                    UPSTREAM_REQUESTS.labels(name, "disconnected").inc()
                    raise ApiError(503, f"upstream '{name}' closed the connection during the request "
                                        f"({exc.__class__.__name__}); try again",
                                   code="upstream_disconnected", retry_after=self.breaker.reset_s) from None
                except aiohttp.ClientError as exc:
                    verdict = False
                    UPSTREAM_REQUESTS.labels(name, "error").inc()
                    raise ApiError(502, f"upstream '{name}' failed: {exc.__class__.__name__}",
                                   code="bad_gateway") from None
                break
            # 501 (or a 503 "not configured"): the upstream is alive and the answer is final
            verdict = status < 500 or status == 501 or (status == 503 and b"not_configured" in raw[:2000])
            UPSTREAM_REQUESTS.labels(name, str(status)).inc()
            return self._decode(status, raw, retry_after)
        finally:
            UPSTREAM_SECONDS.labels(name).observe(time.perf_counter() - start)
            UPSTREAM_INFLIGHT.labels(name).dec()
            self.sem.release()
            if verdict is True:
                self.breaker.on_success(probe)
            elif verdict is False:
                self.breaker.on_failure(probe)
            else:
                self.breaker.release_probe(probe)

    def _decode(self, status: int, raw: bytes, retry_after: str = ""):
        name = self.route.name
        doc = None
        if raw:
            try:
                doc = orjson.loads(raw)
            except orjson.JSONDecodeError:
                doc = None
        if 200 <= status < 300:
            if doc is None:
                raise ApiError(502, f"upstream '{name}' answered with invalid JSON", code="bad_upstream_response")
            return doc
        message, code = _upstream_error(doc, raw)
        if status == 404 and code and code != "model_not_found":
            # a coded 404 is the service's own "no such resource" (e.g. document_not_found)
            raise ApiError(404, message, code=code)
        if status == 404:
            raise ApiError(502, f"upstream '{name}' has no model '{self.route.model}': {message}",
                           code="upstream_model_not_found")
        if status in (400, 413, 415, 422):
            raise ApiError(status, message, code=code or None)
        if status == 501 or (status == 503 and code.endswith("not_configured")):
            # a permanent configuration gap (a feature the upstream was not set up for):
            # clients must not retry it, so no Retry-After and not a 503
            raise ApiError(501, f"upstream '{name}': {message}", code=code or "not_implemented")
        if status == 503:
            wait = float(retry_after) if retry_after.replace(".", "", 1).isdigit() else 1.0
            raise ApiError(503, f"upstream '{name}': {message}", code=code or "upstream_unavailable",
                           retry_after=min(max(wait, 1.0), 300.0))
        if status == 504:
            raise ApiError(504, f"upstream '{name}': {message}", code="upstream_timeout")
        if 400 <= status < 500:
            raise ApiError(400, f"upstream '{name}' refused the request: {message}", code=code or "bad_request")
        raise ApiError(502, f"upstream '{name}' failed ({status}): {message}", code="bad_gateway")

    async def health(self, timeout_s: float) -> HealthResult:
        route = self.route
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        start = time.perf_counter()
        live = ready = False
        error = None
        try:
            async with self.session.get(f"{route.upstream}/v2/health/live", timeout=timeout) as resp:
                await resp.read()
                live = resp.status == 200
            async with self.session.get(f"{route.upstream}/v2/models/{route.model}/ready", timeout=timeout) as resp:
                await resp.read()
                ready = resp.status == 200
                if not ready:
                    error = f"model '{route.model}' not ready (HTTP {resp.status})"
            if not live and not error:
                error = "not live"
        except asyncio.TimeoutError:
            error = f"health check timed out after {timeout_s:g}s"
        except aiohttp.ClientConnectorError as exc:
            reason = getattr(exc.os_error, "strerror", None) or exc.__class__.__name__
            error = f"cannot reach {route.upstream}: {reason}"
        except aiohttp.ClientError as exc:
            error = f"cannot reach {route.upstream}: {exc.__class__.__name__}"
        latency = round((time.perf_counter() - start) * 1000, 2) if live else None
        device = await self._device(timeout) if live else None
        return HealthResult(live=live, ready=ready, latency_ms=latency, error=error, device=device)

    async def _device(self, timeout: aiohttp.ClientTimeout) -> dict | None:
        """The upstream's device and budget (`GET /device`); None when it does not say."""
        try:
            async with self.session.get(f"{self.route.upstream}/device", timeout=timeout) as resp:
                raw = await resp.read()
                return device_summary(orjson.loads(raw)) if resp.status == 200 else None
        except (asyncio.TimeoutError, aiohttp.ClientError, orjson.JSONDecodeError):
            return None


def _upstream_error(doc, raw: bytes) -> tuple[str, str]:
    """Message and code from kit's `{"error": msg, "code": c}`, kserve's `{"error": msg}`,
    FastAPI's `{"detail": ...}` or our own `{"error": {"code", "message"}}`."""
    if isinstance(doc, dict):
        err = doc.get("error")
        if isinstance(err, dict):
            return str(err.get("message", "error")), str(err.get("code", ""))
        if isinstance(err, str):
            return err, str(doc.get("code", "") or "")
        if "detail" in doc:
            return str(doc["detail"])[:500], ""
    text = raw.decode("utf-8", "replace").strip()[:500] if raw else "no body"
    return text or "no body", ""


class UpstreamPool:
    """One `Upstream` per route name; rebuilt when a route's address or limits change.
    Breakers survive a route-table reload as long as the route keeps its name."""

    def __init__(self, failures: int, reset_s: float, connect_timeout_s: float, max_queue: int):
        self.failures = failures
        self.reset_s = reset_s
        self.connect_timeout_s = connect_timeout_s
        self.max_queue = max_queue
        self._ups: dict[str, Upstream] = {}
        self._breakers: dict[str, CircuitBreaker] = {}
        self._retired: list[Upstream] = []

    def breaker(self, name: str) -> CircuitBreaker:
        b = self._breakers.get(name)
        if b is None:
            b = self._breakers[name] = CircuitBreaker(name, self.failures, self.reset_s)
        return b

    def get(self, route: Route) -> Upstream:
        up = self._ups.get(route.name)
        if up is not None and up.route is route:
            return up
        if up is not None and up.signature() == (route.upstream, route.max_concurrency, route.model):
            up.route = route  # timeouts and scopes may change in place
            return up
        if up is not None:
            self._retired.append(up)
        up = self._ups[route.name] = Upstream(route, self.breaker(route.name), self.connect_timeout_s, self.max_queue)
        return up

    async def close(self) -> None:
        for up in list(self._ups.values()) + self._retired:
            await up.close()
