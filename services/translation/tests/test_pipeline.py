"""The pipeline on the tiny random model, loaded by the production code with both backends:
structure, batching by length, splitting of long input, glossary terms."""

import re

import pytest

from conftest import engine
from kit_kserve.errors import InvalidInput
from translation_service.translator import Translator

TEXT = (
    "Quarterly report\r\n"
    "\r\n"
    "The bank sends the statement on day 3. The customer reads every invoice!\r\n"
    "  - first item: the team checks two documents.\r\n"
    "  * second item, with a longer sentence that the teacher writes.\r\n"
    "1. Numbered: our team opens the new contract.\r\n"
    "a) Lettered: the river closes.   \r\n"
    "\r\n"
    "---\r\n"
    "\r\n"
    "Last paragraph without a break"
)


class Recording:
    """Wraps an engine's translate to record each batch the translator sends."""

    def __init__(self, eng):
        self.eng, self.batches = eng, []
        self._orig = eng.translate

    def __enter__(self):
        def translate(texts, source, target):
            self.batches.append(list(texts))
            return self._orig(texts, source, target)

        self.eng.translate = translate
        return self

    def __exit__(self, *exc):
        del self.eng.translate


@pytest.fixture(params=["transformers", "ctranslate2"])
def eng(request, hf_engine, ct2_engine):
    e = hf_engine if request.param == "transformers" else ct2_engine
    assert e.backend == request.param
    return e


def test_engines_load_the_pair(hf_engine, ct2_engine):
    for e in (hf_engine, ct2_engine):
        assert (e.family, e.sources, e.targets) == ("marian", ["en"], ["de"])
        assert e.max_input_tokens == 128  # the tiny config's max_position_embeddings


def test_structure_is_kept(eng):
    out = Translator([eng]).translate_texts([TEXT], "en", "de")[0]
    assert re.findall(r"\r\n|\n|\r", out) == re.findall(r"\r\n|\n|\r", TEXT)
    src_lines, out_lines = TEXT.split("\r\n"), out.split("\r\n")
    for src, got in zip(src_lines, out_lines):
        if not src.strip() or src == "---":
            assert got == src  # blank lines and a rule are not sent to the model
            continue
        for prefix in ("  - ", "  * ", "1. ", "a) "):
            if src.startswith(prefix):
                assert got.startswith(prefix) and got[len(prefix)] != " "
        assert got.strip(), src
    assert out_lines[6].endswith("   ")  # trailing spaces stay


def test_batches_are_bounded_and_sorted_by_length(eng):
    tr = Translator([eng], max_batch_size=3, max_batch_tokens=60)
    words = "the bank sends the statement to the customer on day seven".split()
    names = "Anna Ben Clara David Emil Frieda Gustav Hanna Ida Jonas Karl Lena Marta Nils".split()
    sentences = [" ".join(words[: 2 + i % 9]).capitalize() + f" to {name}." for i, name in enumerate(names)]
    text = " ".join(sentences)
    with Recording(eng) as rec:
        out = tr.translate_texts([text], "en", "de")[0]
    sent = [s for b in rec.batches for s in b]
    assert sorted(sent) == sorted(set(sentences))  # every sentence once (pysbd split them all)
    lengths = [[eng.count_tokens(s) for s in b] for b in rec.batches]
    for b in lengths:
        assert len(b) <= 3
        assert len(b) == 1 or max(b) * len(b) <= 60
    flat = [n for b in lengths for n in b]
    assert flat == sorted(flat)  # short sentences never wait on long ones' padding
    assert out.count(" ") >= len(sentences) - 1


def test_long_input_is_split_and_joined(tiny_model, tmp_path):
    e = engine(tiny_model, max_input_tokens=16)
    long_sentence = " ".join(["the customer reads every invoice, and the bank checks the statement"] * 8) + "."
    with Recording(e) as rec:
        out = Translator([e]).translate_texts([long_sentence + "\n\nShort one."], "en", "de")[0]
    inputs = [s for b in rec.batches for s in b]
    assert len(inputs) > 4
    assert all(e.count_tokens(s) <= 16 for s in inputs)
    first, blank, last = out.split("\n")
    assert first.strip() and blank == "" and last.strip()


def test_glossary_terms_are_kept_as_given(eng):
    text = "ACME Bank sends the invoice.\nThe customer pays ACME Bank twice; the invoice is due."
    glossary = {"ACME Bank": "ACME Bank", "invoice": "Rechnung"}
    out = Translator([eng]).translate_texts([text], "en", "de", glossary)[0]
    assert out.count("ACME Bank") == 2 and out.count("Rechnung") == 2
    assert "invoice" not in out
    assert out.count("\n") == 1


def test_unsupported_pair_is_refused(eng):
    with pytest.raises(InvalidInput) as err:
        Translator([eng]).translate_texts(["Hello there."], "en", "fr")
    assert err.value.code == "unsupported_pair" and "en->de" in str(err.value)


def test_ctranslate2_backend_converts_a_transformers_directory(tiny_model, tmp_path):
    e = engine(tiny_model, backend="ctranslate2", tmp=tmp_path)
    assert e.backend == "ctranslate2" and (tmp_path / e.path.split("/")[-1] / "model.bin").is_file()
    out = Translator([e]).translate_texts(["The bank sends the statement.", "Two documents."], "en", "de")
    assert len(out) == 2 and all(o.strip() for o in out)
    again = engine(tiny_model, backend="ctranslate2", tmp=tmp_path)  # converted once, reused
    assert again.path == e.path
