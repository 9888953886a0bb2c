"""API keys (stored only as SHA-256 hashes, compared in constant time)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from .db import ApiKey, utcnow
from .errors import ApiError

if TYPE_CHECKING:
    from .routetable import Route

log = logging.getLogger("gateway.auth")

ALL_SCOPES = ("all", "*")
KEY_PREFIX = "gw_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    scopes: tuple[str, ...]
    rate_limit_per_minute: int | None = None

    def allows(self, scope: str) -> bool:
        return any(s in ALL_SCOPES or s == scope for s in self.scopes)


def require_scope(principal: Principal, route: Route) -> None:
    """403 unless the key holds one of the route's scopes: the one scope check (middleware,
    routers, live sessions)."""
    if not any(principal.allows(s) for s in route.scopes):
        raise ApiError(403, f"this API key lacks the scope '{route.scopes[0]}'", code="insufficient_scope")


def parse_seed_keys(spec: str) -> list[tuple[str, list[str]]]:
    """`key[:scope,scope];key2` -> [(key, scopes)]; no scopes means all."""
    out = []
    for part in spec.replace("\n", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        key, _, scopes = part.partition(":")
        key = key.strip()
        if len(key) < 8:
            raise ValueError("GATEWAY_API_KEYS: each key must be at least 8 characters")
        scope_list = [s.strip() for s in scopes.split(",") if s.strip()] or ["all"]
        out.append((key, scope_list))
    return out


def create_key(Session: sessionmaker, name: str, scopes: list[str], rate_limit: int | None = None,
               key: str | None = None, source: str = "cli") -> tuple[str, ApiKey]:
    """Store a new key's hash; returns (plaintext key, row). The plaintext is never stored."""
    key = key or new_key()
    row = ApiKey(
        id="k_" + secrets.token_hex(6),
        name=name,
        key_hash=hash_key(key),
        scopes=scopes or ["all"],
        rate_limit_per_minute=rate_limit,
        source=source,
        created_at=utcnow(),
    )
    with Session.begin() as s:
        s.add(row)
    return key, row


def seed_keys(Session: sessionmaker, spec: str) -> int:
    """Upsert GATEWAY_API_KEYS into the key table (by hash); returns how many."""
    seeds = parse_seed_keys(spec)
    with Session.begin() as s:
        for i, (key, scopes) in enumerate(seeds, 1):
            h = hash_key(key)
            row = s.scalar(select(ApiKey).where(ApiKey.key_hash == h))
            if row is None:
                s.add(ApiKey(id="env_" + h[:10], name=f"env key {i}", key_hash=h, scopes=scopes,
                             source="env", created_at=utcnow()))
            else:
                row.scopes = scopes
                row.revoked_at = None
    return len(seeds)


class KeyStore:
    """Looks keys up by hash with a short cache, so revocation takes effect within `ttl_s`."""

    MAX_ENTRIES = 10_000

    def __init__(self, Session: sessionmaker, ttl_s: float):
        self.Session = Session
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[Principal | None, float, str]] = {}
        self._lock = threading.Lock()

    def _lookup_db(self, key_hash: str) -> Principal | None:
        with self.Session() as s:
            row = s.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.key_hash, key_hash):
                return None
            return Principal(row.id, row.name, tuple(row.scopes or ()), row.rate_limit_per_minute)

    def cached(self, key: str) -> tuple[bool, Principal | None, str]:
        """(hit, principal, hash) from the cache without touching the database."""
        h = hash_key(key)
        entry = self._cache.get(h)
        if entry is not None and time.monotonic() - entry[1] < self.ttl_s and hmac.compare_digest(entry[2], h):
            return True, entry[0], h
        return False, None, h

    def resolve(self, key_hash: str) -> Principal | None:
        """Look a key up in the database; unknown keys are remembered (bounded) for the same
        TTL so a flood of wrong keys does not become a flood of queries."""
        principal = self._lookup_db(key_hash)
        with self._lock:
            if principal is None and len(self._cache) >= self.MAX_ENTRIES:
                self._cache = {h: e for h, e in self._cache.items() if e[0] is not None}
            if principal is not None or len(self._cache) < self.MAX_ENTRIES:
                self._cache[key_hash] = (principal, time.monotonic(), key_hash)
        return principal


def extract_key(authorization: str | None, x_api_key: str | None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        raise ApiError(401, "Authorization must be 'Bearer <api key>'", code="invalid_authorization")
    if x_api_key:
        return x_api_key.strip()
    return None
