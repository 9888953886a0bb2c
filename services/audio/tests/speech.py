"""Accuracy helpers: tiny.en's exact words vary between machines, so tests compare with margins."""

import jiwer

from audio_service import testaudio

NORMALISE = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                           jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])


def words(text: str) -> list[str]:
    out = NORMALISE(text)
    return out[0] if out else []


def wer(refs: list[str], hyps: list[str]) -> float:
    """Word error rate over a set of (reference, hypothesis) pairs."""
    return testaudio.wer(refs, hyps)


def recall(reference: str, hypothesis: str) -> float:
    """The share of the reference's words that the hypothesis contains (order ignored)."""
    ref, hyp = words(reference), set(words(hypothesis))
    return sum(w in hyp for w in ref) / len(ref) if ref else 1.0


def sentence(i: int) -> str:
    return testaudio.SENTENCES[i]
