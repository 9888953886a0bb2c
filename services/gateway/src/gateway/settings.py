"""The gateway's one settings object, read from `GATEWAY_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the gateway. See `.env.example` and docs/GATEWAY_API.md."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8090
    log_level: str = "INFO"
    data_dir: Path = Field(Path("./.data/gateway"), description="job uploads and the SQLite file")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir")
    auto_migrate: bool = Field(True, description="run Alembic migrations at startup")

    header_timeout_s: float = Field(10.0, gt=0, description="a request's headers must arrive within this (408)")
    body_timeout_s: float = Field(300.0, gt=0, description="a request's body must arrive within this after its "
                                  "headers (408); 300 s lets a 100 MB upload through at ~350 kB/s")

    # auth
    api_keys: str = Field("", description="seed keys `key[:scope,scope];key2` (no scopes = all)")
    auth_cache_s: float = Field(5.0, ge=0, description="how long a looked-up key is trusted")
    rate_limit_per_minute: int = Field(600, ge=1, description="requests per key per minute")
    rate_limit_burst: int | None = Field(None, ge=1, description="requests at once; default = per minute / 2")
    rate_limit_storage: str = Field("memory://", pattern=r"^(async\+)?(memory|redis|rediss|redis\+sentinel)://",
                                    description="memory:// (one process) or redis://host:6379/0 (shared by replicas)")

    # routes and upstreams
    routes_file: Path | None = Field(None, description="JSON route table, reloaded when it changes")
    routes: str = Field("", description="extra routes as inline JSON {\"routes\": [...]}")
    audio_url: str = "http://127.0.0.1:8001"
    vlm_url: str = "http://127.0.0.1:8000"
    translation_url: str = "http://127.0.0.1:8003"
    docqa_url: str = Field("http://127.0.0.1:8002", description="document-qa-service (the `documents` route)")
    docqa_async_over_mb: float = Field(8.0, gt=0, description="document uploads larger than this run as jobs")
    routes_poll_s: float = Field(2.0, gt=0, description="how often the routes file is checked")
    breaker_failures: int = Field(5, ge=1, description="consecutive failures that open a breaker")
    breaker_reset_s: float = Field(10.0, gt=0, description="open time before a half-open probe")
    connect_timeout_s: float = Field(2.0, gt=0)
    max_queue: int = Field(32, ge=0, description="requests waiting per upstream beyond max_concurrency")
    health_timeout_s: float = Field(2.0, gt=0)
    sse_ping_s: float = Field(15.0, gt=0, description="a keep-alive comment (`: ping`) on every server-sent event "
                              "stream this often, so proxies do not drop a quiet stream")

    # jobs
    job_workers: int = Field(2, ge=1, description="jobs run at once in this process")
    job_poll_s: float = Field(1.0, gt=0, description="how often workers look for queued jobs")
    job_lease_s: float = Field(30.0, gt=0, description="a running job whose heartbeat is older is recovered")
    job_max_attempts: int = Field(3, ge=1, description="tries for transient upstream failures")
    job_retry_delay_s: float = Field(5.0, ge=0)

    # live transcription (WebSocket /api/v1/<resource>/live)
    live_token_ttl_s: float = Field(60.0, gt=0, description="how long a live token may open sessions")
    live_token_secret: str = Field("", description="HMAC key of live tokens; empty: random per process "
                                   "(set one shared value when several gateway replicas run)")
    live_max_sessions_per_key: int = Field(2, ge=1, description="live sessions open at once per API key")
    live_idle_timeout_s: float = Field(15.0, gt=0, description="a live session with no message for this long ends")
    live_max_session_s: float = Field(900.0, gt=0, description="longest live session, seconds")
    live_max_frame_kb: int = Field(256, ge=1, description="largest WebSocket frame a client may send")

    # page images of statement jobs (the web UI's document view)
    page_retention_s: float = Field(86400.0, gt=0, description="how long a statement job's document is kept "
                                    "for its page images")
    page_image_max_width: int = Field(2000, ge=200, le=4000, description="widest page image in pixels")
    page_image_max_mb: float = Field(10.0, gt=0, description="largest page image; wider renders get 413")

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or an SQLite file inside the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gateway.db').resolve()}"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def pages_dir(self) -> Path:
        return self.data_dir / "pages"


@lru_cache
def get_settings() -> Settings:
    return Settings()
