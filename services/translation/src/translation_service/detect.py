"""Offline language detection for `source: auto` (py3langid: its model ships inside the wheel)."""

from __future__ import annotations

import threading
from functools import lru_cache

from kit_kserve.errors import InvalidInput

MIN_LETTERS = 3


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


_lock = threading.Lock()


def detect(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of the text's language."""
    sample = text[:5000]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        raise InvalidInput("cannot detect the language of a text without words; set 'source'",
                           code="language_not_detected")
    with _lock:
        code, prob = _identifier().classify(sample)
    return code, float(prob)
