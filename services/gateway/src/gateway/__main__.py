"""Command line: `python -m gateway serve | migrate | keys create|list|revoke | route-schema`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from kit.logging import configure_logging

from .routetable import dump_route_table_schema
from .settings import Settings

log = logging.getLogger("gateway.cli")


def _session(settings: Settings):
    from .db import make_engine, make_sessionmaker, migrate

    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    return make_sessionmaker(engine)


def cmd_serve(args, settings: Settings) -> int:
    import uvicorn

    from .app import create_app
    from .httpserver import timed_protocol

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        access_log=False,
        loop="auto",
        http=timed_protocol(settings.header_timeout_s, settings.body_timeout_s),
        timeout_graceful_shutdown=10,
        proxy_headers=True,
        server_header=False,
    )
    gw = app.state.gw

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            # end event streams at once, so the graceful shutdown does not wait on them
            gw.begin_shutdown()
            super().handle_exit(sig, frame)

    Server(config).run()
    return 0


def cmd_migrate(args, settings: Settings) -> int:
    _session(settings)
    log.info("database is at the newest schema: %s", settings.effective_database_url.split("@")[-1])
    return 0


def cmd_keys(args, settings: Settings) -> int:
    from sqlalchemy import select

    from .auth import create_key
    from .db import ApiKey, iso, utcnow

    Session = _session(settings)
    if args.keys_cmd == "create":
        scopes = [s.strip() for s in args.scopes.split(",") if s.strip()] or ["all"]
        key, row = create_key(Session, args.name, scopes, rate_limit=args.rate_limit)
        if args.print_key_only:
            sys.stdout.write(key + "\n")
        else:
            sys.stdout.write(json.dumps({"key": key, "key_id": row.id, "name": row.name, "scopes": row.scopes}) + "\n")
            sys.stderr.write("store the key now: only its hash is kept\n")
        return 0
    if args.keys_cmd == "list":
        with Session() as s:
            rows = list(s.scalars(select(ApiKey).order_by(ApiKey.created_at)))
        for r in rows:
            if r.revoked_at is not None and not args.all:
                continue
            sys.stdout.write(json.dumps({
                "key_id": r.id, "name": r.name, "scopes": r.scopes, "source": r.source,
                "rate_limit_per_minute": r.rate_limit_per_minute, "created_at": iso(r.created_at),
                "revoked_at": iso(r.revoked_at),
            }) + "\n")
        return 0
    if args.keys_cmd == "revoke":
        with Session.begin() as s:
            row = s.get(ApiKey, args.key_id)
            if row is None:
                sys.stderr.write(f"no key with id {args.key_id}\n")
                return 1
            if row.revoked_at is None:
                row.revoked_at = utcnow()
        sys.stdout.write(f"revoked {args.key_id}\n")
        return 0
    return 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gateway", description="ai-platform API gateway")
    sub = p.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    sub.add_parser("migrate", help="bring the database to the newest schema")
    keys = sub.add_parser("keys", help="create, list and revoke API keys")
    ks = keys.add_subparsers(dest="keys_cmd", required=True)
    c = ks.add_parser("create", help="create a key; the key is printed once")
    c.add_argument("--name", required=True)
    c.add_argument("--scopes", default="all", help="comma-separated: transcriptions,statements,... or all")
    c.add_argument("--rate-limit", type=int, default=None, help="requests per minute for this key")
    c.add_argument("--print-key-only", action="store_true", help="print only the key (for scripts)")
    ls = ks.add_parser("list", help="list keys (never the keys themselves)")
    ls.add_argument("--all", action="store_true", help="include revoked keys")
    r = ks.add_parser("revoke", help="revoke a key by its id")
    r.add_argument("key_id")
    rs = sub.add_parser("route-schema", help="print (or --out write) the route table's JSON Schema")
    rs.add_argument("--out", type=Path, help="file to write, e.g. tests/contracts/route-table.schema.json")
    oa = sub.add_parser("openapi", help="print (or --out write) the OpenAPI document (`make api-types`)")
    oa.add_argument("--out", type=Path, help="file to write, e.g. tests/contracts/gateway-openapi.json")
    return p


def cmd_openapi(args, settings: Settings) -> int:
    import tempfile

    from . import openapi
    from .app import create_app

    with tempfile.TemporaryDirectory() as tmp:  # the app is built, never started: nothing to keep
        text = openapi.dump(create_app(settings.model_copy(update={"data_dir": Path(tmp), "database_url": None})))
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_route_schema(args, settings: Settings) -> int:
    text = dump_route_table_schema()
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    configure_logging("gateway", settings.log_level if args.cmd == "serve" else "WARNING")
    handlers = {"serve": cmd_serve, "migrate": cmd_migrate, "keys": cmd_keys, "route-schema": cmd_route_schema,
                "openapi": cmd_openapi}
    return handlers[args.cmd](args, settings)


if __name__ == "__main__":
    sys.exit(main())
