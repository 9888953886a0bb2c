"""Stage 6: the vision-language model (transformers `AutoModelForImageTextToText` + processor).

Used for `task: ask` on a page image and as the fallback extractor of pages whose checks fail:
prompted for JSON, its output is repaired, validated and normalised before it is re-checked.
`VLM_MODEL` is a local path, a hub id (offline cache) or `/mnt/models`; on a GPU when one is
present and the model fits `VLM_MAX_MEMORY_GB`, else on the CPU."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from kit.gpu import apply_memory_cap, cuda_available
from kit.logging import get_logger

from .normalize import CENT, clean_description, match_date_prefix, parse_money, resolve

logger = get_logger(__name__)

EXTRACT_PROMPT = (
    "This image is one page of a bank statement. List every transaction row of its table as JSON "
    'only, no prose: {"transactions": [{"date": "YYYY-MM-DD", "description": "text", '
    '"amount": "-12.34", "balance": "100.00"}]}. Amounts are negative for money out and positive '
    "for money in (the account holder's view: purchases, fees and interest charged negative; "
    "payments, deposits and refunds positive); balance is the running balance printed on the row, or null."
)


WORDS_LIMIT = 4000


def extract_prompt(words: str = "") -> str:
    """The extraction prompt, with the page's words as read so far (cut to WORDS_LIMIT characters)."""
    if not words.strip():
        return EXTRACT_PROMPT
    return (EXTRACT_PROMPT + " The words already read from this page, line by line (they may contain "
            "reading errors; the image decides):\n" + words[:WORDS_LIMIT])


class VLMOutputError(ValueError):
    """The model's answer could not be turned into valid transactions."""


@dataclass
class VLMRow:
    date: object
    description: str
    amount: Decimal
    balance: Decimal | None


def _model_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.glob("*.safetensors")) + sum(
        f.stat().st_size for f in path.glob("*.bin"))


class VLM:
    """A loaded VLM; `generate` is serialised (one page at a time)."""

    def __init__(self, source: str, max_memory_gb: float | None = None, device: str | None = None,
                 max_new_tokens: int = 1024, image_side: int = 1280):
        self.source = source
        self.max_memory_gb = max_memory_gb
        self.requested_device = device
        self.max_new_tokens = max_new_tokens
        self.image_side = image_side
        self.model = None
        self.processor = None
        self.device = "cpu"
        self._lock = threading.Lock()

    def load(self) -> "VLM":
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        start = time.perf_counter()
        path = Path(self.source)
        local = path.exists()
        device = self.requested_device or ("cuda" if cuda_available() else "cpu")
        if device.startswith("cuda") and self.max_memory_gb and local:
            size_gb = _model_bytes(path) / 1024**3
            if size_gb > 0.9 * self.max_memory_gb:
                logger.warning("VLM weights (%.1f GB) exceed VLM_MAX_MEMORY_GB=%.1f; using the CPU",
                               size_gb, self.max_memory_gb)
                device = "cpu"
        if device.startswith("cuda"):
            apply_memory_cap(self.max_memory_gb)
        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        kwargs = {"local_files_only": True} if local else {}
        self.processor = AutoProcessor.from_pretrained(self.source, **kwargs)
        self.model = AutoModelForImageTextToText.from_pretrained(self.source, dtype=dtype, **kwargs)
        self.model.to(device).eval()
        self.device = device
        logger.info("VLM loaded (%s) on %s in %.1fs", type(self.model).__name__, device,
                    time.perf_counter() - start)
        return self

    # -- generation ------------------------------------------------------------------------
    def _prompt(self, text: str) -> str:
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]
        if getattr(self.processor, "chat_template", None):
            return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        token = getattr(self.processor, "image_token", None) or "<image>"
        return f"{token}\n{text}"

    def generate(self, image, text: str, max_new_tokens: int | None = None) -> str:
        """The model's answer to `text` about `image` (greedy decoding)."""
        import torch

        image = image.convert("RGB")
        if max(image.size) > self.image_side:
            image = image.copy()
            image.thumbnail((self.image_side, self.image_side))
        prompt = self._prompt(text)
        inputs = self.processor(text=[prompt], images=[image], return_tensors="pt").to(self.device)
        if "pixel_values" in inputs and self.device != "cpu":
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        with self._lock, torch.inference_mode():
            start = time.perf_counter()
            out = self.model.generate(**inputs, max_new_tokens=max_new_tokens or self.max_new_tokens,
                                      do_sample=False)
            logger.info("VLM generated %d tokens in %.2fs", out.shape[1] - inputs["input_ids"].shape[1],
                        time.perf_counter() - start)
        new = out[:, inputs["input_ids"].shape[1]:]
        return self.processor.batch_decode(new, skip_special_tokens=True)[0].strip()

    def extract_rows(self, image, order: str, period=None, default_year=None, words: str = "") -> list[VLMRow]:
        """Transactions of one page image, validated; raises VLMOutputError. `words` is the text
        already read from the page (text layer or OCR), given to the model as a hint."""
        return parse_rows(self.generate(image, extract_prompt(words)), order, period, default_year)


# -- validate and repair ---------------------------------------------------------------------

def _candidates(text: str) -> list[str]:
    text = re.sub(r"```(?:json)?", "", text)
    out = []
    for open_ch, close_ch in (("{", "}"), ("[", "]")):
        start = text.find(open_ch)
        if start < 0:
            continue
        end = text.rfind(close_ch)
        chunk = text[start:end + 1] if end > start else text[start:]
        out.append((start, chunk))
    return [chunk for _, chunk in sorted(out)]  # the outermost value opens first


def _repair(chunk: str) -> str:
    fixed = chunk
    if '"' not in fixed:
        fixed = fixed.replace("'", '"')
    fixed = re.sub(r"\bNone\b", "null", re.sub(r"\bTrue\b", "true", re.sub(r"\bFalse\b", "false", fixed)))
    fixed = re.sub(r",\s*([}\]])", r"\1", fixed)
    # close what was left open (a truncated answer)
    stack = []
    in_str = esc = False
    for ch in fixed:
        if in_str:
            esc = (ch == "\\") and not esc
            if ch == '"' and not esc:
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    if in_str:
        fixed += '"'
    fixed = re.sub(r",\s*$", "", fixed)
    return fixed + "".join(reversed(stack))


def load_json(text: str):
    """The first JSON value in a model answer, repairing common defects; raises VLMOutputError."""
    for chunk in _candidates(text):
        for attempt in (chunk, _repair(chunk)):
            try:
                return json.loads(attempt, parse_float=Decimal)
            except (json.JSONDecodeError, ValueError):
                continue
    raise VLMOutputError("the VLM answer is not valid JSON")


def _money(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise VLMOutputError("amount is not a number")
    if isinstance(value, (int, Decimal)):
        return Decimal(value).quantize(CENT)
    if isinstance(value, str):
        money = parse_money(value)
        if money is not None:
            return money.value
        try:
            return Decimal(value.replace(",", "").strip()).quantize(CENT)
        except InvalidOperation:
            pass
    raise VLMOutputError("amount is not a number")


def parse_rows(text: str, order: str, period=None, default_year=None) -> list[VLMRow]:
    """Validate the model's JSON into rows; raises VLMOutputError with the reason."""
    data = load_json(text)
    if isinstance(data, dict):
        data = data.get("transactions")
    if not isinstance(data, list) or not data:
        raise VLMOutputError("the VLM answer has no transaction list")
    rows = []
    for item in data:
        if not isinstance(item, dict):
            raise VLMOutputError("a transaction is not an object")
        found = match_date_prefix(str(item.get("date") or ""))
        when = resolve(found[0], order, period, default_year) if found else None
        amount = _money(item.get("amount"))
        if when is None or amount is None:
            raise VLMOutputError("a transaction lacks a valid date or amount")
        rows.append(VLMRow(when, clean_description(str(item.get("description") or "")), amount,
                           _money(item.get("balance"))))
    return rows
