"""The gateway's per-process state: database, route table, upstream pool, keys, jobs.

`Gateway` is only the application's container: it builds the parts once, starts and stops
them, and answers health and readiness. Request handlers get the parts they need as
dependencies (deps.py: `Runner`, `Jobs`, `AppSettings`), and the parts get each other in their
constructors (`JobManager` gets the `OperationRunner`, not the gateway).
"""

from __future__ import annotations

import asyncio
import logging
import time

from anyio import to_thread

from .auth import KeyStore, seed_keys
from .db import make_engine, make_sessionmaker, migrate, ping, private_dir
from .jobs import JobManager
from .live import LiveTokens, SessionSlots
from .metrics import ROUTE_TABLE_VERSION
from .pages import PageImages
from .ratelimit import RateLimiter
from .routetable import RouteTable
from .runner import OperationRunner
from .settings import Settings
from .upstream import UpstreamPool

log = logging.getLogger("gateway")


class Gateway:
    """Everything a request handler needs, built once per process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        private_dir(settings.data_dir)
        private_dir(settings.uploads_dir)
        self.engine = make_engine(settings.effective_database_url)
        self.Session = make_sessionmaker(self.engine)
        self.routes = RouteTable(settings)
        self.upstreams = UpstreamPool(settings.breaker_failures, settings.breaker_reset_s,
                                      settings.connect_timeout_s, settings.max_queue)
        self.runner = OperationRunner(self.routes, self.upstreams)
        self.keys = KeyStore(self.Session, settings.auth_cache_s)
        self.limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst,
                                   settings.rate_limit_storage)
        self.pages = PageImages(settings, self.runner)
        self.jobs = JobManager(settings, self.Session, self.runner, self.pages)
        self.live_tokens = LiveTokens(settings.live_token_secret, settings.live_token_ttl_s)
        self.live_slots = SessionSlots(settings.live_max_sessions_per_key)
        self.started = False
        self._stop = asyncio.Event()
        self._bg: list[asyncio.Task] = []
        self._health_cache: tuple[float, dict] | None = None
        self._health_lock = asyncio.Lock()

    def prepare_database(self) -> None:
        if self.settings.auto_migrate:
            migrate(self.engine)
        if self.settings.api_keys.strip():
            n = seed_keys(self.Session, self.settings.api_keys)
            log.info("seeded %d API keys from GATEWAY_API_KEYS", n)

    async def startup(self) -> None:
        await to_thread.run_sync(self.prepare_database)
        await self.jobs.start()
        self._bg.append(asyncio.create_task(self.routes.watch(self._stop), name="routes-watch"))
        ROUTE_TABLE_VERSION.set(self.routes.version)
        self.started = True
        log.info("gateway ready with routes: %s", ", ".join(r.name for r in self.routes.routes))

    def begin_shutdown(self) -> None:
        """Called from the signal handler: tell long-lived streams to end."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_soon_threadsafe(self.jobs.stopping.set)
        loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.jobs.notify()))

    async def shutdown(self) -> None:
        self._stop.set()
        await self.jobs.stop()
        for t in self._bg:
            t.cancel()
        await asyncio.gather(*self._bg, return_exceptions=True)
        await self.upstreams.close()
        self.engine.dispose()

    def upload_limit(self, path: str) -> int | None:
        route = self.routes.for_path(path)
        return route.max_upload_bytes if route else None

    async def ready(self) -> tuple[bool, str | None]:
        if not self.started:
            return False, "starting"
        try:
            await to_thread.run_sync(ping, self.engine)
        except Exception as exc:
            return False, f"database unavailable: {exc.__class__.__name__}"
        return True, None

    async def health(self) -> dict:
        """Probe every upstream concurrently; cached for a second so polling UIs are cheap."""
        cached = self._health_cache
        if cached and time.monotonic() - cached[0] < 1.0:
            return cached[1]
        async with self._health_lock:
            cached = self._health_cache
            if cached and time.monotonic() - cached[0] < 1.0:
                return cached[1]
            ROUTE_TABLE_VERSION.set(self.routes.version)
            routes = list(self.routes.routes)
            results = await asyncio.gather(
                *(self.upstreams.get(r).health(self.settings.health_timeout_s) for r in routes)
            )
            ups = []
            for r, h in zip(routes, results, strict=True):
                ups.append({
                    "name": r.name, "kind": r.kind, "url": r.upstream, "live": h.live, "ready": h.ready,
                    "breaker": self.upstreams.breaker(r.name).current_state(),
                    "latency_ms": h.latency_ms, "error": h.error, "device": h.device,
                })
            ok = all(u["ready"] and u["breaker"] == "closed" for u in ups)
            doc = {"status": "ok" if ok else "degraded", "upstreams": ups, "rate_limit": self.limiter.status()}
            if self.routes.last_error:
                doc["routes_error"] = self.routes.last_error
            self._health_cache = (time.monotonic(), doc)
            return doc
