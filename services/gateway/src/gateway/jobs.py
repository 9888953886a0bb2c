"""Jobs for long work: stored in the database, run by asyncio workers inside the gateway.

- A job row holds the current state; `job_events` holds its history, append-only.
- Uploads of unfinished jobs live under `<data dir>/uploads/<job id>/` until the job ends (a
  statement job's document then moves to `<data dir>/pages/` for its page images: pages.py).
- Workers claim a queued job with a conditional UPDATE (safe with several replicas), keep a
  heartbeat while it runs, and a sweeper re-queues running jobs whose heartbeat is older than
  the lease (a killed gateway), or fails them clearly when their upload is gone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import shutil
import unicodedata
import uuid
from pathlib import Path

from anyio import to_thread
from kit.logging import request_id_var
from sqlalchemy import func, select, update
from sqlalchemy.orm import sessionmaker

from .db import Job, JobEvent, as_utc, utcnow
from .errors import ApiError
from .metrics import JOBS_FINISHED, JOBS_QUEUED, JOBS_RUNNING
from .operations import Operation, dump_operation, load_operation
from .pages import PageImages
from .runner import OperationRunner
from .settings import Settings
from .translations import job_progress

log = logging.getLogger("gateway.jobs")

TERMINAL = ("succeeded", "failed")
TRANSIENT_STATUSES = (502, 503, 504)


def _append(s, job_id: str, type_: str, data: dict | None = None) -> int:
    """Insert the next event of a job (inside the caller's transaction)."""
    last = s.scalar(select(func.max(JobEvent.seq)).where(JobEvent.job_id == job_id)) or 0
    s.add(JobEvent(job_id=job_id, seq=last + 1, type=type_, at=utcnow(), data=data or {}))
    return last + 1


class JobManager:
    """Submits, runs (with `runner`) and reports jobs; `pages` keeps a statement's document."""

    def __init__(self, settings: Settings, Session: sessionmaker, runner: OperationRunner, pages: PageImages):
        self.settings = settings
        self.Session = Session
        self.runner = runner
        self.pages = pages
        self.worker_id = f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._wake = asyncio.Event()
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task] = []
        self._running: dict[str, asyncio.Task] = {}
        self._stopping = False
        self.stopping = asyncio.Event()  # SSE streams end when the gateway stops

    # ---------------------------------------------------------------- submit and read

    def upload_dir(self, job_id: str) -> Path:
        return self.settings.uploads_dir / job_id

    async def submit(self, principal, route, op: Operation, upload_file=None, filename: str | None = None,
                     request_id: str | None = None) -> Job:
        job_id = uuid.uuid4().hex
        upload_path = None
        if upload_file is not None:
            d = self.upload_dir(job_id)
            upload_path = str(d / "upload.bin")

            def _save():
                d.mkdir(mode=0o700, parents=True, exist_ok=True)
                upload_file.seek(0)
                fd = os.open(upload_path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
                with open(fd, "wb") as out:
                    shutil.copyfileobj(upload_file, out, 1024 * 1024)
                    out.flush()
                    os.fsync(out.fileno())

            await to_thread.run_sync(_save)
        now = utcnow()
        job = Job(id=job_id, key_id=principal.key_id, kind=route.kind, route=route.name, state="queued",
                  created_at=now, updated_at=now, progress=0.0, filename=clean_filename(filename),
                  upload_path=upload_path, request=dump_operation(op), attempts=0, request_id=request_id)

        def _insert():
            with self.Session.begin() as s:
                s.add(job)
                s.flush()
                _append(s, job_id, "queued", {"route": route.name})

        try:
            await to_thread.run_sync(_insert)
        except Exception:
            if upload_path:
                shutil.rmtree(self.upload_dir(job_id), ignore_errors=True)
            raise
        JOBS_QUEUED.inc()
        log.info("job %s queued on route %s", job_id, route.name)
        self._wake.set()
        await self.notify()
        return job

    async def get(self, job_id: str, key_id: str) -> Job:
        def _get():
            with self.Session() as s:
                return s.get(Job, job_id)

        job = await to_thread.run_sync(_get) if _valid_id(job_id) else None
        if job is None or job.key_id != key_id:
            raise ApiError(404, f"job '{job_id}' not found", code="job_not_found")
        return job

    async def list(self, key_id: str, limit: int) -> list[Job]:
        def _list():
            with self.Session() as s:
                q = select(Job).where(Job.key_id == key_id).order_by(Job.created_at.desc(), Job.id).limit(limit)
                return list(s.scalars(q))

        return await to_thread.run_sync(_list)

    async def events_after(self, job_id: str, after: int) -> list[JobEvent]:
        def _events():
            with self.Session() as s:
                q = select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.seq > after).order_by(JobEvent.seq)
                return list(s.scalars(q))

        return await to_thread.run_sync(_events)

    async def counts_by_route(self) -> dict[tuple[str, str], int]:
        """`{(route, state): n}` of queued and running jobs in the database (all replicas)."""
        def _count():
            with self.Session() as s:
                q = (select(Job.route, Job.state, func.count()).where(Job.state.in_(("queued", "running")))
                     .group_by(Job.route, Job.state))
                return {(route, state): n for route, state, n in s.execute(q)}

        return await to_thread.run_sync(_count)

    async def wait_change(self, timeout: float) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        await to_thread.run_sync(self._recover, True)
        for i in range(self.settings.job_workers):
            self._tasks.append(asyncio.create_task(self._worker(i), name=f"job-worker-{i}"))
        self._tasks.append(asyncio.create_task(self._sweeper(), name="job-sweeper"))

    async def stop(self) -> None:
        """Graceful stop: running jobs of this process go back to the queue."""
        self._stopping = True
        self.stopping.set()
        await self.notify()
        for t in self._tasks:
            t.cancel()
        running = list(self._running.values())
        for t in running:
            t.cancel()
        await asyncio.gather(*self._tasks, *running, return_exceptions=True)
        self._tasks.clear()

    # ---------------------------------------------------------------- workers

    async def _worker(self, index: int) -> None:
        while True:
            try:
                job = await to_thread.run_sync(self._claim)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job worker %d could not claim a job", index)
                job = None
            if job is None:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.job_poll_s)
                except asyncio.TimeoutError:
                    pass
                continue
            await self.notify()
            task = asyncio.create_task(self._run(job))
            self._running[job.id] = task
            JOBS_RUNNING.inc()
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.done():
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                raise
            finally:
                self._running.pop(job.id, None)
                JOBS_RUNNING.dec()

    def _claim(self) -> Job | None:
        now = utcnow()
        with self.Session() as s:
            q = (select(Job.id).where(Job.state == "queued")
                 .where((Job.not_before.is_(None)) | (Job.not_before <= now))
                 .order_by(Job.created_at).limit(5))
            candidates = list(s.scalars(q))
        for job_id in candidates:
            with self.Session.begin() as s:
                res = s.execute(
                    update(Job).where(Job.id == job_id, Job.state == "queued")
                    .values(state="running", worker_id=self.worker_id, heartbeat_at=now, updated_at=now,
                            attempts=Job.attempts + 1)
                )
                if res.rowcount != 1:
                    continue
                job = s.get(Job, job_id)
                _append(s, job_id, "started", {"attempt": job.attempts, "worker": self.worker_id})
            JOBS_QUEUED.dec()
            return job
        return None

    async def _run(self, job: Job) -> None:
        request_id_var.set(job.request_id)  # this task's logs carry the submitting request's id
        heartbeat = asyncio.create_task(self._heartbeat(job.id))
        try:
            data = None
            if job.upload_path:
                try:
                    data = await to_thread.run_sync(Path(job.upload_path).read_bytes)
                except OSError:
                    await self._finish(job, "failed", error=("upload_lost", "the job's uploaded file is gone"))
                    return
            await self._progress(job.id, 0.1, f"sent to upstream '{job.route}'")
            job_progress.set(lambda fraction, message: self._progress(job.id, fraction, message))
            try:
                output = await self.runner.execute(load_operation(job.request), data, job.request_id)
            except ApiError as exc:
                if exc.status in TRANSIENT_STATUSES and job.attempts < self.settings.job_max_attempts:
                    await self._requeue(job, exc)
                    return
                await self._finish(job, "failed", error=(exc.code, exc.message))
                return
            await self._progress(job.id, 0.95, "formatting the result")
            await self._finish(job, "succeeded", output=output)
        except asyncio.CancelledError:
            if self._stopping:
                await asyncio.shield(to_thread.run_sync(self._release, job.id, "the gateway was stopping"))
            raise
        except Exception as exc:  # a bug must not leave the job running forever
            log.exception("job %s crashed", job.id)
            await self._finish(job, "failed", error=("internal_error", f"job failed: {exc.__class__.__name__}"))
        finally:
            heartbeat.cancel()

    async def _heartbeat(self, job_id: str) -> None:
        interval = max(0.2, self.settings.job_lease_s / 3)
        while True:
            await asyncio.sleep(interval)

            def _beat():
                with self.Session.begin() as s:
                    s.execute(update(Job).where(Job.id == job_id, Job.worker_id == self.worker_id,
                                                Job.state == "running").values(heartbeat_at=utcnow()))

            try:
                await to_thread.run_sync(_beat)
            except Exception:
                log.exception("heartbeat for job %s failed", job_id)

    async def _progress(self, job_id: str, fraction: float, message: str) -> None:
        def _p():
            with self.Session.begin() as s:
                s.execute(update(Job).where(Job.id == job_id).values(progress=fraction, updated_at=utcnow()))
                _append(s, job_id, "progress", {"fraction": fraction, "message": message})

        await to_thread.run_sync(_p)
        await self.notify()

    async def _requeue(self, job: Job, exc: ApiError) -> None:
        # back off, and never come back before the upstream's Retry-After (an open breaker)
        delay = max(self.settings.job_retry_delay_s * job.attempts, exc.retry_after or 0.0)
        when = utcnow() + dt.timedelta(seconds=delay)

        def _rq():
            with self.Session.begin() as s:
                s.execute(update(Job).where(Job.id == job.id).values(
                    state="queued", not_before=when, worker_id=None, updated_at=utcnow(), progress=0.0))
                _append(s, job.id, "queued", {"reason": exc.message, "code": exc.code, "attempt": job.attempts,
                                              "retry_in_s": delay})

        await to_thread.run_sync(_rq)
        JOBS_QUEUED.inc()
        log.warning("job %s requeued after attempt %d: %s", job.id, job.attempts, exc.message)
        await self.notify()

    def _release(self, job_id: str, reason: str) -> None:
        with self.Session.begin() as s:
            res = s.execute(update(Job).where(Job.id == job_id, Job.state == "running",
                                              Job.worker_id == self.worker_id)
                            .values(state="queued", worker_id=None, updated_at=utcnow(), progress=0.0))
            if res.rowcount == 1:
                _append(s, job_id, "queued", {"reason": reason})
                JOBS_QUEUED.inc()

    async def _finish(self, job: Job, state: str, output=None, error: tuple[str, str] | None = None) -> None:
        def _f():
            now = utcnow()
            with self.Session.begin() as s:
                values = {"state": state, "updated_at": now, "worker_id": None}
                if state == "succeeded":
                    values.update(progress=1.0, result=output.content, result_media_type=output.media_type)
                    data = {"media_type": output.media_type}
                else:
                    values.update(error_code=error[0], error_message=error[1])
                    data = {"code": error[0], "message": error[1]}
                res = s.execute(update(Job).where(Job.id == job.id, Job.state == "running").values(**values))
                if res.rowcount == 1:
                    _append(s, job.id, state, data)
            if state == "succeeded" and res.rowcount == 1:
                self.pages.keep(job)  # a statement's document stays for its page images
            shutil.rmtree(self.upload_dir(job.id), ignore_errors=True)

        await to_thread.run_sync(_f)
        JOBS_FINISHED.labels(job.kind, state).inc()
        log.info("job %s %s", job.id, state)
        await self.notify()

    # ---------------------------------------------------------------- recovery

    async def _sweeper(self) -> None:
        interval = max(0.5, min(self.settings.job_lease_s / 2, 10.0))
        while True:
            await asyncio.sleep(interval)
            try:
                changed = await to_thread.run_sync(self._recover, False)
                await to_thread.run_sync(self.pages.expire)
                if changed:
                    self._wake.set()
                    await self.notify()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job sweeper failed")

    def _recover(self, at_start: bool) -> int:
        """Re-queue running jobs whose worker stopped heart-beating; fail those whose upload is gone."""
        now = utcnow()
        stale_before = now - dt.timedelta(seconds=self.settings.job_lease_s)
        changed = 0
        with self.Session() as s:
            running = list(s.scalars(select(Job).where(Job.state == "running")))
            JOBS_QUEUED.set(s.scalar(select(func.count()).select_from(Job).where(Job.state == "queued")) or 0)
        for job in running:
            if job.worker_id == self.worker_id and job.id in self._running:
                continue
            hb = as_utc(job.heartbeat_at) or as_utc(job.updated_at)
            if hb and hb > stale_before:
                continue
            lost = bool(job.upload_path) and not Path(job.upload_path).exists()
            with self.Session.begin() as s:
                if lost:
                    values = {"state": "failed", "error_code": "upload_lost", "updated_at": now, "worker_id": None,
                              "error_message": "the gateway stopped while this job ran and its upload is gone"}
                else:
                    values = {"state": "queued", "worker_id": None, "updated_at": now, "progress": 0.0}
                res = s.execute(update(Job).where(Job.id == job.id, Job.state == "running",
                                                  Job.worker_id.is_(job.worker_id) if job.worker_id is None
                                                  else Job.worker_id == job.worker_id).values(**values))
                if res.rowcount != 1:
                    continue
                if lost:
                    _append(s, job.id, "failed", {"code": "upload_lost", "message": values["error_message"]})
                else:
                    _append(s, job.id, "queued", {"reason": "recovered: the gateway stopped while the job ran"})
                    JOBS_QUEUED.inc()
            changed += 1
            log.warning("job %s %s after its worker %s stopped", job.id, "failed" if lost else "re-queued",
                        job.worker_id)
        if changed and at_start:
            log.info("recovered %d jobs at startup", changed)
        return changed


def clean_filename(name: str | None) -> str | None:
    """A client's file name as it is safe to store and show: control characters (NUL, CR,
    LF, ESC...) and other invisible format characters removed, at most 255 characters."""
    if not name:
        return None
    kept = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return kept[:255] or None


def _valid_id(job_id: str) -> bool:
    return len(job_id) == 32 and all(c in "0123456789abcdef" for c in job_id)
