"""A small real model server built on kit, used by kit's own tests.

`POST /v1/models/echo:predict` returns each document's length and sha256; option
`sleep` makes the work block a worker thread that long (in steps that stop when the caller
has gone), `record` appends a line to that file when the work finishes; `fail` raises the named
error.
"""

import hashlib
import time

import kserve
from pydantic_settings import SettingsConfigDict

from kit_kserve import errors
from kit_kserve.cancellation import raise_if_cancelled
from kit_kserve.concurrency import BoundedExecutor
from kit_kserve.payload import binary_inputs, bytes_io_metadata, make_response
from kit_kserve.server import serve
from kit_kserve.settings import ServiceSettings

FAILURES = {
    "invalid": errors.InvalidInput("bad bytes", code="not_audio"),
    "unprocessable": errors.UnprocessableInput("no pages"),
    "too_large": errors.PayloadTooLarge("too long"),
    "media": errors.UnsupportedMediaType("not a pdf"),
    "boom": RuntimeError("internal detail"),
}


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ECHO_", extra="ignore")


class EchoModel(kserve.Model):
    def __init__(self, settings: Settings):
        super().__init__("echo")
        self.executor = BoundedExecutor(settings.max_concurrency, settings.max_queue)

    def get_input_types(self):
        return bytes_io_metadata("document")[0]

    def get_output_types(self):
        return bytes_io_metadata("document")[1]

    def load(self) -> bool:
        self.ready = True
        return self.ready

    @staticmethod
    def work(data: bytes, options: dict) -> dict:
        if options.get("fail"):
            raise FAILURES[options["fail"]]
        deadline = time.monotonic() + float(options.get("sleep", 0))
        while time.monotonic() < deadline:  # work in small steps, stopping when the caller has gone
            raise_if_cancelled()
            time.sleep(0.05)
        if options.get("record"):
            with open(options["record"], "a") as fh:
                fh.write("done\n")
        return {"length": len(data), "sha256": hashlib.sha256(data).hexdigest(), "options": options}

    async def predict(self, payload, headers=None, response_headers=None):
        items = binary_inputs(payload, field="document", max_items=4)
        results = await self.executor.map(self.work, [(it.data, it.options) for it in items])
        return make_response(payload, self.name, results)


def extra_router():
    """A service's own route next to KServe's (serve(..., routers=...))."""
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/echo/extra")
    async def extra() -> dict:
        return {"extra": True}

    return router


if __name__ == "__main__":
    settings = Settings()
    model = EchoModel(settings)
    model.load()
    serve(model, settings, routers=[extra_router()])
