"""Per-key rate limits with the maintained `limits` library.

Storage is `GATEWAY_RATE_LIMIT_STORAGE`: `memory://` (one process: `make run`) or
`redis://host:6379/0` (every gateway replica counts against the same limit: the cluster, where
the HPA runs several). Each key has two moving windows: `per_minute` requests in any 60 s, and
`burst` (default per_minute / 2) in any `60 * burst / per_minute` seconds, so a key cannot spend
its whole minute in one instant. When the storage cannot be reached the request is let through
(availability over strictness), the failure is counted (`gateway_rate_limit_errors_total`) and
shown in `/api/v1/health` as `rate_limit.error`.
"""

from __future__ import annotations

import logging
import time

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from .auth import Principal
from .errors import ApiError
from .metrics import RATE_LIMIT_ERRORS, RATE_LIMITED

log = logging.getLogger("gateway.ratelimit")
NAMESPACE = "gateway-rate"


def async_storage_uri(uri: str) -> str:
    """`memory://` / `redis://...` as the async storage URI `limits` wants (`async+...`)."""
    uri = uri.strip() or "memory://"
    return uri if uri.startswith("async+") else f"async+{uri}"


def windows(per_minute: int, burst: int | None) -> list[RateLimitItem]:
    """The two windows of a key: the burst window first (it is the one that usually refuses)."""
    burst = burst or max(1, per_minute // 2)
    items: list[RateLimitItem] = []
    if burst < per_minute:
        items.append(RateLimitItemPerSecond(burst, max(1, round(60 * burst / per_minute))))
    items.append(RateLimitItemPerMinute(per_minute))
    return items


class RateLimiter:
    """Checks (and counts) one request of a key against its windows."""

    def __init__(self, per_minute: int, burst: int | None, storage_uri: str = "memory://"):
        self.per_minute = per_minute
        self.burst = burst
        self.storage_uri = async_storage_uri(storage_uri)
        options = {"implementation": "redispy"} if "redis" in self.storage_uri.split("://")[0] else {}
        self.storage = storage_from_string(self.storage_uri, **options)
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.last_error: str | None = None

    @property
    def backend(self) -> str:
        return self.storage_uri.split("://")[0].removeprefix("async+")

    async def check(self, principal: Principal) -> None:
        """Raise ApiError 429 (with Retry-After) when the key is over a window."""
        per_minute = principal.rate_limit_per_minute or self.per_minute
        try:
            for item in windows(per_minute, self.burst if not principal.rate_limit_per_minute else None):
                if not await self.strategy.hit(item, NAMESPACE, principal.key_id):
                    stats = await self.strategy.get_window_stats(item, NAMESPACE, principal.key_id)
                    RATE_LIMITED.inc()
                    raise ApiError(429, f"rate limit of {per_minute} requests per minute exceeded",
                                   code="rate_limited", retry_after=max(0.0, stats.reset_time - time.time()))
            self.last_error = None
        except ApiError:
            raise
        except Exception as exc:  # the shared storage is down: serve, and say so
            RATE_LIMIT_ERRORS.inc()
            if self.last_error is None:
                log.warning("rate limit storage %s failed, requests are not limited: %s", self.backend, exc)
            self.last_error = f"{type(exc).__name__}: {exc}"[:300]

    def status(self) -> dict:
        return {"storage": self.backend, "error": self.last_error}
