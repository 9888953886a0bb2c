"""Pure helpers: line structure, sentences, long-input splitting, glossary placeholders, languages."""

import pytest

from kit_kserve.errors import InvalidInput
from translation_service import languages
from translation_service.glossary import parse_glossary, protect, term_pattern
from translation_service.segment import sentences, split_lines, split_long


def test_split_lines_keeps_markers_and_breaks():
    lines = split_lines("# Title\r\n  - item one  \n\n3) third\nplain")
    assert [(l.prefix, l.body, l.suffix, b) for l, b in lines] == [
        ("# ", "Title", "", "\r\n"), ("  - ", "item one", "  ", "\n"), ("", "", "", "\n"),
        ("3) ", "third", "", "\n"), ("", "plain", "", "")]


@pytest.mark.parametrize("lang", ["en", "de", "xx"])
def test_sentences_rebuild_the_text(lang):
    text = "Dr. Smith paid 3.50 EUR. Then he left!  Did he?   Yes."
    parts = sentences(text, lang)
    assert "".join(s + gap for s, gap in parts) == text
    assert len([s for s, _ in parts if s]) >= 3


def test_split_long_respects_the_limit():
    count = lambda s: len(s.split())  # noqa: E731
    text = "one two three, four five six; seven eight nine ten eleven twelve " + "x" * 5
    pieces = split_long(text, count, 4)
    assert all(count(p) <= 4 for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_glossary_forms_and_errors():
    assert parse_glossary(["ACME"]) == {"ACME": "ACME"}
    assert parse_glossary({" ACME ": "Acme AG"}) == {"ACME": "Acme AG"}
    for bad in ("ACME", {"": "x"}, {"a": 3}, [1]):
        with pytest.raises(InvalidInput) as err:
            parse_glossary(bad)
        assert err.value.code == "invalid_glossary"


def test_protect_and_restore():
    terms = {"ACME Bank": "ACME Bank", "fee": "Gebühr"}
    prot = protect("ACME Bank charges a fee; feeling fine.", term_pattern(terms), terms)
    assert prot.text == "ZQ0ZQ charges a ZQ1ZQ; feeling fine."  # word boundaries: not "feeling"
    assert prot.restore("ZQ0ZQ berechnet eine ZQ 1 ZQ.") == "ACME Bank berechnet eine Gebühr."
    assert prot.restore("ZQ0ZQ berechnet etwas.") is None  # a lost placeholder: fall back
    assert prot.restore("ZQ0ZQ ZQ0ZQ ZQ1ZQ") is None  # a repeated one too
    assert [p for p, is_span in prot.pieces if is_span] == ["ACME Bank", "Gebühr"]
    assert protect("nothing here", term_pattern(terms), terms) is None


def test_language_codes():
    assert languages.normalize("DE") == "de" and languages.normalize("pt_BR") == "pt"
    assert languages.nllb_code("de") == "deu_Latn" and languages.FLORES_TO_ISO["fra_Latn"] == "fr"
    assert languages.normalize("klingon") == "klingon"
