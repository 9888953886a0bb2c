"""Model directories loaded as translation engines: transformers or CTranslate2.

A directory is a transformers seq2seq model (MarianMT, NLLB-200, M2M100, MADLAD-400/T5) or a
CTranslate2 conversion of one (`model.bin` plus the tokenizer files). The family, taken from the
tokenizer, decides how languages are named: a MarianMT model is one pair (its tokenizer's
`source_lang`/`target_lang`, or `opus-mt-xx-yy` in the directory name) or one source to several
`>>xx<<` targets; the multilingual families translate between every language they know.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from kit import gpu
from kit.logging import get_logger

from . import languages

logger = get_logger(__name__)

CLUSTER_MODEL_DIR = "/mnt/models"
SIDECAR = "translation.json"  # family and pair of a CTranslate2 directory (its config.json is CTranslate2's)
INPUT_TOKEN_CAP = 400
_WEIGHTS = re.compile(r".*\.(safetensors|bin|pt|pth|h5|msgpack|ckpt)$|^config\.json$|^generation_config\.json$")
_PAIR_IN_NAME = re.compile(r"opus-mt-([a-z]{2,3})-([a-z]{2,3})(?:$|[^a-z])", re.I)
NOT_CONFIGURED = ("no translation model configured: set TRANSLATION_MODEL to a model directory (MarianMT "
                  "opus-mt-xx-yy per pair, or NLLB-200 / M2M100 / MADLAD-400; comma-separate several) or mount "
                  "one at /mnt/models; see services/translation/README.md")


class ModelConfigError(RuntimeError):
    """TRANSLATION_MODEL names something that cannot be loaded as a translation model."""


def model_dirs(setting: str) -> list[str]:
    """The configured directories; empty setting: /mnt/models when something is mounted, else none."""
    names = [p.strip() for p in setting.split(",") if p.strip()]
    if not names:
        mounted = Path(CLUSTER_MODEL_DIR)
        return [str(mounted)] if (mounted / "config.json").is_file() or (mounted / "model.bin").is_file() else []
    for name in names:
        if not Path(name).is_dir():
            raise ModelConfigError(f"TRANSLATION_MODEL: {name!r} is not a directory (models are never downloaded "
                                   "at run time; see the README for how to fetch and mount one)")
    return names


def family_of(path: Path) -> str:
    """marian | nllb | m2m100 | madlad, from the sidecar, the tokenizer class or the model type."""
    sidecar = path / SIDECAR
    if sidecar.is_file():
        return json.loads(sidecar.read_text())["family"]
    tok_cls = ""
    tok_cfg = path / "tokenizer_config.json"
    if tok_cfg.is_file():
        tok_cls = str(json.loads(tok_cfg.read_text()).get("tokenizer_class") or "").lower()
    model_type = ""
    cfg = path / "config.json"
    if cfg.is_file():
        model_type = str(json.loads(cfg.read_text()).get("model_type") or "").lower()
    if "marian" in tok_cls or model_type == "marian":
        return "marian"
    if "nllb" in tok_cls:
        return "nllb"
    if "m2m" in tok_cls or model_type == "m2m_100":
        return "m2m100"
    if "t5" in tok_cls or model_type == "t5":
        return "madlad"
    raise ModelConfigError(f"{path}: not a MarianMT, NLLB-200, M2M100 or MADLAD-400 model "
                           f"(tokenizer {tok_cls or '?'}, model type {model_type or '?'})")


def resolve_device(device: str) -> str:
    return ("cuda" if gpu.cuda_available() else "cpu") if device == "auto" else device


@dataclass
class Engine:
    """One loaded model: which languages it translates and how to call it."""

    path: str
    family: str
    backend: str
    tokenizer: object
    sources: list[str]
    targets: list[str]
    max_input_tokens: int
    beam_size: int
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def pairs(self) -> list[tuple[str, str]]:
        return [(s, t) for s in self.sources for t in self.targets if s != t]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=True)["input_ids"])

    def prepare(self, texts: list[str], source: str, target: str) -> list[str]:
        """Texts with the family's target marker and the tokenizer set for the source."""
        tok = self.tokenizer
        if self.family == "nllb":
            tok.src_lang = languages.nllb_code(source)
        elif self.family == "m2m100":
            tok.src_lang = source
        if self.family == "madlad":
            return [f"<2{target}> {t}" for t in texts]
        if self.family == "marian" and len(self.targets) > 1:
            return [f">>{target}<< {t}" for t in texts]
        return list(texts)

    def target_token(self, target: str) -> str | None:
        if self.family == "nllb":
            return languages.nllb_code(target)
        if self.family == "m2m100":
            return f"__{target}__"
        return None

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        with self._lock:  # the tokenizer's source language is state
            return self._translate(self.prepare(texts, source, target), target)

    def _translate(self, texts: list[str], target: str) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError


class TransformersEngine(Engine):
    model: object = None
    device: str = "cpu"

    def _translate(self, texts: list[str], target: str) -> list[str]:
        import torch

        enc = self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True,
                             max_length=self.max_input_tokens).to(self.device)
        kwargs = {}
        token = self.target_token(target)
        if token:
            kwargs["forced_bos_token_id"] = self.tokenizer.convert_tokens_to_ids(token)
        longest = int(enc["input_ids"].shape[1])
        with torch.inference_mode():
            out = self.model.generate(**enc, num_beams=self.beam_size, max_new_tokens=int(longest * 1.6) + 8,
                                      **kwargs)
        return [t.strip() for t in self.tokenizer.batch_decode(out, skip_special_tokens=True)]


class CTranslate2Engine(Engine):
    translator: object = None

    def _translate(self, texts: list[str], target: str) -> list[str]:
        tok = self.tokenizer
        batch = [tok.convert_ids_to_tokens(tok(t, truncation=True, max_length=self.max_input_tokens)["input_ids"])
                 for t in texts]
        token = self.target_token(target)
        prefix = [[token]] * len(batch) if token else None
        longest = max(len(b) for b in batch)
        results = self.translator.translate_batch(batch, target_prefix=prefix, beam_size=self.beam_size,
                                                  max_decoding_length=int(longest * 1.6) + 8)
        out = []
        for res in results:
            hyp = res.hypotheses[0]
            if token and hyp and hyp[0] == token:
                hyp = hyp[1:]
            out.append(tok.decode(tok.convert_tokens_to_ids(hyp), skip_special_tokens=True).strip())
        return out


def _languages(path: Path, family: str, tokenizer) -> tuple[list[str], list[str]]:
    if family == "marian":
        sidecar = path / SIDECAR
        meta = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
        src = meta.get("source_lang") or getattr(tokenizer, "source_lang", None)
        tgt = meta.get("target_lang") or getattr(tokenizer, "target_lang", None)
        if not (src and tgt):
            m = _PAIR_IN_NAME.search(path.resolve().name)
            if m:
                src, tgt = m.group(1).lower(), m.group(2).lower()
        multi = sorted({c.strip("><") for c in getattr(tokenizer, "supported_language_codes", []) or []})
        if src and multi:
            return [languages.normalize(src)], [languages.normalize(c) for c in multi]
        if not (src and tgt):
            raise ModelConfigError(f"{path}: a MarianMT model must name its pair (tokenizer source_lang/target_lang "
                                   "or a directory named opus-mt-xx-yy)")
        return [languages.normalize(src)], [languages.normalize(tgt)]
    vocab = tokenizer.get_vocab()
    if family == "nllb":
        codes = [iso for iso, (_n, flores) in languages.LANGUAGES.items() if flores in vocab]
    elif family == "m2m100":
        codes = [iso for iso in languages.LANGUAGES if f"__{iso}__" in vocab]
    else:
        codes = [iso for iso in languages.LANGUAGES if f"<2{iso}>" in vocab]
    if not codes:
        raise ModelConfigError(f"{path}: no known language codes in the {family} tokenizer")
    return codes, codes


def _input_limit(path: Path, configured: int, tokenizer=None) -> int:
    """The setting, else the model's positions (sidecar or config.json), else the tokenizer's
    `model_max_length` (a CTranslate2 directory converted by hand), at most INPUT_TOKEN_CAP."""
    if configured:
        return configured
    for name in (SIDECAR, "config.json"):
        cfg = path / name
        if cfg.is_file():
            doc = json.loads(cfg.read_text())
            limit = doc.get("max_input_tokens") or doc.get("max_position_embeddings") or doc.get("n_positions")
            if limit:
                return min(int(limit), INPUT_TOKEN_CAP)
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < 1_000_000:
        return min(limit, INPUT_TOKEN_CAP)
    return INPUT_TOKEN_CAP


def convert_to_ctranslate2(path: Path, out_root: Path, quantization: str | None = None) -> Path:
    """Convert a transformers directory once (keyed by its config and weights' sizes); the
    tokenizer files and a sidecar with family and pair go with it."""
    from ctranslate2.converters import TransformersConverter
    from transformers import AutoTokenizer

    stamp = hashlib.sha256()
    for f in sorted(path.iterdir()):
        stamp.update(f"{f.name}:{f.stat().st_size}:{int(f.stat().st_mtime)}".encode())
    out = out_root / f"{path.resolve().name}-{stamp.hexdigest()[:10]}"
    if (out / "model.bin").is_file():
        return out
    family = family_of(path)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    sources, targets = _languages(path, family, tokenizer)
    files = [str(f) for f in sorted(path.iterdir()) if f.is_file() and not _WEIGHTS.match(f.name)]
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    logger.info("converting %s to CTranslate2 in %s", path, out)
    TransformersConverter(str(path), copy_files=files, low_cpu_mem_usage=True).convert(
        str(tmp), quantization=quantization, force=True)
    meta = {"family": family, "max_input_tokens": _input_limit(path, 0)}
    if family == "marian" and len(sources) == 1 and len(targets) == 1:
        meta.update(source_lang=sources[0], target_lang=targets[0])
    (tmp / SIDECAR).write_text(json.dumps(meta))
    tmp.rename(out)
    return out


def load_engine(path_str: str, backend: str, device: str, compute_type: str, threads: int,
                beam_size: int, max_input_tokens: int, ct2_dir: str) -> Engine:
    """Load one directory with the chosen backend (auto: CTranslate2 when it is a conversion)."""
    from transformers import AutoTokenizer

    path = Path(path_str)
    is_ct2 = (path / "model.bin").is_file()
    if backend == "auto":
        backend = "ctranslate2" if is_ct2 else "transformers"
    if backend == "transformers" and is_ct2:
        raise ModelConfigError(f"{path} is a CTranslate2 model; use TRANSLATION_BACKEND=ctranslate2 or auto")
    if backend == "ctranslate2" and not is_ct2:
        path = convert_to_ctranslate2(path, Path(ct2_dir))
    family = family_of(path)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    sources, targets = _languages(path, family, tokenizer)
    common = dict(path=str(path), family=family, backend=backend, tokenizer=tokenizer, sources=sources,
                  targets=targets, max_input_tokens=_input_limit(path, max_input_tokens, tokenizer), beam_size=beam_size)
    device = resolve_device(device)
    if backend == "ctranslate2":
        import ctranslate2

        if compute_type == "auto":
            compute_type = "int8_float16" if device == "cuda" else "int8"
        engine = CTranslate2Engine(**common)
        engine.translator = ctranslate2.Translator(str(path), device=device, compute_type=compute_type,
                                                   inter_threads=1, intra_threads=threads)
    else:
        import torch
        from transformers import AutoModelForSeq2SeqLM

        if device == "cpu":
            torch.set_num_threads(threads)
        dtype = torch.float16 if device == "cuda" else torch.float32
        engine = TransformersEngine(**common)
        engine.model = AutoModelForSeq2SeqLM.from_pretrained(str(path), dtype=dtype).to(device).eval()
        engine.device = device
    logger.info("loaded %s model %s with %s on %s: %s -> %s", family, path, backend, device,
                ",".join(sources[:8]) + ("..." if len(sources) > 8 else ""),
                ",".join(targets[:8]) + ("..." if len(targets) > 8 else ""))
    return engine
