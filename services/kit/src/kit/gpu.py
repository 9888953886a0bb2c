"""GPU detection and the per-service GPU memory cap (`<SERVICE>_MAX_MEMORY_GB`).

Time-slicing shares a GPU's compute but not its memory, so each service caps what its
framework may allocate. PyTorch honours the cap directly; CTranslate2 and ONNX Runtime have no
process-wide cap, so those services size their models to the budget and log it.
"""

from __future__ import annotations

import os

from .logging import get_logger

logger = get_logger(__name__)


def _visible_devices_hidden() -> bool:
    value = os.environ.get("CUDA_VISIBLE_DEVICES")
    return value is not None and value.strip() in ("", "-1", "none", "NoDevFiles")


def cuda_available() -> bool:
    """True when a CUDA device is visible to torch or CTranslate2."""
    if _visible_devices_hidden():
        return False
    try:
        import torch

        if torch.cuda.is_available():
            return True
    except ImportError:
        pass
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except ImportError:
        return False


def memory_fraction(max_memory_gb: float, total_bytes: int) -> float:
    """The share of a device of `total_bytes` that `max_memory_gb` allows, in (0, 1]."""
    if max_memory_gb <= 0:
        raise ValueError("max_memory_gb must be positive")
    return min(1.0, max_memory_gb * 1024**3 / total_bytes)


def apply_memory_cap(max_memory_gb: float | None, device: int = 0) -> float | None:
    """Cap PyTorch's allocator on `device` to the budget; returns the fraction, or None."""
    if not max_memory_gb or _visible_devices_hidden():
        return None
    try:
        import torch
    except ImportError:
        logger.info("no torch: GPU memory budget %.1f GB is advisory", max_memory_gb)
        return None
    if not torch.cuda.is_available():
        return None
    total = torch.cuda.get_device_properties(device).total_memory
    fraction = memory_fraction(max_memory_gb, total)
    torch.cuda.set_per_process_memory_fraction(fraction, device)
    logger.info("GPU memory capped at %.1f GB (%.0f%% of device %d)", max_memory_gb, fraction * 100, device)
    return fraction
