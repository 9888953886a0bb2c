#!/usr/bin/env python3
"""The gateway routes of the services `make run` starts, from their service.conf.

A service.conf with `TASK=<route kind>` (and optionally `RESOURCE=`, `MODEL=`, `SCOPES=a,b`)
becomes a route to http://127.0.0.1:$PORT; services without TASK (the gateway, the web UI, and
audio and vlm, which are the gateway's built-in routes) add nothing. Prints the route table as
JSON for GATEWAY_ROUTES (merged by name over the gateway's defaults):

    python3 scripts/local_routes.py [--root DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("NAME", "PORT", "TASK", "RESOURCE", "MODEL", "SCOPES")


def read_conf(path: Path) -> dict[str, str]:
    """The service.conf's variables, read by bash itself (it is a shell file)."""
    script = 'set -a; . "$1"; ' + "; ".join(f'printf "%s\\0" "${{{f}:-}}"' for f in FIELDS)
    out = subprocess.run(["bash", "-c", script, "conf", str(path)], capture_output=True, check=True)
    values = out.stdout.decode().split("\0")[: len(FIELDS)]
    return dict(zip(FIELDS, values))


def local_routes(root: Path) -> list[dict]:
    routes = []
    for conf in sorted((root / "services").glob("*/service.conf")):
        c = read_conf(conf)
        if not c["TASK"]:
            continue
        if not c["NAME"] or not c["PORT"]:
            raise ValueError(f"{conf}: TASK needs NAME and PORT")
        route = {"name": c["NAME"], "kind": c["TASK"], "upstream": f"http://127.0.0.1:{c['PORT']}",
                 "model": c["MODEL"] or c["NAME"]}
        if c["RESOURCE"]:
            route["resource"] = c["RESOURCE"]
        if c["SCOPES"]:
            route["scopes"] = [s.strip() for s in c["SCOPES"].split(",") if s.strip()]
        routes.append(route)
    return routes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args()
    sys.stdout.write(json.dumps({"routes": local_routes(args.root)}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
