"""Tiny random models built from configs and saved with save_pretrained, so the production
loading code reads them like real ones: a Llama causal LM and a BERT cross-encoder, both with
the tokenizer of the packaged MiniLM (no download)."""

from __future__ import annotations

from pathlib import Path

from document_qa_service.encoders import packaged_minilm


def _tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(packaged_minilm(), local_files_only=True)


def tiny_llama(path: Path) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    tok = _tokenizer()
    config = LlamaConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
                         bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id, pad_token_id=tok.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def tiny_cross_encoder(path: Path) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    tok = _tokenizer()
    config = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                        num_attention_heads=2, max_position_embeddings=512, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path
