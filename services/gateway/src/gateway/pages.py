"""Page images of a finished statement job, for the web UI's document view.

A statement job that succeeds keeps its document under `<data dir>/pages/<job id>/` (instead of
deleting it with the other uploads) for `GATEWAY_PAGE_RETENTION_S`; a page is rendered once per
width by the job's own upstream (vlm-service `task: render`) and the PNG is cached beside it.
Only the job's key reaches it (the job lookup answers 404 to any other key).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import shutil
import time
from pathlib import Path

from anyio import to_thread

from .db import Job
from .errors import ApiError
from .operations import Statement, load_operation
from .routetable import UPLOAD_FIELD
from .runner import OperationRunner
from .settings import Settings

log = logging.getLogger("gateway.pages")

DOCUMENT = "document.bin"
WIDTH_STEP = 100  # widths are rounded up to this, so a job has few cached sizes


class PageImages:
    def __init__(self, settings: Settings, runner: OperationRunner | None = None):
        self.settings = settings
        self.runner = runner  # renders pages; not needed to keep and expire documents

    def dir(self, job_id: str) -> Path:
        return self.settings.pages_dir / job_id

    def keep(self, job: Job) -> None:
        """Called as a statement job succeeds (in a worker thread): move its upload here."""
        if not job.upload_path or not isinstance(load_operation(job.request), Statement):
            return
        src = Path(job.upload_path)
        d = self.dir(job.id)
        try:
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.replace(src, d / DOCUMENT)
        except OSError:
            log.warning("job %s: its document could not be kept for page images", job.id)
            shutil.rmtree(d, ignore_errors=True)

    def expire(self, now: float | None = None) -> int:
        """Delete the documents and images of jobs older than the retention; how many went."""
        root = self.settings.pages_dir
        if not root.is_dir():
            return 0
        cutoff = (now or time.time()) - self.settings.page_retention_s
        gone = 0
        for d in root.iterdir():
            try:
                old = (d / DOCUMENT).stat().st_mtime < cutoff
            except FileNotFoundError:  # images without their document (not one being kept just now)
                old = d.stat().st_mtime < time.time() - 60
            if old:
                shutil.rmtree(d, ignore_errors=True)
                gone += 1
        return gone

    @staticmethod
    def snap(width: int, most: int) -> int:
        return min(most, -(-width // WIDTH_STEP) * WIDTH_STEP)

    async def image(self, job: Job, page: int, width: int, request_id: str | None) -> tuple[bytes, bool]:
        """The PNG of `page` about `width` pixels wide, and whether it came from the cache."""
        op = load_operation(job.request)
        if not isinstance(op, Statement):
            raise ApiError(404, "this job has no document pages (only statement jobs do)", code="pages_not_found")
        if job.state != "succeeded":
            raise ApiError(409, f"job is {job.state}; its pages are shown once it has succeeded",
                           code="job_not_finished")
        pages = job.result.get("pages") if isinstance(job.result, dict) else None
        if isinstance(pages, int) and not 1 <= page <= pages:
            raise ApiError(404, f"page {page} does not exist (the document has {pages})", code="page_not_found")
        d = self.dir(job.id)
        cached = d / f"p{page}-w{width}.png"
        try:
            return await to_thread.run_sync(cached.read_bytes), True
        except FileNotFoundError:
            pass
        try:
            data = await to_thread.run_sync((d / DOCUMENT).read_bytes)
        except FileNotFoundError:
            raise ApiError(410, "this job's document is no longer kept (GATEWAY_PAGE_RETENTION_S); "
                                "upload it again to see its pages", code="pages_expired") from None
        route = self.runner.named(op.route)
        options = {"password": op.options.password} if op.options.password else {}
        options |= {"task": "render", "page": page, "width": width}
        prediction = await self.runner.upstream(route).infer_upload(UPLOAD_FIELD[route.kind], data, options,
                                                                    request_id)
        png = self._png(prediction, route.name)
        if len(png) > self.settings.page_image_max_mb * 1024 * 1024:
            raise ApiError(413, f"page {page} renders to {len(png) // 1024} KiB at {width} px, over "
                                f"GATEWAY_PAGE_IMAGE_MAX_MB; ask for a smaller width", code="page_image_too_large")

        def _store():
            tmp = d / f".{cached.name}.{os.getpid()}.tmp"
            tmp.write_bytes(png)
            os.replace(tmp, cached)

        try:
            await to_thread.run_sync(_store)
        except OSError:  # expired meanwhile, or a full disk: the image is still good to send
            log.warning("job %s: page image not cached", job.id)
        return png, False

    @staticmethod
    def _png(prediction, route_name: str) -> bytes:
        try:
            png = base64.b64decode(prediction["image"]["b64"], validate=True)
        except (TypeError, KeyError, binascii.Error):
            raise ApiError(502, f"upstream '{route_name}' returned no page image", code="bad_upstream_response") from None
        if not png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise ApiError(502, f"upstream '{route_name}' returned no PNG", code="bad_upstream_response")
        return png
