"""The cached-feature training recipe: run every sentence once through the frozen lower layers of
an encoder, keep those hidden states on disk, and train only the layers above them and a
token-classification head on the kept states.

A training step then costs ``train_layers`` transformer layers (or one matrix product for a
probe, ``train_layers=0``) instead of the whole encoder, and evaluation, teacher inference and
every later model of a run reuse the same states. The trained part is the top of a standard
``*ForTokenClassification`` model with ``feature_layer + train_layers`` encoder layers:
:meth:`CachedModel.export` writes that checkpoint (the lower layers copied unchanged), and it
computes the same logits as the cache plus the trained top (``tests/test_train_cached.py``).

Pieces:

* :class:`FeatureCache`: frozen states keyed by content (the model folder's files, the layer,
  ``max_length`` and the sentence's words), float16, memory-mapped, written in chunks that
  appear whole or not at all (a killed run keeps every finished chunk; processes sharing a
  cache take a file lock to compute).
* :class:`CachedRecipe`: the options (a frozen dataclass, checked at construction).
* :func:`fit_cached`: trains on per-word target distributions (one-hot gold tags, or a
  teacher's soft labels: one loss, the soft cross-entropy) and returns a :class:`CachedModel`.
* :meth:`CachedModel.word_logits`: per-word logits, batched over length-sorted sentences.

The training loop is a plain PyTorch loop, not the Trainer: its inputs are memory-mapped
states, not token ids, and a step is a few hundred microseconds, so the Trainer's per-step work
(collation, callbacks, logging) would be most of the cost.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..paths import atomic_write, folder_fingerprint

CACHE_VERSION = 1


@dataclass(frozen=True)
class CachedRecipe:
    """Options of the cached-feature recipe.

    ``feature_layer``: the encoder layer whose output is cached (0 = the embeddings); the layers
    up to it are frozen. ``train_layers``: encoder layers above it that are trained (initialised
    from the model's own); 0 = a probe (only the head is trained). Steps: ``max(ceil(epochs x
    sentences / batch_size), min_steps)``, at most ``max_steps`` (0 = no cap).
    """

    feature_layer: int = 4
    train_layers: int = 0
    learning_rate: float = 1e-3
    epochs: float = 3.0
    batch_size: int = 32
    min_steps: int = 0
    max_steps: int = 0
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    dropout: float = 0.1
    max_length: int = 128
    head_hidden: int = 0  # 0: a linear classifier (the model's own); else a hidden layer of this size
    head_window: int = 1  # words (or subwords) the hidden layer sees at once: 1 per position, 3 with neighbours

    @property
    def standard_head(self) -> bool:
        """Whether the trained part is a standard ``*ForTokenClassification`` top (exportable)."""
        return self.head_hidden == 0

    def __post_init__(self) -> None:
        if self.head_window < 1 or self.head_window % 2 == 0:
            raise ConfigError(f"head_window must be an odd number >= 1, got {self.head_window}")
        for name in ("feature_layer", "train_layers", "min_steps", "max_steps", "head_hidden"):
            if int(getattr(self, name)) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("learning_rate", "epochs", "batch_size", "max_length"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ConfigError(f"{name} must be a finite number > 0, got {v!r}")
        if not 0 <= self.dropout < 1 or not 0 <= self.warmup_ratio < 1:
            raise ConfigError("dropout and warmup_ratio must be in [0, 1)")

    def steps(self, n_sentences: int) -> int:
        """The one steps rule (:meth:`nerxl_data.train.recipe.FitRecipe.steps`)."""
        from .recipe import FitRecipe

        return FitRecipe(min_steps=self.min_steps, max_steps=self.max_steps or None).steps(
            n_sentences, self.epochs, self.batch_size)

    def describe(self) -> str:
        head = ("a linear head" if not self.head_hidden else
                f"a head with one hidden layer of {self.head_hidden} over a window of {self.head_window}")
        top = (f"layers {self.feature_layer + 1}-{self.feature_layer + self.train_layers} and {head} trained"
               if self.train_layers else f"{head} trained over the frozen states")
        return (f"cached features: encoder layers 1-{self.feature_layer} frozen and run once per sentence "
                f"(float16 on disk), {top}; lr {self.learning_rate:g}, batch {self.batch_size}, "
                f"max(epochs {self.epochs:g} x sentences / batch, {self.min_steps}) steps"
                + (f" (at most {self.max_steps})" if self.max_steps else "") + f", max_length {self.max_length}")


def _sentence_key(words: Sequence[str]) -> bytes:
    return hashlib.sha1(json.dumps(list(words), ensure_ascii=False).encode("utf-8")).hexdigest().encode()


def _model_key(model_path: str | os.PathLike) -> str:
    p = Path(model_path)
    return folder_fingerprint(p) if p.is_dir() else "hub-" + hashlib.sha1(str(model_path).encode()).hexdigest()[:16]


class Features:
    """States of a list of sentences: ``vectors(i)`` ``[n_subwords, H]`` (float16, a view of the
    memory map) and ``firsts(i)`` the subword position of each word (-1: cut off by max_length)."""

    def __init__(self, parts: list[tuple[np.ndarray, int, int, np.ndarray]]):
        self._parts = parts  # per sentence: (chunk vectors, offset, length, first positions)

    def __len__(self) -> int:
        return len(self._parts)

    def vectors(self, i: int) -> np.ndarray:
        vec, off, n, _ = self._parts[i]
        return vec[off:off + n]

    def firsts(self, i: int) -> np.ndarray:
        return self._parts[i][3]

    def word_vectors(self, i: int) -> np.ndarray:
        """``[n_words, H]`` the first subword's state per word (zeros for a cut-off word)."""
        vec, off, _, first = self._parts[i]
        out = np.zeros((len(first), vec.shape[1]), dtype=np.float16)
        ok = first >= 0
        out[ok] = vec[off + first[ok]]
        return out


class FeatureCache:
    """Frozen encoder states of sentences, computed once and kept under ``root``.

    >>> cache = FeatureCache("path/to/encoder", layer=4, root="/tmp/feats")   # doctest: +SKIP
    >>> feats = cache.get([["Hello", "world"]])                                 # doctest: +SKIP
    """

    def __init__(self, model_path: str | os.PathLike, layer: int, root: str | os.PathLike, *,
                 max_length: int = 128, batch_size: int = 64, device: str | None = None):
        self.model_path = str(model_path)
        self.layer = layer
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.dir = Path(root) / f"{_model_key(model_path)}-L{layer}-m{max_length}-v{CACHE_VERSION}"
        self._index: dict[bytes, tuple[int, int, int, np.ndarray]] = {}
        self._chunks: list[np.ndarray] = []
        self._seen: set[str] = set()
        self.computed = 0  # sentences this object encoded (the rest were on disk)
        self.seconds = 0.0

    def _load_chunks(self) -> None:
        if not self.dir.exists():
            return
        for meta in sorted(self.dir.glob("chunk-*.meta.npz")):
            name = meta.name[: -len(".meta.npz")]
            if name in self._seen:
                continue
            with np.load(meta) as m:  # each array read once (an NpzFile re-reads an array at every m[name])
                keys, offsets, lengths = m["keys"], m["offsets"], m["lengths"]
                firsts, fo = m["firsts"], m["first_offsets"]
            vec = np.load(self.dir / f"{name}.npy", mmap_mode="r")
            c = len(self._chunks)
            self._chunks.append(vec)
            self._seen.add(name)
            for j, key in enumerate(keys):
                self._index[bytes(key)] = (c, int(offsets[j]), int(lengths[j]), firsts[fo[j]:fo[j + 1]])

    def get(self, sentences: Sequence[Sequence[str]], *, chunk_size: int = 4096) -> Features:
        """States of ``sentences`` (computing and storing the missing ones first)."""
        self._load_chunks()
        keys = [_sentence_key(s) for s in sentences]
        missing = list({k: s for k, s in zip(keys, sentences, strict=True) if k not in self._index}.items())
        if missing:
            from filelock import FileLock

            self.dir.mkdir(parents=True, exist_ok=True)
            for start in range(0, len(missing), chunk_size):  # the lock is held one chunk at a time:
                with FileLock(str(self.dir / ".lock")):  # processes sharing the cache take turns
                    self._load_chunks()  # another process may have computed some meanwhile
                    todo = [(k, s) for k, s in missing[start:start + chunk_size] if k not in self._index]
                    if todo:
                        self._compute(todo)
                        self._load_chunks()
        parts = []
        for k in keys:
            c, off, n, first = self._index[k]
            parts.append((self._chunks[c], off, n, first))
        return Features(parts)

    def _encoder(self):
        if getattr(self, "_model", None) is None:
            import torch
            from transformers import AutoConfig, AutoModel, AutoTokenizer

            cfg = AutoConfig.from_pretrained(self.model_path)
            if self.layer > cfg.num_hidden_layers:
                raise ConfigError(f"feature_layer {self.layer} is above the model's {cfg.num_hidden_layers} layers")
            # Layers above the cached one are never run: build the model without them.
            model = AutoModel.from_pretrained(self.model_path, num_hidden_layers=max(self.layer, 1), add_pooling_layer=False)
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            self._model = model.eval().to(device)
            self._tok = AutoTokenizer.from_pretrained(self.model_path)
        return self._model, self._tok

    def _compute(self, items: list[tuple[bytes, Sequence[str]]]) -> None:
        import time

        import torch

        from .data import first_subword_positions

        t0 = time.time()
        model, tok = self._encoder()
        device = next(model.parameters()).device
        sents = [list(s) for _, s in items]
        enc = tok(sents, truncation=True, max_length=self.max_length, is_split_into_words=True)
        lengths = np.array([len(ids) for ids in enc["input_ids"]], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        H = model.config.hidden_size
        vec = np.zeros((int(lengths.sum()), H), dtype=np.float16)
        order = np.argsort(lengths, kind="stable")
        use_amp = device.type == "cuda"
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            batch = tok.pad({"input_ids": [enc["input_ids"][i] for i in idx],
                             "attention_mask": [enc["attention_mask"][i] for i in idx]}, return_tensors="pt")
            with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
                out = model(**{k: v.to(device) for k, v in batch.items()}, output_hidden_states=self.layer == 0)
                h = out.hidden_states[0] if self.layer == 0 else out.last_hidden_state
            h = h.float().cpu().numpy().astype(np.float16)
            for b, i in enumerate(idx):
                vec[offsets[i]:offsets[i] + lengths[i]] = h[b, :lengths[i]]
        firsts = [first_subword_positions(enc.word_ids(batch_index=i), len(words)).astype(np.int32)
                  for i, words in enumerate(sents)]
        first_offsets = np.concatenate([[0], np.cumsum([len(f) for f in firsts])])
        name = f"chunk-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{len(self._seen):05d}"
        with atomic_write(self.dir / f"{name}.npy", "wb") as f:
            np.save(f, vec)
        with atomic_write(self.dir / f"{name}.meta.npz", "wb") as f:  # the meta file marks the chunk finished
            np.savez(f, keys=np.array([k for k, _ in items], dtype="S40"), offsets=offsets, lengths=lengths,
                     firsts=np.concatenate(firsts) if firsts else np.zeros(0, np.int32),
                     first_offsets=np.array(first_offsets, dtype=np.int64))
        self.computed += len(items)
        self.seconds += time.time() - t0


def _extended_mask(mask, dtype):
    return (1.0 - mask[:, None, None, :].to(dtype)) * float(np.finfo(np.float32).min)


class _Top:
    """The trained part: encoder layers above the cache (maybe none) and the classifier."""

    @staticmethod
    def build(model_path: str, recipe: CachedRecipe, num_labels: int, seed: int):
        import torch
        from transformers import AutoConfig, AutoModelForTokenClassification

        cfg = AutoConfig.from_pretrained(model_path)
        top = recipe.feature_layer + recipe.train_layers
        if top > cfg.num_hidden_layers:
            raise ConfigError(f"feature_layer + train_layers = {top} is above the model's {cfg.num_hidden_layers} layers")
        torch.manual_seed(seed)
        full = AutoModelForTokenClassification.from_pretrained(
            model_path, num_labels=num_labels, num_hidden_layers=max(top, 1), ignore_mismatched_sizes=True)
        return _top_module_class()(full, recipe), full


def _top_module_class():
    import torch

    class TopModule(torch.nn.Module):
        def __init__(self, full, recipe: CachedRecipe):
            super().__init__()
            enc = full.base_model.encoder
            self.layers = torch.nn.ModuleList(enc.layer[recipe.feature_layer: recipe.feature_layer + recipe.train_layers])
            self.dropout = torch.nn.Dropout(recipe.dropout)
            if recipe.head_hidden:
                H = full.config.hidden_size
                self.hidden = torch.nn.Conv1d(H, recipe.head_hidden, recipe.head_window, padding=recipe.head_window // 2)
                self.classifier = torch.nn.Linear(recipe.head_hidden, full.config.num_labels)
            else:
                self.hidden = None
                self.classifier = full.classifier

        def forward(self, h, mask):
            if len(self.layers):
                ext = _extended_mask(mask, h.dtype)
                for layer in self.layers:
                    out = layer(h, attention_mask=ext)
                    h = out[0] if isinstance(out, tuple) else out
            h = self.dropout(h)
            if self.hidden is not None:  # padding positions zeroed: a window sees zeros past the sentence
                h = h * mask.unsqueeze(-1)
                h = self.dropout(torch.nn.functional.gelu(self.hidden(h.transpose(1, 2)).transpose(1, 2)))
            return self.classifier(h)

    return TopModule


class CachedModel:
    """A trained top over a :class:`FeatureCache`."""

    def __init__(self, module, full, cache: FeatureCache, recipe: CachedRecipe, labels: list[str]):
        self.module, self.full, self.cache, self.recipe, self.labels = module, full, cache, recipe, labels

    @property
    def uses_words_only(self) -> bool:
        return self.recipe.train_layers == 0

    def word_logits(self, sentences: Sequence[Sequence[str]], features: Features | None = None, *,
                    batch_size: int = 256) -> list[np.ndarray]:
        """Per sentence ``[n_words, n_labels]`` float32 logits (a word cut off by max_length gets
        ``O`` only, as :func:`nerxl_data.train.trainer.word_logits` does)."""
        import torch

        feats = features if features is not None else self.cache.get(sentences)
        self.module.eval()
        o = self.labels.index("O") if "O" in self.labels else 0
        if self.uses_words_only:  # one gather per batch; every word's row written at once
            table = _WordTable(feats)
            flat = np.full((table.total + 1, len(self.labels)), -1e4, dtype=np.float32)
            flat[:, o] = 0.0
            order = np.argsort(table.lens, kind="stable")
            with torch.inference_mode():
                for start in range(0, len(order), batch_size):
                    pos, valid = table.positions(order[start:start + batch_size])
                    logits = self.module(table.X[torch.from_numpy(pos)], torch.from_numpy(valid.astype(np.float32)))
                    keep = valid & table.ok[pos]
                    flat[pos[keep]] = logits.float().numpy()[keep]
            return [flat[table.offsets[i]:table.offsets[i + 1]] for i in range(len(feats))]
        out: list = [None] * len(feats)
        lens = [len(feats.firsts(i)) for i in range(len(feats))]
        order = np.argsort(lens, kind="stable")
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                logits, firsts = _forward(self.module, feats, idx, False)
                logits = logits.float().numpy()
                for b, i in enumerate(idx):
                    first = firsts[b]
                    rows = np.full((len(first), logits.shape[-1]), -1e4, dtype=np.float32)
                    rows[:, o] = 0.0
                    ok = first >= 0
                    rows[ok] = logits[b, first[ok]]
                    out[i] = rows
        return out

    def predict_tags(self, sentences, features: Features | None = None) -> list[list[str]]:
        return [[self.labels[int(j)] for j in row.argmax(-1)] for row in self.word_logits(sentences, features)]

    def export(self, out_dir: str | os.PathLike, tokenizer_from: str | None = None) -> Path:
        """Save the whole model (frozen lower layers + trained top) as a standard checkpoint."""
        from transformers import AutoTokenizer

        if not self.recipe.standard_head:
            raise ConfigError("only a linear head is a standard token-classification checkpoint; this model has a "
                              "hidden head layer (head_hidden > 0): keep it with state_dict()")
        out = Path(out_dir)
        self.full.config.id2label = dict(enumerate(self.labels))
        self.full.config.label2id = {n: i for i, n in enumerate(self.labels)}
        self.full.save_pretrained(out)
        AutoTokenizer.from_pretrained(tokenizer_from or self.cache.model_path).save_pretrained(out)
        (out / "nerxl_recipe.json").write_text(json.dumps(asdict(self.recipe), indent=1))
        return out

    def state_dict(self) -> dict:
        return self.module.state_dict()


def _forward(module, feats: Features, idx, words_only: bool):
    """Pad the states of sentences ``idx`` and run the top; returns (logits [B, T, L], firsts)."""
    import torch

    firsts = [feats.firsts(i) for i in idx]
    rows = [feats.word_vectors(i) if words_only else feats.vectors(i) for i in idx]
    T = max((r.shape[0] for r in rows), default=0) or 1
    H = rows[0].shape[1] if rows else 1
    h = np.zeros((len(rows), T, H), dtype=np.float32)
    mask = np.zeros((len(rows), T), dtype=np.float32)
    for b, r in enumerate(rows):
        h[b, :len(r)] = r
        mask[b, :len(r)] = 1.0
    return module(torch.from_numpy(h), torch.from_numpy(mask)), firsts


class _WordTable:
    """The first-subword states of every word of some sentences in one float32 array (plus a
    zero row that padding points at), so that a probe's batch is one gather, not a Python loop
    over sentences: the head trains and scores at the speed of its matrix products."""

    def __init__(self, feats: Features, extra: Sequence[np.ndarray] | None = None):
        import torch

        n = len(feats)
        firsts = [feats.firsts(i) for i in range(n)]
        self.lens = np.array([len(f) for f in firsts], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lens)]).astype(np.int64)
        self.total = int(self.offsets[-1])
        H = feats.vectors(0).shape[1] if n else 1
        X = np.zeros((self.total + 1, H), dtype=np.float32)
        self.ok = np.zeros(self.total + 1, dtype=bool)  # a word max_length cut off has no state
        for i in range(n):
            a, b = self.offsets[i], self.offsets[i + 1]
            X[a:b] = feats.word_vectors(i)
            self.ok[a:b] = firsts[i] >= 0
        self.X = torch.from_numpy(X)
        self.T = None
        if extra is not None:  # per-word targets, the same layout
            L = extra[0].shape[1] if len(extra) else 1
            T = np.zeros((self.total + 1, L), dtype=np.float32)
            for i, t in enumerate(extra):
                T[self.offsets[i]:self.offsets[i + 1]] = t
            self.T = torch.from_numpy(T)

    def positions(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[B, T]`` rows of the table for sentences ``idx`` (padding -> the zero row) and validity."""
        lens = self.lens[idx]
        width = int(lens.max()) if len(lens) else 1
        ar = np.arange(max(width, 1))[None, :]
        valid = ar < lens[:, None]
        pos = np.where(valid, self.offsets[idx][:, None] + ar, self.total)
        return pos, valid


def one_hot(tags: Sequence[Sequence[str]], labels: Sequence[str]) -> list[np.ndarray]:
    """Gold tags as per-word distributions (the soft cross-entropy to these is the usual loss)."""
    pos = {n: i for i, n in enumerate(labels)}
    out = []
    for t in tags:
        a = np.zeros((len(t), len(labels)), dtype=np.float32)
        a[np.arange(len(t)), [pos[x] for x in t]] = 1.0
        out.append(a)
    return out


def fit_cached(cache: FeatureCache, sentences: Sequence[Sequence[str]], targets: Sequence[np.ndarray],
               labels: Sequence[str], recipe: CachedRecipe, seed: int) -> CachedModel:
    """Train a top over ``cache`` on ``sentences`` with per-word target distributions
    ``targets`` (``[n_words, n_labels]`` each, columns in ``labels`` order)."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    labels = list(labels)
    if len(sentences) != len(targets):
        raise ConfigError(f"{len(sentences)} sentences but {len(targets)} target rows")
    feats = cache.get(sentences)
    module, full = _Top.build(cache.model_path, recipe, len(labels), seed)
    full.config.id2label = dict(enumerate(labels))
    full.config.label2id = {n: i for i, n in enumerate(labels)}
    words_only = recipe.train_layers == 0
    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=recipe.learning_rate, weight_decay=recipe.weight_decay)
    steps = recipe.steps(len(sentences))
    sched = get_linear_schedule_with_warmup(opt, int(recipe.warmup_ratio * steps), steps)
    rng = np.random.default_rng(seed)
    n = len(sentences)
    lens = np.array([len(t) for t in targets])
    table = _WordTable(feats, [np.asarray(t, dtype=np.float32) for t in targets]) if words_only else None
    module.train()
    batches: list = []
    for _ in range(steps):
        if not batches:  # an epoch: shuffled, then grouped by length (dynamic padding), batches shuffled
            perm = rng.permutation(n)
            groups = [perm[i:i + recipe.batch_size * 50] for i in range(0, n, recipe.batch_size * 50)]
            for g in groups:
                g = g[np.argsort(lens[g], kind="stable")]
                batches += [g[i:i + recipe.batch_size] for i in range(0, len(g), recipe.batch_size)]
            rng.shuffle(batches)
        idx = batches.pop()
        if table is not None:
            pos, valid = table.positions(idx)
            tpos = torch.from_numpy(pos)
            logp = module(table.X[tpos], torch.from_numpy(valid.astype(np.float32))).float().log_softmax(-1)
            w = torch.from_numpy((valid & table.ok[pos]).astype(np.float32))
            if float(w.sum()) == 0:
                continue
            loss = -((table.T[tpos] * logp).sum(-1) * w).sum() / w.sum()
        else:
            logits, firsts = _forward(module, feats, idx, words_only)
            logp = logits.float().log_softmax(-1)
            b_idx, p_idx, rows = [], [], []
            for b, i in enumerate(idx):
                ok = firsts[b] >= 0
                b_idx.append(np.full(int(ok.sum()), b))
                p_idx.append(firsts[b][ok])
                rows.append(np.asarray(targets[i], dtype=np.float32)[ok])
            b_idx, p_idx = np.concatenate(b_idx), np.concatenate(p_idx)
            if not len(b_idx):
                continue
            tgt = torch.from_numpy(np.concatenate(rows))
            loss = -(tgt * logp[torch.from_numpy(b_idx), torch.from_numpy(p_idx)]).sum(-1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    module.eval()
    return CachedModel(module, full, cache, recipe, labels)
