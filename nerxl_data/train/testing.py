"""Tiny random encoders for tests: a 2-layer BERT with a WordPiece tokenizer trained on given text.

(Kept here until ``nerxl_data.testing.encoders`` offers the same; no weights are downloaded.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path


def tiny_bert(
    path: str | os.PathLike,
    sentences: Iterable[Sequence[str]],
    *,
    vocab_size: int = 800,
    hidden_size: int = 32,
    layers: int = 2,
    seed: int = 0,
) -> Path:
    """Save a random tiny ``BertModel`` and a fast WordPiece tokenizer trained on ``sentences``.

    >>> p = tiny_bert(tmp_path / "m", [["Ayo", "went", "to", "Lagos"]])  # doctest: +SKIP
    """
    import torch
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    path = Path(path)
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator((" ".join(s) for s in sentences), trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=special))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=128)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=hidden_size, num_hidden_layers=layers,
                        num_attention_heads=2, intermediate_size=hidden_size * 2, max_position_embeddings=130)
    BertModel(config).save_pretrained(path)
    fast.save_pretrained(path)
    return path
