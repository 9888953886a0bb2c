"""Run blocking inference off the event loop, bounded, so health checks stay fast."""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from .errors import Overloaded


class BoundedExecutor:
    """At most `max_concurrency` calls run at once in worker threads; at most `max_queue` wait."""

    def __init__(self, max_concurrency: int = 2, max_queue: int = 16, name: str = "inference"):
        self.max_concurrency = max_concurrency
        self.max_queue = max_queue
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix=name)
        self._slots = asyncio.Semaphore(max_concurrency)
        self._waiting = 0
        self._running = 0

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._waiting

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn(*args, **kwargs)` in a worker thread; raise Overloaded when the queue is full."""
        if self._slots.locked() and self._waiting >= self.max_queue:
            raise Overloaded()
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self._running += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))
        finally:
            self._running -= 1
            self._slots.release()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
