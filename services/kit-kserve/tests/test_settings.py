import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from kit_kserve.settings import ServiceSettings


class AudioSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUDIO_", extra="ignore")
    port: int = 8001


def test_settings_read_service_prefix(monkeypatch):
    monkeypatch.setenv("AUDIO_PORT", "9100")
    monkeypatch.setenv("AUDIO_MAX_MEMORY_GB", "3.5")
    monkeypatch.setenv("VLM_PORT", "1")
    settings = AudioSettings()
    assert settings.port == 9100
    assert settings.max_memory_gb == 3.5
    assert settings.effective_grpc_port == 10100


def test_settings_reject_bad_values(monkeypatch):
    monkeypatch.setenv("AUDIO_MAX_MEMORY_GB", "-1")
    with pytest.raises(ValidationError):
        AudioSettings()
