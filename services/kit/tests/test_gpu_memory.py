import pytest

from kit import gpu


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
