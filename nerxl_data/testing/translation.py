"""Tiny random translation models for tests and benchmarks (no Hub): NLLB, M2M100, Marian.

The tokenizer is a BPE trained here (``tokenizers``) on the given sentences and wrapped as a
transformers ``NllbTokenizer``, so it carries every FLORES-200 language token (``eng_Latn``,
``deu_Latn``, ...); the model is an ``M2M100ForConditionalGeneration`` (NLLB's architecture)
with ``d_model`` 32 and random weights. Its translations are nonsense but deterministic.

:func:`build_tiny_m2m100` and :func:`build_tiny_marian` do the same for the other two families
(SentencePiece vocabularies trained here, as their tokenizers need; ``M2M100Tokenizer`` adds the
``__en__``-style language tokens), so each family's language handling is tested.

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


def _train_spm(texts: Iterable[str], vocab_size: int) -> tuple[bytes, list[str]]:
    """A SentencePiece BPE model trained on ``texts``: (serialised model, pieces by id)."""
    import io

    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(texts)),
        model_writer=buf,
        vocab_size=vocab_size,
        model_type="bpe",
        unk_id=0,
        bos_id=-1,
        eos_id=-1,
        pad_id=-1,
        minloglevel=2,
    )
    proc = spm.SentencePieceProcessor(model_proto=buf.getvalue())
    return buf.getvalue(), [proc.id_to_piece(i) for i in range(proc.get_piece_size())]


def _small(config_cls, vocab_size: int, d_model: int, layers: int, init_std: float, **ids):
    return config_cls(
        vocab_size=vocab_size,
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=2 * d_model,
        decoder_ffn_dim=2 * d_model,
        max_position_embeddings=512,
        init_std=init_std,  # large: see build_tiny_nllb
        **ids,
    )


def build_tiny_m2m100(
    path: str | Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 400,
    layers: int = 2,
    d_model: int = 32,
    seed: int = 0,
    init_std: float = 1.0,
) -> Path:
    """A random M2M100 model and ``M2M100Tokenizer`` (``__en__`` language tokens) in ``path``."""
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model_bytes, pieces = _train_spm(texts, vocab_size)
    (path / "sentencepiece.bpe.model").write_bytes(model_bytes)
    vocab = {tok: i for i, tok in enumerate(_SPECIALS)}
    for piece in pieces:
        vocab.setdefault(piece, len(vocab))
    (path / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = M2M100Tokenizer(str(path / "vocab.json"), str(path / "sentencepiece.bpe.model"))
    # the language tokens and "madeup words" come after the SentencePiece vocabulary
    n = len(tokenizer.encoder) + len(tokenizer.lang_token_to_id) + tokenizer.num_madeup_words
    config = _small(
        M2M100Config, n, d_model, layers, init_std,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    torch.manual_seed(seed)
    M2M100ForConditionalGeneration(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_tiny_marian(
    path: str | Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 400,
    layers: int = 2,
    d_model: int = 32,
    seed: int = 0,
    init_std: float = 1.0,
    target_tokens: Iterable[str] = (),
) -> Path:
    """A random Marian (opus-mt) model and ``MarianTokenizer`` in ``path``.

    Args:
        target_tokens: extra vocabulary entries such as ``>>por<<`` (a multi-target model).
    """
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model_bytes, pieces = _train_spm(texts, vocab_size)
    for name in ("source.spm", "target.spm"):
        (path / name).write_bytes(model_bytes)
    vocab = {"</s>": 0, "<unk>": 1}
    for piece in [*target_tokens, *pieces]:
        vocab.setdefault(piece, len(vocab))
    vocab["<pad>"] = len(vocab)
    (path / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = MarianTokenizer(
        str(path / "source.spm"), str(path / "target.spm"), str(path / "vocab.json")
    )
    config = _small(
        MarianConfig, len(vocab), d_model, layers, init_std,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(seed)
    MarianMTModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
