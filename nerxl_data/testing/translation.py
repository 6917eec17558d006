"""A tiny random NLLB-architecture translation model for tests and benchmarks (no Hub).

The tokenizer is a BPE trained here (``tokenizers``) on the given sentences and wrapped as a
transformers ``NllbTokenizer``, so it carries every FLORES-200 language token (``eng_Latn``,
``deu_Latn``, ...); the model is an ``M2M100ForConditionalGeneration`` (NLLB's architecture)
with ``d_model`` 32 and random weights. Its translations are nonsense but deterministic.

>>> path = build_tiny_nllb(tmp_path / "nllb", ["The cat sat on the mat ."])  # doctest: +SKIP
>>> get_translator("hf", str(path), num_beams=1).translate_batch(["The cat"], "en", "de")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]  # NLLB's ids 0..3


def build_tiny_tokenizer(texts: Iterable[str], vocab_size: int = 600):
    """An ``NllbTokenizer`` with a BPE vocabulary trained on ``texts`` plus FLORES-200 tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import NllbTokenizer

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=_SPECIALS)
    bpe.train_from_iterator(list(texts), trainer)
    merges = json.loads(bpe.to_str())["model"]["merges"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in merges]
    return NllbTokenizer(vocab=bpe.get_vocab(), merges=merges)


def build_tiny_nllb(
    path: str | Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 600,
    layers: int = 2,
    d_model: int = 32,
    seed: int = 0,
    init_std: float = 1.0,
    save_tokenizer: bool = True,
    **config_overrides,
) -> Path:
    """Build and save (to ``path``) a random NLLB-architecture model and its tokenizer.

    Args:
        texts: sentences to train the BPE vocabulary on.
        save_tokenizer: also save the tokenizer into ``path`` (``False`` mimics a checkpoint
            such as EasyProject's whose tokenizer must come from another folder).
        config_overrides: other ``M2M100Config`` fields (e.g. NLLB-600M's sizes, for benchmarks).
    """
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    path = Path(path)
    tokenizer = build_tiny_tokenizer(texts, vocab_size)
    options = dict(
        vocab_size=len(tokenizer),
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=2 * d_model,
        decoder_ffn_dim=2 * d_model,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        # Large random weights: with the usual 0.02 the decoder ignores its input and every
        # sentence gets the same output, which would hide ordering and caching bugs in tests.
        init_std=init_std,
    )
    options.update(config_overrides)
    config = M2M100Config(**options)
    torch.manual_seed(seed)
    model = M2M100ForConditionalGeneration(config)
    model.save_pretrained(path)
    if save_tokenizer:
        tokenizer.save_pretrained(path)
    return path
