"""The route table: which resource goes to which upstream, from env, inline JSON or a file.

A mounted file (a ConfigMap in the cluster) is polled and reloaded when its content changes;
a broken file keeps the last good table and is logged, so a bad edit never takes routes down.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from .settings import Settings

log = logging.getLogger("gateway.routes")

RouteKind = Literal["transcription", "statement-extraction", "document-qa", "translation", "custom"]
GENERIC_KINDS = ("document-qa", "translation", "custom")
# the v1 instance field that carries the uploaded bytes for each multipart kind
UPLOAD_FIELD = {"transcription": "audio", "statement-extraction": "document"}
DEFAULT_SCOPE = {
    "transcription": "transcriptions",
    "statement-extraction": "statements",
}
OPENAI_ALIASES = ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"]
EMBEDDING_ALIASES = ["text-embedding-3-small", "text-embedding-ada-002", "all-MiniLM-L6-v2"]
# document QA's fixed paths; they go to the route docqa_route() picks
DOCQA_RESOURCE = "documents"
DOCQA_PATHS = ("/api/v1/documents", "/api/v1/questions", "/v1/embeddings")


class Route(BaseModel):
    """One entry of the route table (docs/GATEWAY_API.md)."""

    # unknown keys are ignored when serving (a newer operator's table still loads), but the
    # published schema forbids them, so a writer's drift fails its tests instead
    model_config = {"extra": "ignore", "json_schema_extra": {"additionalProperties": False}}

    name: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
    kind: RouteKind
    resource: str = Field("", pattern=r"^$|^[a-z0-9][a-z0-9-]*$")
    path: str = ""
    upstream: str = Field(min_length=1)
    model: str = ""
    protocol: Literal["v1", "v2"] = Field("v1", description="Open Inference Protocol version of the upstream")
    scopes: list[str] = Field(default_factory=list)
    timeout_s: float = Field(300.0, gt=0)
    max_upload_mb: float = Field(100.0, gt=0)
    max_concurrency: int = Field(4, ge=1)
    aliases: list[str] = Field(default_factory=list, description="model names that select this route")
    retries: int = Field(1, ge=0, le=3, description="extra tries when the connection could not be made")

    @model_validator(mode="after")
    def _defaults(self) -> "Route":
        self.upstream = self.upstream.rstrip("/")
        if not self.resource:
            self.resource = DEFAULT_SCOPE.get(self.kind, self.name)
        if not self.path:
            self.path = f"/api/v1/{self.resource}"
        if not self.model:
            self.model = self.name
        if not self.scopes:
            self.scopes = [self.resource]
        if self.kind == "transcription" and not self.aliases:
            self.aliases = list(OPENAI_ALIASES)
        if self.kind == "document-qa" and not self.aliases:
            self.aliases = list(EMBEDDING_ALIASES)
        return self

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


class RouteFile(BaseModel):
    """The route table document: `{"routes": [...]}` (a ConfigMap key in the cluster)."""

    routes: list[Route]


def route_table_schema() -> dict:
    """The route table's JSON Schema, generated from the models above. Committed as
    tests/contracts/route-table.schema.json (`python -m gateway route-schema`), which the operator's
    tests validate every route it renders against."""
    schema = RouteFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ai-platform gateway route table"
    return schema


def dump_route_table_schema() -> str:
    return json.dumps(route_table_schema(), indent=2, sort_keys=True) + "\n"


def parse_routes(text: str) -> list[Route]:
    """Parse `{"routes": [...]}` (or a bare list); raises ValueError with a clear message."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"route table is not valid JSON: {exc}") from exc
    if isinstance(doc, list):
        doc = {"routes": doc}
    try:
        routes = RouteFile.model_validate(doc).routes
    except ValidationError as exc:
        raise ValueError(f"invalid route table: {exc.errors()[:3]}") from exc
    names = [r.name for r in routes]
    if len(set(names)) != len(names):
        raise ValueError("route names must be unique")
    resources = [r.resource for r in routes]
    if len(set(resources)) != len(resources):
        raise ValueError("route resources must be unique")
    return routes


def parse_routes_lenient(text: str) -> tuple[list[Route], list[str]]:
    """Parse a route table file route by route: a bad entry (invalid field, unknown protocol,
    duplicate name or resource) is left out with a reason, and every other route is served.
    Only a document that is not a route table at all raises ValueError."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"route table is not valid JSON: {exc}") from exc
    if isinstance(doc, dict):
        doc = doc.get("routes")
    if not isinstance(doc, list):
        raise ValueError("route table must be an object with a 'routes' list")
    routes: list[Route] = []
    problems: list[str] = []
    names: set[str] = set()
    resources: set[str] = set()
    for i, raw in enumerate(doc):
        label = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else f"#{i}"
        label = str(label)[:63]
        try:
            route = Route.model_validate(raw)
        except ValidationError as exc:
            reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'route'}: {e['msg']}"
                                for e in exc.errors()[:3])
            problems.append(f"route {label!r} rejected: {reasons}")
            continue
        if route.name in names:
            problems.append(f"route {label!r} rejected: the name is used by an earlier route")
            continue
        if route.resource in resources:
            problems.append(f"route {label!r} rejected: resource '{route.resource}' is served by an earlier route")
            continue
        names.add(route.name)
        resources.add(route.resource)
        routes.append(route)
    return routes, problems


def default_routes(settings: Settings) -> list[Route]:
    routes = [
        Route(name="audio", kind="transcription", resource="transcriptions", upstream=settings.audio_url,
              model="audio", scopes=["transcriptions"], timeout_s=300, max_upload_mb=100, max_concurrency=4),
        Route(name="vlm", kind="statement-extraction", resource="statements", upstream=settings.vlm_url,
              model="vlm", scopes=["statements"], timeout_s=300, max_upload_mb=50, max_concurrency=2),
        Route(name="translation", kind="translation", resource="translations", upstream=settings.translation_url,
              model="translation", scopes=["translations"], timeout_s=600, max_upload_mb=20, max_concurrency=2),
        Route(name="document-qa", kind="document-qa", resource=DOCQA_RESOURCE, upstream=settings.docqa_url,
              model="document-qa", scopes=["documents"], timeout_s=300, max_upload_mb=50, max_concurrency=4),
    ]
    if settings.routes.strip():
        extra = parse_routes(settings.routes)
        by_name = {r.name: r for r in routes}
        for r in extra:
            by_name[r.name] = r
        routes = list(by_name.values())
        resources = [r.resource for r in routes]
        if len(set(resources)) != len(resources):
            raise ValueError("route resources must be unique")
    return routes


class RouteTable:
    """The live route table; `reload_if_changed` swaps it atomically."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._digest: str | None = None
        self.routes: list[Route] = []
        self.by_resource: dict[str, Route] = {}
        self.by_name: dict[str, Route] = {}
        self.source = "env"
        self.last_error: str | None = None
        self.version = 0
        if settings.routes_file:
            self.source = str(settings.routes_file)
            self.reload_if_changed(initial=True)
        else:
            self._install(default_routes(settings))

    def _install(self, routes: list[Route]) -> None:
        self.routes = routes
        self.by_resource = {r.resource: r for r in routes}
        self.by_name = {r.name: r for r in routes}
        self.version += 1

    def reload_if_changed(self, initial: bool = False) -> bool:
        """Re-read the routes file when its content changed. Returns True when swapped."""
        path: Path = self.settings.routes_file  # type: ignore[assignment]
        try:
            text = path.read_text()
        except OSError as exc:
            self.last_error = f"cannot read {path}: {exc}"
            if initial:
                log.warning("routes file unreadable, starting with no routes: %s", exc)
            return False
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest == self._digest:
            return False
        try:
            routes, problems = parse_routes_lenient(text)
        except ValueError as exc:
            self.last_error = str(exc)
            self._digest = digest
            log.error("routes file %s rejected, keeping the previous table: %s", path, exc)
            return False
        self._digest = digest
        self.last_error = "; ".join(problems) if problems else None
        for problem in problems:  # one bad entry never takes the other routes down
            log.error("routes file %s: %s", path, problem)
        self._install(routes)
        log.info("route table loaded from %s: %s", path, ", ".join(f"{r.name} ({r.protocol})" for r in routes))
        return True

    def for_path(self, path: str) -> Route | None:
        """The route whose uploads a request path sends (for upload limits before parsing)."""
        if path in DOCQA_PATHS or path.startswith("/api/v1/documents/"):
            return self.docqa_route()
        if path.startswith("/api/v1/"):
            return self.by_resource.get(path[len("/api/v1/"):].strip("/"))
        if path in ("/v1/audio/transcriptions", "/v1/audio/translations"):
            return self.first_of_kind("transcription")
        return None

    def docqa_route(self) -> Route | None:
        """The document-qa route behind /api/v1/documents, /api/v1/questions and /v1/embeddings:
        the one whose resource is `documents`, else the first of kind document-qa."""
        route = self.by_resource.get(DOCQA_RESOURCE)
        if route is not None and route.kind == "document-qa":
            return route
        return self.first_of_kind("document-qa")

    def first_of_kind(self, kind: str) -> Route | None:
        for r in self.routes:
            if r.kind == kind:
                return r
        return None

    def for_model(self, kind: str, model: str) -> Route | None:
        """The route an OpenAI `model` name selects: name, model or alias match."""
        for r in self.routes:
            if r.kind == kind and (model in (r.name, r.model) or model in r.aliases):
                return r
        return None

    async def watch(self, stop: asyncio.Event) -> None:
        if not self.settings.routes_file:
            return
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.settings.routes_poll_s)
            except asyncio.TimeoutError:
                pass
            if not stop.is_set():
                try:
                    self.reload_if_changed()
                except Exception:  # never let the watcher die
                    log.exception("route reload failed")
