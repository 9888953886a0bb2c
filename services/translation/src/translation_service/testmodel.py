"""A tiny random MarianMT model for tests and the benchmark, built on the fly.

A SentencePiece vocabulary is trained on a small made-up English/German corpus, a MarianMT
model with random weights is built from a small config, and both are written with
`save_pretrained`, so the service loads them with the same code as a real opus-mt model.
Its words are noise; tests assert structure and behaviour, never words.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

SUBJECTS = ["the bank", "our team", "the customer", "this service", "the report", "a teacher", "the river",
            "die Bank", "unser Team", "der Kunde", "dieser Dienst", "der Bericht", "ein Lehrer", "der Fluss"]
VERBS = ["sends", "reads", "writes", "checks", "opens", "closes", "translates", "schickt", "liest", "schreibt",
         "prüft", "öffnet", "schließt", "übersetzt"]
OBJECTS = ["the statement", "a long letter", "every invoice", "the new contract", "two documents",
           "die Rechnung", "einen langen Brief", "jede Zahlung", "den neuen Vertrag", "zwei Dokumente"]


def corpus() -> list[str]:
    """Deterministic sentences covering letters, digits and punctuation."""
    out = []
    for i, s in enumerate(SUBJECTS):
        for j, v in enumerate(VERBS):
            o = OBJECTS[(i + j) % len(OBJECTS)]
            out.append(f"{s.capitalize()} {v} {o} on day {i * 7 + j}, at {j}:{i:02d}.")
    out.append("ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz äöüß ÄÖÜ 0123456789 .,;:!?-()'\"")
    return out


def build_tiny_marian(out_dir: str | Path, source: str = "en", target: str = "de", seed: int = 0,
                      d_model: int = 32, layers: int = 1, vocab_size: int = 300) -> Path:
    """Write a tiny MarianMT (`source`->`target`) with a trained SentencePiece vocabulary to `out_dir`."""
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus() * 3), model_writer=buf, vocab_size=vocab_size,
                                   model_type="unigram", character_coverage=1.0, hard_vocab_limit=False,
                                   num_threads=1, minloglevel=2)
    for name in ("source.spm", "target.spm"):
        (out / name).write_bytes(buf.getvalue())
    sp = spm.SentencePieceProcessor(model_proto=buf.getvalue())
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    vocab = {"</s>": 0, "<unk>": 1}
    for p in pieces:
        if p not in vocab and p not in ("<s>", "</s>", "<unk>"):
            vocab[p] = len(vocab)
    vocab["<pad>"] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    tok = MarianTokenizer(str(out / "source.spm"), str(out / "target.spm"), str(out / "vocab.json"),
                          source_lang=source, target_lang=target, model_max_length=128)
    tok.save_pretrained(str(out))
    torch.manual_seed(seed)
    pad = vocab["<pad>"]
    config = MarianConfig(vocab_size=len(vocab), d_model=d_model, encoder_layers=layers, decoder_layers=layers,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=d_model * 2,
                          decoder_ffn_dim=d_model * 2, max_position_embeddings=128, pad_token_id=pad,
                          eos_token_id=0, decoder_start_token_id=pad, forced_eos_token_id=0,
                          share_encoder_decoder_embeddings=True)
    MarianMTModel(config).eval().save_pretrained(str(out))
    return out
