"""Embedding aligners: one batched forward pass, then awesome-align or SimAlign extraction."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..errors import ConfigError, unknown_name
from ..schema import Link
from .encoders import EncodedSentence, WordEncoder
from .methods import (
    awesome_extract,
    awesome_scores,
    itermax,
    max_weight_match,
    mean_by_word,
    mutual_argmax,
    simalign_similarity,
    to_word_links,
)

log = logging.getLogger(__name__)

EXTRACTIONS = ("awesome", "argmax", "itermax", "match")
"""The extraction methods over one similarity matrix (``ALIGNERS`` names an aligner per method)."""
TOKEN_TYPES = ("bpe", "word")


@dataclass
class EmbeddingAlignerConfig:
    """Options of the embedding aligners.

    Args:
        method: ``awesome`` (softmax extraction), or a SimAlign method ``argmax``, ``itermax``,
            ``match``.
        model: encoder name (``e5-small``), local directory or Hub id.
        layer: hidden layer whose vectors are compared (8 for awesome-align and SimAlign).
        device: ``cpu``, ``cuda``, ``cuda:1``...; ``None`` picks CUDA when available.
        dtype: ``float32``/``float16``/``bfloat16``, or ``int8`` (CPU only: Linear layers dynamically
            quantised, see benchmarks/results/int8.md; a sentence's vectors then depend on its
            batch-mates, activation scales being per batch); ``None``: float32 on CPU, bf16/fp16 on GPU.
        batch_size: sequences per forward pass.
        threshold: awesome-align's softmax threshold.
        token_type: SimAlign granularity: ``bpe`` (subword matrix, SimAlign's default) or
            ``word`` (subword vectors averaged per word).
        max_length: tokens per forward sequence (longer sentences are windowed); model limit.
    """

    method: str = "awesome"
    model: str = "e5-small"
    layer: int = 8
    device: str | None = None
    dtype: str | None = None
    batch_size: int = 32
    threshold: float = 1e-3
    token_type: str = "bpe"
    max_length: int | None = None

    def __post_init__(self) -> None:
        if self.method not in EXTRACTIONS:
            raise unknown_name("alignment method", self.method, EXTRACTIONS)
        if self.token_type not in TOKEN_TYPES:
            raise unknown_name("token type", self.token_type, TOKEN_TYPES)
        if not 0 < self.threshold < 1:
            raise ConfigError(f"threshold must be in (0, 1), got {self.threshold}")


def align_encoded(src: EncodedSentence, tgt: EncodedSentence, config: EmbeddingAlignerConfig) -> list[Link]:
    """Links between two encoded sentences (pure given the vectors).

    Scores: awesome-align's probability heuristic for ``awesome``, SimAlign's [0, 1] cosine
    similarity for the SimAlign methods.
    """
    if len(src.vectors) == 0 or len(tgt.vectors) == 0:
        return []
    if config.method == "awesome":
        sim = src.vectors.astype(np.float64) @ tgt.vectors.astype(np.float64).T
        links = awesome_extract(sim, config.threshold)
        return to_word_links(links, awesome_scores(sim), src.word_ids, tgt.word_ids)
    if config.token_type == "word":
        xs, src_ids = mean_by_word(src.vectors, src.word_ids)
        ys, tgt_ids = mean_by_word(tgt.vectors, tgt.word_ids)
    else:
        xs, src_ids, ys, tgt_ids = src.vectors, src.word_ids, tgt.vectors, tgt.word_ids
    sim = simalign_similarity(xs, ys)
    extract = {
        "argmax": mutual_argmax,
        "itermax": itermax,
        "match": max_weight_match,
    }[config.method]
    return to_word_links(extract(sim), sim, src_ids, tgt_ids)


class EmbeddingAligner:
    """awesome-align / SimAlign over any encoder; a context manager that loads and frees it.

    >>> with EmbeddingAligner(EmbeddingAlignerConfig("itermax")) as al:   # doctest: +SKIP
    ...     al.align_batch([["Hello", "world"]], [["Hallo", "Welt"]])
    [[Link(src=0, tgt=0, score=0.93), Link(src=1, tgt=1, score=0.91)]]
    """

    def __init__(self, config: EmbeddingAlignerConfig, encoder: WordEncoder | None = None) -> None:
        self.config = config
        self.encoder: WordEncoder | None = encoder  # pass a loaded one to share it

    @property
    def name(self) -> str:
        return "awesome" if self.config.method == "awesome" else f"simalign-{self.config.method}"

    def __enter__(self) -> EmbeddingAligner:
        self.load()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def load(self) -> None:
        if self.encoder is None:
            c = self.config
            self.encoder = WordEncoder.load(
                c.model, layer=c.layer, device=c.device, dtype=c.dtype,
                batch_size=c.batch_size, max_length=c.max_length,
            )

    def close(self) -> None:
        """Free the model (and the GPU memory it held)."""
        if self.encoder is not None:
            device = str(self.encoder.device)
            self.encoder = None
            if device.startswith("cuda"):
                import torch

                torch.cuda.empty_cache()

    @property
    def empty_words(self) -> int:
        """Words so far that the tokenizer mapped to no subword (they get no links)."""
        return self.encoder.empty_words if self.encoder is not None else 0

    def align_batch(self, src_words: Sequence[Sequence[str]], tgt_words: Sequence[Sequence[str]]) -> list[list[Link]]:
        """Align sentence pairs; one sorted, batched forward pass serves both sides.

        Raises:
            ConfigError: the batches differ in length.
        """
        return self.align_batch_methods(src_words, tgt_words, [self.name])[self.name]

    def align_batch_methods(
        self, src_words: Sequence[Sequence[str]], tgt_words: Sequence[Sequence[str]], names: Sequence[str]
    ) -> dict[str, list[list[Link]]]:
        """Several methods from one forward pass: ``{"awesome": links, "simalign-match": links}``.

        Raises:
            ConfigError: the batches differ in length, or an unknown method name.
        """
        if len(src_words) != len(tgt_words):
            raise ConfigError(f"{len(src_words)} source sentences but {len(tgt_words)} target sentences")
        configs = {}
        for name in names:
            method = "awesome" if name == "awesome" else name.removeprefix("simalign-")
            if method not in EXTRACTIONS or (method == "awesome" and name != "awesome"):
                raise unknown_name("embedding aligner", name, ["awesome"] + [f"simalign-{m}" for m in EXTRACTIONS[1:]])
            configs[name] = replace(self.config, method=method)
        self.load()
        encoded = self.encoder.encode(list(src_words) + list(tgt_words))
        n = len(src_words)
        return {
            name: [align_encoded(encoded[i], encoded[n + i], config) for i in range(n)]
            for name, config in configs.items()
        }
