"""Per-service settings read from `<SERVICE>_*` environment variables."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Settings every model service has; subclass with its own `env_prefix` and fields.

    Example::

        class Settings(ServiceSettings):
            model_config = SettingsConfigDict(env_prefix="AUDIO_", env_file=".env", extra="ignore")
            port: int = 8001
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    port: int = Field(8080, description="HTTP port (KServe REST)")
    grpc_port: int | None = Field(None, description="gRPC port; default HTTP port + 1000")
    enable_grpc: bool = True
    log_level: str = "INFO"
    max_memory_gb: float | None = Field(None, gt=0, description="GPU memory budget of this service")
    max_concurrency: int = Field(2, ge=1, description="inferences running at once")
    max_queue: int = Field(16, ge=0, description="inferences allowed to wait; more get 503")
    max_instances: int = Field(16, ge=1, description="items (documents, recordings) per request; more get 413")
    max_request_mb: float = Field(100, gt=0, description="largest request body (REST and gRPC); larger get 413")
    header_timeout_s: float = Field(10, gt=0, description="time allowed for a request's line and headers; then 408")
    body_timeout_s: float = Field(120, gt=0, description="time allowed for a request's whole body; then 408")

    @property
    def max_request_bytes(self) -> int:
        return int(self.max_request_mb * 1024 * 1024)

    @property
    def effective_grpc_port(self) -> int:
        """The gRPC port, defaulting to the HTTP port + 1000."""
        return self.grpc_port if self.grpc_port is not None else self.port + 1000
