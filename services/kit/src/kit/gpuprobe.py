"""Capability queries: what the machine's GPUs and this Python's CUDA libraries report.

A thin layer on purpose: every function only asks (nvidia-smi or NVML, torch, CTranslate2,
ONNX Runtime) and returns plain JSON-able dicts, never judges. `kit.gpuverdict` judges those
recorded outputs, so the judgement is tested without a GPU. Standard library only at import.

`AIP_GPU_PROBE_FILE=<file.json>` replays a recorded `probe()` output instead of asking (how the
tests start real services "on" an RTX 5060 Ti, and how a user's report is replayed).
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import re
import shutil
import subprocess
import sys

FRAMEWORKS = ("torch", "ctranslate2", "onnxruntime")
PROBE_FILE_ENV = "AIP_GPU_PROBE_FILE"
_SMI_FIELDS = "index,uuid,name,compute_cap,memory.total,memory.free,driver_version"


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"[:300]


def parse_smi_csv(text: str) -> list[dict]:
    """GPUs from `nvidia-smi --query-gpu=<_SMI_FIELDS> --format=csv,noheader,nounits`."""
    gpus = []
    for line in text.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 7:
            continue
        index, uuid, name, cap, total, free, driver = parts
        gpus.append({"index": int(index), "uuid": uuid, "name": name, "capability": cap,
                     "memory_total_mb": float(total), "memory_free_mb": float(free), "driver": driver})
    return gpus


def _nvidia_smi() -> dict | None:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, f"--query-gpu={_SMI_FIELDS}", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=20, check=False)
        head = subprocess.run([exe], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"source": "nvidia-smi", "gpus": [], "error": _short(exc)}
    if out.returncode != 0:
        return {"source": "nvidia-smi", "gpus": [], "error": (out.stderr or out.stdout).strip()[:300]}
    gpus = parse_smi_csv(out.stdout)
    cuda = re.search(r"CUDA Version:\s*([0-9.]+)", head or "")
    return {"source": "nvidia-smi", "gpus": gpus, "driver": gpus[0]["driver"] if gpus else None,
            "driver_cuda": cuda.group(1) if cuda else None, "error": None}


def _nvml() -> dict | None:
    """The same facts through NVML (libnvidia-ml), for images without nvidia-smi."""
    try:
        lib = ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return None
    try:
        if lib.nvmlInit_v2() != 0:
            return {"source": "nvml", "gpus": [], "error": "nvmlInit failed"}
        buf = ctypes.create_string_buffer(96)
        lib.nvmlSystemGetDriverVersion(buf, 96)
        driver = buf.value.decode()
        cuda = ctypes.c_int()
        lib.nvmlSystemGetCudaDriverVersion_v2(ctypes.byref(cuda))
        count = ctypes.c_uint()
        lib.nvmlDeviceGetCount_v2(ctypes.byref(count))

        class Memory(ctypes.Structure):
            _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]

        gpus = []
        for i in range(count.value):
            handle = ctypes.c_void_p()
            lib.nvmlDeviceGetHandleByIndex_v2(i, ctypes.byref(handle))
            lib.nvmlDeviceGetName(handle, buf, 96)
            name = buf.value.decode()
            lib.nvmlDeviceGetUUID(handle, buf, 96)
            uuid = buf.value.decode()
            major, minor = ctypes.c_int(), ctypes.c_int()
            lib.nvmlDeviceGetCudaComputeCapability(handle, ctypes.byref(major), ctypes.byref(minor))
            mem = Memory()
            lib.nvmlDeviceGetMemoryInfo(handle, ctypes.byref(mem))
            gpus.append({"index": i, "uuid": uuid, "name": name, "capability": f"{major.value}.{minor.value}",
                         "memory_total_mb": mem.total / 2**20, "memory_free_mb": mem.free / 2**20,
                         "driver": driver})
        lib.nvmlShutdown()
        return {"source": "nvml", "gpus": gpus, "driver": driver,
                "driver_cuda": f"{cuda.value // 1000}.{cuda.value % 1000 // 10}" if cuda.value else None,
                "error": None}
    except (OSError, AttributeError) as exc:
        return {"source": "nvml", "gpus": [], "error": _short(exc)}


def probe_machine() -> dict:
    """The GPUs the NVIDIA driver shows (nvidia-smi, else NVML); `source` None when neither exists."""
    found = _nvidia_smi() or _nvml()
    if found is None:
        return {"source": None, "gpus": [], "driver": None, "driver_cuda": None, "error": None}
    return found


def probe_torch() -> dict:
    try:
        import torch
    except ImportError:
        return {"installed": False}
    out: dict = {"installed": True, "version": torch.__version__, "cuda": torch.version.cuda,
                 "arch_list": [], "device_count": 0, "devices": [], "kernel": None, "error": None}
    try:
        out["arch_list"] = list(torch.cuda.get_arch_list())
        available = torch.cuda.is_available()
        out["device_count"] = torch.cuda.device_count() if available else 0
        for i in range(out["device_count"]):
            props = torch.cuda.get_device_properties(i)
            free, total = torch.cuda.mem_get_info(i)
            out["devices"].append({"name": props.name, "capability": f"{props.major}.{props.minor}",
                                   "memory_total_mb": total / 2**20, "memory_free_mb": free / 2**20})
        if available:
            try:  # one tiny kernel: "no kernel image is available" shows up here, not at import
                value = (torch.ones(8, device="cuda") * 2).sum().item()
                out["kernel"] = "ok" if value == 16 else f"wrong result {value}"
            except Exception as exc:  # noqa: BLE001 - the error is the finding
                out["kernel"] = _short(exc)
    except Exception as exc:  # noqa: BLE001
        out["error"] = _short(exc)
    return out


def probe_ctranslate2() -> dict:
    try:
        import ctranslate2
    except ImportError:
        return {"installed": False}
    out: dict = {"installed": True, "version": ctranslate2.__version__, "cuda_device_count": 0,
                 "cuda_compute_types": [], "error": None}
    try:
        out["cuda_device_count"] = ctranslate2.get_cuda_device_count()
        if out["cuda_device_count"]:
            out["cuda_compute_types"] = sorted(ctranslate2.get_supported_compute_types("cuda"))
    except Exception as exc:  # noqa: BLE001
        out["error"] = _short(exc)
    return out


def probe_onnxruntime() -> dict:
    try:
        import onnxruntime
    except ImportError:
        return {"installed": False}
    return {"installed": True, "version": onnxruntime.__version__,
            "providers": list(onnxruntime.get_available_providers()), "device": onnxruntime.get_device()}


_PROBES = {"torch": probe_torch, "ctranslate2": probe_ctranslate2, "onnxruntime": probe_onnxruntime}


def probe(frameworks=FRAMEWORKS) -> dict:
    """Everything the verdicts need, as one JSON-able dict (or the recorded one, see above)."""
    recorded = os.environ.get(PROBE_FILE_ENV)
    if recorded:
        with open(recorded, encoding="utf-8") as fh:
            return json.load(fh)
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "machine": probe_machine(),
        "frameworks": {name: _PROBES[name]() for name in frameworks},
    }


if __name__ == "__main__":  # `python -m kit.gpuprobe [framework ...]`: the doctor's per-venv query
    print(json.dumps(probe(tuple(sys.argv[1:]) or FRAMEWORKS), indent=1))
