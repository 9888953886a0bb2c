"""Run blocking inference off the event loop, bounded, so health checks stay fast."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable

from .cancellation import ClientGone, cancel_event_var
from .errors import Overloaded


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cpu_threads(configured: int, most: int = 4) -> int:
    """Threads for one inference: the setting, else the usable CPUs, at most `most`."""
    return configured or max(1, min(most, usable_cpus()))


class BoundedExecutor:
    """At most `max_concurrency` calls run at once in worker threads; at most `max_queue` wait.

    Each call runs in a copy of the caller's context (request id, cancellation event), and a
    call whose request was cancelled while it waited is dropped before it starts.
    """

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
        try:
            event = cancel_event_var.get()
            if event is not None and event.is_set():
                raise ClientGone()
            self._running += 1
            try:
                ctx = contextvars.copy_context()
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._pool, functools.partial(ctx.run, fn, *args, **kwargs))
            finally:
                self._running -= 1
        finally:
            self._slots.release()

    async def map(self, fn: Callable[..., Any], arg_tuples: Iterable[tuple]) -> list[Any]:
        """`run(fn, *args)` for each tuple, concurrently. On the first failure the request is
        cancelled: queued calls are dropped, running ones stop at their next check; then the
        failure is raised (nothing keeps running for a request that has already failed)."""
        arg_tuples = list(arg_tuples)
        free = (self.max_concurrency - self._running) + (self.max_queue - self._waiting)
        if len(arg_tuples) > max(free, 1):
            raise Overloaded(f"{len(arg_tuples)} items do not fit the free capacity ({max(free, 0)}); retry later")
        token = None
        event = cancel_event_var.get()
        if event is None:
            event = threading.Event()
            token = cancel_event_var.set(event)
        try:
            tasks = [asyncio.ensure_future(self.run(fn, *args)) for args in arg_tuples]
            try:
                return list(await asyncio.gather(*tasks))
            except BaseException:
                event.set()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
        finally:
            if token is not None:
                cancel_event_var.reset(token)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
