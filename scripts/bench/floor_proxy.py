#!/usr/bin/env python3
"""The thinnest reverse proxy Python can be on the gateway's own stack (uvicorn + uvloop +
httptools server, aiohttp client with keep-alive): a raw ASGI app that forwards the body to one
upstream URL and returns the answer. No auth, routing, metrics or logging. `gateway.py` runs it
beside the gateway to show how much of the gateway's overhead is Python's floor, not its work.

    python scripts/bench/floor_proxy.py --port 9000 --upstream http://127.0.0.1:8001/v1/models/x:predict
"""

from __future__ import annotations

import argparse

import aiohttp
import uvicorn


def make_app(upstream: str):
    session: aiohttp.ClientSession | None = None

    async def app(scope, receive, send):
        nonlocal session
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await session.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        async with session.post(upstream, data=body, headers={"Content-Type": "application/json"}) as r:
            data = await r.read()
            status = r.status
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    args = ap.parse_args()
    uvicorn.run(make_app(args.upstream), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False, loop="auto", http="auto", lifespan="on")


if __name__ == "__main__":
    main()
