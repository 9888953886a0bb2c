import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from kit import gpu
from kit.settings import ServiceSettings


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


def test_memory_fraction():
    sixteen = 16 * 1024**3
    assert gpu.memory_fraction(4, sixteen) == 0.25
    assert gpu.memory_fraction(32, sixteen) == 1.0
    with pytest.raises(ValueError):
        gpu.memory_fraction(0, sixteen)


def test_hidden_devices_mean_no_cuda_and_no_cap(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert gpu.cuda_available() is False
    assert gpu.apply_memory_cap(4.0) is None
    assert gpu.apply_memory_cap(None) is None
