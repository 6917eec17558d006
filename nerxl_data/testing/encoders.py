"""A tiny random BERT with a WordPiece tokenizer trained on given texts, for tests (no Hub).

The checkpoint looks like a cased multilingual BERT on disk: ``vocab.txt`` with ``[PAD]`` at 0 and
``[UNK]``/``[CLS]``/``[SEP]``/``[MASK]`` at 100-103 (awesome-align hard-codes those ids),
``do_lower_case: false``, weights as ``model.safetensors`` *and* ``pytorch_model.bin`` (the
``awesome-align`` package reads only the latter). It loads with ``AutoModel``/``AutoTokenizer``
and with ``awesome-align --model_name_or_path``.

>>> path = build_tiny_bert(tmp_path / "bert", ["The cat sat .", "Die Katze saß ."])  # doctest: +SKIP
>>> get_aligner("awesome", model=str(path), layer=2)                                 # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

SPECIAL_IDS = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}


def train_wordpiece_vocab(texts: Iterable[str], vocab_size: int = 400) -> list[str]:
    """A cased WordPiece vocabulary (``tokenizers``) laid out like BERT's ``vocab.txt``."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, trainers
    from tokenizers.models import WordPiece

    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(
        list(texts), trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=["[UNK]"])
    )
    learned = sorted((t for t in tok.get_vocab() if t not in SPECIAL_IDS), key=tok.token_to_id)
    vocab = [f"[unused{i}]" for i in range(104)]
    for token, idx in SPECIAL_IDS.items():
        vocab[idx] = token
    return vocab + learned


def build_tiny_bert(
    out_dir: str | Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 400,
    hidden_size: int = 32,
    num_layers: int = 3,
    num_heads: int = 2,
    max_position_embeddings: int = 128,
    initializer_range: float = 0.02,
    seed: int = 0,
    labels: Sequence[str] | None = None,
) -> Path:
    """Write a tiny random ``BertModel`` + cased WordPiece tokenizer trained on ``texts``.

    A larger ``initializer_range`` (e.g. 0.5) gives less uniform similarities, so that alignment
    thresholds actually separate pairs. With ``labels`` the checkpoint is a
    ``BertForTokenClassification`` with those label names (a random NER tagger).
    """
    import torch
    from transformers import (
        BertConfig,
        BertForTokenClassification,
        BertModel,
        PreTrainedTokenizerFast,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    vocab = train_wordpiece_vocab(texts, vocab_size)
    # awesome-align feeds token id 999 for a line it skips (an empty side): keep that id valid
    vocab += [f"[unused{i}]" for i in range(len(vocab), 1000)]
    tok = Tokenizer(WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", SPECIAL_IDS["[CLS]"]), ("[SEP]", SPECIAL_IDS["[SEP]"])],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        mask_token="[MASK]",
        model_max_length=max_position_embeddings,
    )
    tokenizer.save_pretrained(out)
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # awesome-align's old tokenizer takes every key here as a constructor argument: keep it plain
    (out / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "do_lower_case": False,
                "strip_accents": False,
                "model_max_length": max_position_embeddings,
                **{name.strip("[]").lower() + "_token": name for name in SPECIAL_IDS},
            },
            indent=1,
        )
        + "\n"
    )
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=4 * hidden_size,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=0,
        initializer_range=initializer_range,
    )
    if labels is not None:
        config.id2label = dict(enumerate(labels))
        config.label2id = {name: i for i, name in enumerate(labels)}
    torch.manual_seed(seed)
    model = (BertModel if labels is None else BertForTokenClassification)(config).eval()
    model.save_pretrained(out, safe_serialization=True)
    torch.save(model.state_dict(), out / "pytorch_model.bin")
    return out
