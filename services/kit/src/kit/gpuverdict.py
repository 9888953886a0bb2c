"""Pure verdicts over recorded capability queries (`kit.gpuprobe.probe()` output).

`decide` answers, for one service: which device it will use, what it warns about, or why it
must refuse to start (with the fix). The service start-up check, the cluster startup probe and
`make doctor` all call it, so they cannot disagree. Standard library only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

TORCH_INDEX = "https://download.pytorch.org/whl/cu128"
TORCH_FIX = (f"install a CUDA 12.8+ build of torch (pip install torch==<version> --index-url {TORCH_INDEX}) "
             "or use the service's Dockerfile.gpu image")
CT2_FIX = ("CTranslate2's PyPI wheels load CUDA 12 and cuDNN 9 at run time: use the service's Dockerfile.gpu "
           "image (nvidia/cuda:12.8.1-cudnn-runtime) or pip install nvidia-cublas-cu12 nvidia-cudnn-cu12")
DRIVER_FIX = "install an NVIDIA driver of the 570 series or newer (CUDA 12.8; Blackwell needs it)"
GPU_FIX = ("give the process a GPU (docker run --gpus all, an nvidia.com/gpu limit, CUDA_VISIBLE_DEVICES) "
           "or set {prefix}_DEVICE=auto or cpu")

READY_GPU, CPU, BROKEN = "ready on GPU", "will run on CPU", "broken"


@dataclass
class FrameworkCheck:
    """One framework's ability to use the selected GPU."""

    name: str
    version: str | None
    cuda: str | None = None
    detail: str = ""
    problem: str | None = None
    fix: str | None = None
    warning: str | None = None


@dataclass
class Decision:
    """The device a service will use, and why."""

    device: str
    requested: str
    budget_gb: float | None
    gpu: dict | None = None
    frameworks: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    fixes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.error:
            return BROKEN
        return READY_GPU if self.device == "cuda" else CPU

    def to_dict(self) -> dict:
        return {**asdict(self), "verdict": self.verdict}


def capability(text: str | None) -> tuple[int, int] | None:
    """`"12.0"` -> (12, 0)."""
    try:
        major, minor = str(text).split(".")[:2]
        return int(major), int(minor)
    except (ValueError, AttributeError):
        return None


def sm(cap: tuple[int, int]) -> str:
    return f"sm_{cap[0]}{cap[1]}"


def _arch(entry: str) -> tuple[str, tuple[int, int]] | None:
    kind, _, num = entry.partition("_")
    if kind not in ("sm", "compute") or not num[:-1].isdigit():
        return None
    digits = "".join(ch for ch in num if ch.isdigit())
    return kind, (int(digits[:-1]), int(digits[-1]))


def arch_support(arch_list: list[str], cap: tuple[int, int]) -> str | None:
    """How a build with `arch_list` runs on a device of `cap`: "native" (a cubin of the same
    major and a minor not above the device's: binary compatible), "ptx" (only PTX of an older
    architecture: JIT-compiled at first use, slow and not for every kernel), or None."""
    parsed = [a for a in (_arch(e) for e in arch_list) if a]
    if any(kind == "sm" and c[0] == cap[0] and c[1] <= cap[1] for kind, c in parsed):
        return "native"
    if any(kind == "compute" and c <= cap for kind, c in parsed):
        return "ptx"
    return None


def _version(text: str | None) -> tuple[int, int] | None:
    return capability(text)


def select_gpu(probe: dict) -> dict | None:
    """The GPU a service would use: the first the driver shows after CUDA_VISIBLE_DEVICES,
    else the first torch reports; None when none is visible."""
    visible = probe.get("cuda_visible_devices")
    if visible is not None and visible.strip() in ("", "-1", "none", "NoDevFiles"):
        return None
    gpus = (probe.get("machine") or {}).get("gpus") or []
    if visible and gpus:
        first = visible.split(",")[0].strip()
        chosen = [g for g in gpus if str(g.get("index")) == first or str(g.get("uuid", "")).startswith(first)]
        gpus = chosen
    if gpus:
        return gpus[0]
    devices = ((probe.get("frameworks") or {}).get("torch") or {}).get("devices") or []
    return devices[0] if devices else None


def _gpu_label(gpu: dict) -> str:
    cap = capability(gpu.get("capability"))
    arch = sm(cap) if cap else "unknown architecture"
    return f"{gpu.get('name', 'GPU')} ({arch}, {gpu.get('memory_total_mb', 0) / 1024:.0f} GB)"


def check_torch(fw: dict, gpu: dict | None, machine: dict) -> FrameworkCheck:
    check = FrameworkCheck("torch", fw.get("version"), fw.get("cuda"))
    archs = fw.get("arch_list") or []
    check.detail = f"CUDA {fw['cuda']}, {', '.join(archs) or 'no architectures'}" if fw.get("cuda") else "CPU-only build"
    if gpu is None:
        return check
    cap = capability(gpu.get("capability"))
    if not fw.get("cuda"):
        check.problem = f"torch {fw.get('version')} is a CPU-only build; it cannot use the {_gpu_label(gpu)}"
        check.fix = TORCH_FIX
        return check
    runtime, driver = _version(fw.get("cuda")), _version(machine.get("driver_cuda"))
    if runtime and driver and runtime[0] > driver[0]:
        check.problem = (f"torch {fw.get('version')} needs CUDA {fw['cuda']} but the driver "
                         f"{machine.get('driver')} supports only CUDA {machine['driver_cuda']}")
        check.fix = DRIVER_FIX
        return check
    if cap and cap >= (12, 0) and runtime and runtime < (12, 8):
        check.problem = (f"torch {fw.get('version')} is built for CUDA {fw['cuda']}; the {_gpu_label(gpu)} "
                         "needs CUDA 12.8 or newer")
        check.fix = TORCH_FIX
        return check
    if cap and archs:
        support = arch_support(archs, cap)
        if support is None:
            check.problem = (f"torch {fw.get('version')} (CUDA {fw['cuda']}) has kernels for {', '.join(archs)}, "
                             f"not {sm(cap)} of the {_gpu_label(gpu)}: the first kernel would fail with "
                             "'no kernel image is available'")
            check.fix = TORCH_FIX
            return check
        if support == "ptx":
            check.warning = (f"torch {fw.get('version')} has no {sm(cap)} kernels, only older PTX: slow first start "
                             "and missing kernels are possible")
    if fw.get("error") or not fw.get("device_count"):
        check.problem = f"torch sees no CUDA device ({fw.get('error') or 'torch.cuda.is_available() is False'})"
        check.fix = DRIVER_FIX if machine.get("source") else GPU_FIX
        return check
    if fw.get("kernel") not in (None, "ok"):
        check.problem = f"a tiny torch kernel failed on the GPU: {fw['kernel']}"
        check.fix = TORCH_FIX
    return check


def check_ctranslate2(fw: dict, gpu: dict | None, machine: dict) -> FrameworkCheck:
    check = FrameworkCheck("ctranslate2", fw.get("version"))
    count = fw.get("cuda_device_count") or 0
    types = fw.get("cuda_compute_types") or []
    check.detail = f"{count} CUDA device(s)" + (f", {', '.join(types)}" if types else "")
    if gpu is None:
        return check
    if fw.get("error") or not count:
        why = fw.get("error") or "get_cuda_device_count() is 0"
        check.problem = (f"CTranslate2 {fw.get('version')} cannot use the {_gpu_label(gpu)} ({why}): a build "
                         "without CUDA, or the CUDA 12 / cuDNN 9 libraries are missing")
        check.fix = DRIVER_FIX if "driver" in why.lower() else CT2_FIX
        return check
    if "float16" not in types:
        check.warning = f"CTranslate2 offers no float16 on this GPU ({', '.join(types) or 'no types'})"
    return check


def check_onnxruntime(fw: dict, gpu: dict | None, machine: dict) -> FrameworkCheck:
    providers = fw.get("providers") or []
    check = FrameworkCheck("onnxruntime", fw.get("version"), detail=", ".join(providers))
    if gpu is not None and "CUDAExecutionProvider" not in providers:
        check.detail += " (runs on the CPU: no CUDAExecutionProvider)"
    return check


CHECKS = {"torch": check_torch, "ctranslate2": check_ctranslate2, "onnxruntime": check_onnxruntime}


def check_frameworks(probe: dict, names, gpu: dict | None) -> list[FrameworkCheck]:
    """The checks of the named frameworks that are installed."""
    out = []
    for name in names:
        fw = (probe.get("frameworks") or {}).get(name) or {}
        if fw.get("installed"):
            out.append(CHECKS[name](fw, gpu, probe.get("machine") or {}))
    return out


def budget_problem(budget_gb: float | None, gpu: dict, prefix: str) -> str | None:
    """Why the budget does not fit the GPU (its total, then its free memory), or None."""
    if not budget_gb:
        return None
    total = gpu.get("memory_total_mb", 0) / 1024
    free = gpu.get("memory_free_mb")
    if total and budget_gb > total:
        return f"{prefix}_MAX_MEMORY_GB={budget_gb:g} is more than the {_gpu_label(gpu)} has"
    if free is not None and budget_gb > free / 1024:
        return (f"{prefix}_MAX_MEMORY_GB={budget_gb:g} is more than the {free / 1024:.1f} GB free on the "
                f"{_gpu_label(gpu)} (other processes hold {total - free / 1024:.1f} GB)")
    return None


def decide(prefix: str, requested: str | None, budget_gb: float | None, probe: dict,
           frameworks=("torch", "ctranslate2")) -> Decision:
    """The device for a service asking for `requested` (auto, cpu, cuda[:N]) with a budget."""
    requested = (requested or "auto").strip().lower()
    wants_cuda = requested.startswith("cuda")
    gpu = None if requested == "cpu" else select_gpu(probe)
    checks = check_frameworks(probe, frameworks, gpu)
    decision = Decision("cpu", requested, budget_gb, gpu=gpu, frameworks=[asdict(c) for c in checks])
    if requested == "cpu":
        decision.notes.append(f"{prefix}_DEVICE=cpu")
        return decision
    if gpu is None:
        why = "no GPU is visible" + (" (CUDA_VISIBLE_DEVICES hides it)" if (probe.get("machine") or {}).get("gpus")
                                     else "")
        if wants_cuda:
            decision.error = f"{prefix}_DEVICE={requested} but {why}"
            decision.fixes.append(GPU_FIX.format(prefix=prefix))
        else:
            decision.notes.append(f"{why}: running on the CPU")
        return decision
    used = [c for c in checks if c.name != "onnxruntime"]
    problems = [c.problem for c in used if c.problem]
    fixes = [c.fix for c in used if c.fix]
    if not used:
        problems.append(f"none of {', '.join(frameworks)} is installed in this environment")
    budget = budget_problem(budget_gb, gpu, prefix)
    if budget:
        problems.append(budget)
        fixes.append(f"lower {prefix}_MAX_MEMORY_GB or free GPU memory (nvidia-smi shows who holds it)")
    warnings = [c.warning for c in used if c.warning]
    if not problems:
        decision.device = "cuda"
        decision.warnings = warnings
        if not budget_gb:
            decision.warnings.append(f"no {prefix}_MAX_MEMORY_GB budget: this service may take the whole GPU")
        return decision
    message = "; ".join(problems)
    if wants_cuda:
        decision.error = f"{prefix}_DEVICE={requested} cannot be served: {message}"
        decision.fixes = fixes
    else:
        decision.warnings.append(f"a GPU is visible but not usable, falling back to the CPU: {message}")
        decision.fixes = fixes
    return decision


def budget_overview(budgets: dict[str, float | None], gpu: dict | None) -> tuple[str, str | None]:
    """A line summing the services' budgets against the card, and a warning when they overflow it
    (time-slicing shares compute but not memory)."""
    set_ = {k: v for k, v in budgets.items() if v}
    total = sum(set_.values())
    if not set_:
        return "budgets: none set (<SERVICE>_MAX_MEMORY_GB)", None
    parts = " + ".join(f"{k} {v:g}" for k, v in set_.items())
    if gpu is None:
        return f"budgets: {parts} = {total:g} GB (no GPU to compare with)", None
    card = gpu.get("memory_total_mb", 0) / 1024
    line = f"budgets: {parts} = {total:g} GB of {card:.1f} GB"
    if total > card:
        return line, f"the budgets add up to {total:g} GB, more than the {card:.1f} GB card: lower some"
    return line, None
