"""Per-task defaults: model name, environment prefix and gateway route settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskDefaults:
    """What a task implies when the AIService leaves it out."""

    model: str | None
    env_prefix: str | None
    resource: str | None
    timeout_s: int
    max_upload_mb: int
    # frameworks the service runs on the GPU: its startup probe runs kit's GPU check on them
    # (`python -m kit.gpu check`); None: the image is not known to carry kit, no such probe
    gpu_frameworks: str | None = None


# None means: derive from the AIService name (custom services).
TASK_DEFAULTS: dict[str, TaskDefaults] = {
    "transcription": TaskDefaults("audio", "AUDIO", "transcriptions", 300, 100, "ctranslate2"),
    "statement-extraction": TaskDefaults("vlm", "VLM", "statements", 300, 50, "torch"),
    # the same limits as the gateway's built-in routes (services/gateway/.../routetable.py)
    "document-qa": TaskDefaults("document-qa", "DOCQA", "documents", 300, 50),
    "translation": TaskDefaults("translation", "TRANSLATION", "translations", 600, 20),
    "custom": TaskDefaults(None, None, None, 60, 10),
}


def env_prefix_for(name: str) -> str:
    """Environment prefix derived from a resource name: `my-model` -> `MY_MODEL`."""
    return name.upper().replace("-", "_").replace(".", "_")
