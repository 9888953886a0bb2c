"""Option validation, model resolution and device choice, without a server."""

import pytest

from audio_service.model import resolve_device, resolve_model
from audio_service.options import parse_options
from audio_service.settings import Settings
from kit_kserve.errors import InvalidInput


def test_defaults_and_kwargs():
    opts = parse_options({}, english_only=True)
    kwargs = opts.transcribe_kwargs()
    assert kwargs == {"language": None, "task": "transcribe", "beam_size": 5, "vad_filter": False,
                      "word_timestamps": False, "initial_prompt": None}
    opts = parse_options({"language": " EN ", "temperature": [0.0, 0.4], "unknown": 1}, english_only=True)
    assert opts.language == "en" and opts.transcribe_kwargs()["temperature"] == [0.0, 0.4]
    assert parse_options({"temperature": 0}, english_only=True).temperature == 0
    assert parse_options({"language": "auto"}, english_only=True).language is None


def test_multilingual_model_accepts_other_languages_and_translate():
    opts = parse_options({"language": "de", "task": "translate"}, english_only=False)
    assert opts.language == "de" and opts.task == "translate"


@pytest.mark.parametrize("raw, code", [({"language": "zz"}, "unknown_language"),
                                       ({"language": "de"}, "english_only_model"),
                                       ({"beam_size": 2.5}, "invalid_option"),
                                       ({"temperature": []}, "invalid_option")])
def test_rejections(raw, code):
    with pytest.raises(InvalidInput) as exc:
        parse_options(raw, english_only=True)
    assert exc.value.code == code


def test_resolve_model(tmp_path, monkeypatch):
    default = resolve_model("")
    assert default.endswith("model") and (tmp_path.parent / "x").exists() is False
    assert resolve_model(str(tmp_path)) == str(tmp_path)
    assert resolve_model("small.en") == "small.en"
    assert resolve_model("Systran/faster-whisper-base") == "Systran/faster-whisper-base"
    with pytest.raises(ValueError):
        resolve_model("/no/such/dir")
    with pytest.raises(ValueError):
        resolve_model("gigantic")


def test_resolve_device(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert resolve_device("auto", "auto") == ("cpu", "int8")
    assert resolve_device("cuda", "auto") == ("cuda", "float16")
    assert resolve_device("cpu", "float32") == ("cpu", "float32")


def test_settings_from_env(monkeypatch):
    monkeypatch.setenv("AUDIO_MAX_DURATION_S", "12.5")
    monkeypatch.setenv("AUDIO_CPU_THREADS", "3")
    s = Settings()
    assert s.port == 8001 and s.effective_grpc_port == 9001
    assert s.max_duration_s == 12.5 and s.cpu_threads == 3 and s.device == "auto"


def test_decode_resamples_stereo_44k_to_16k_mono(tmp_path):
    import subprocess

    from audio_service import testaudio
    from audio_service.audio import SAMPLE_RATE, decode

    wav = testaudio.speak("Stereo at forty four kilohertz.", tmp_path / "mono.wav")
    stereo = tmp_path / "stereo.wav"
    subprocess.run(["sox", str(wav), "-r", "44100", "-c", "2", str(stereo)], check=True)
    mono = decode(wav.read_bytes(), 60)
    out = decode(stereo.read_bytes(), 60)
    assert out.samples.ndim == 1 and out.samples.dtype.name == "float32"
    assert abs(out.duration - mono.duration) < 0.01 and out.samples.size == pytest.approx(mono.duration * SAMPLE_RATE, abs=16)
    assert 0.05 < float(abs(out.samples).max()) <= 1.0
    with pytest.raises(InvalidInput) as exc:
        decode(stereo.read_bytes(), 1.0)
    assert exc.value.code == "audio_too_long"
