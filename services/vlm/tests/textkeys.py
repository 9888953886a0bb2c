"""Comparison keys of the vlm tests: a transaction read against the one it should be."""

import unicodedata


def fold(text: str) -> str:
    """Case-folded alphanumerics without accents or spaces."""
    norm = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in norm.casefold() if ch.isalnum() and not unicodedata.combining(ch))


def key(t: dict) -> tuple:
    """A transaction's date, amount and folded description."""
    return t["date"], t["amount"], fold(t["description"])
