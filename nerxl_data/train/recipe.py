"""How long and on what a model trains: one small recipe shared by ``nerxl train``, ``python -m
nerxl_data.train`` and the scaling experiment.

A small model trained on a few hundred silver sentences, most of them without an entity, learns
to predict ``O`` everywhere (F1 0, and nothing in the loss says so). The cure is the training
rule of projection work: keep every sentence with an entity and only a few without
(:meth:`FitRecipe.select`), train at least ``min_steps`` optimiser steps (:meth:`FitRecipe.steps`),
and on a CPU keep only the bottom encoder layers (``num_layers``) and, optionally, fixed word
embeddings. :func:`prediction_warning` is the check that says so when a model learned nothing.

>>> r = FitRecipe(min_steps=60, num_layers=4, empty_ratio=0.0)
>>> r.steps(n_sentences=200, epochs=2, batch_size=16)      # max(ceil(2 x 200 / 16), 60)
60
>>> r.select([True, False, True, False], seed=0)            # entity-less sentences dropped
[0, 2]
>>> FitRecipe().select([True, False], seed=0)               # the default keeps every sentence
[0, 1]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError

CPU_HINT = "--lr 5e-4 --num-layers 4 --max-length 64 --empty-ratio 0 --min-steps 60 --epochs 12"
"""The CPU recipe's flags (``nerxl train``), named by :func:`prediction_warning`."""


@dataclass(frozen=True)
class FitRecipe:
    """Training length, layers kept and sentences kept, validated when made.

    Args:
        min_steps: train at least this many optimiser steps (0: as many as the epochs give).
        max_steps: at most this many (None: no cap); wins over ``min_steps``.
        num_layers: keep only the bottom N encoder layers (None: all).
        freeze_embeddings: keep the word embedding matrix fixed.
        empty_ratio: entity-less sentences kept per entity sentence (a seeded sample; 0 drops
            them all); None keeps every sentence, as ``run_ner.py`` does.

    Raises:
        ConfigError: a negative count or ratio, or ``max_steps`` below 1.
    """

    min_steps: int = 0
    max_steps: int | None = None
    num_layers: int | None = None
    freeze_embeddings: bool = False
    empty_ratio: float | None = None

    def __post_init__(self) -> None:
        if self.min_steps < 0:
            raise ConfigError(f"min_steps must be 0 or more, not {self.min_steps}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"max_steps must be 1 or more, not {self.max_steps}")
        if self.num_layers is not None and self.num_layers < 1:
            raise ConfigError(f"num_layers must be 1 or more, not {self.num_layers}")
        if self.empty_ratio is not None and not self.empty_ratio >= 0:
            raise ConfigError(f"empty_ratio must be 0 or more, not {self.empty_ratio}")

    @property
    def sets_steps(self) -> bool:
        """Whether the recipe changes the step count the epochs give (a floor or a cap)."""
        return self.min_steps > 0 or self.max_steps is not None

    def steps(self, n_sentences: int, epochs: float, batch_size: int) -> int:
        """Optimiser steps: ``max(ceil(epochs x n_sentences / batch_size), min_steps, 1)``,
        capped at ``max_steps``. ``batch_size`` is the effective batch (per device x
        accumulation x devices)."""
        n = max(int(math.ceil(epochs * n_sentences / max(1, batch_size))), self.min_steps, 1)
        return min(n, self.max_steps) if self.max_steps is not None else n

    def select(self, has_entity: Sequence[bool], seed: int) -> list[int]:
        """Indices of the training sentences to keep, in order: every sentence with an entity
        and ``empty_ratio`` entity-less ones per entity sentence
        (:func:`nerxl_data.train.distill.select_sentences`); all of them when ``empty_ratio`` is
        None, or when no sentence has an entity."""
        if self.empty_ratio is None:
            return list(range(len(has_entity)))
        from .distill import select_sentences

        return select_sentences(has_entity, self.empty_ratio, seed)


def prediction_warning(predicted: int, gold: int, split: str, hint: str = CPU_HINT) -> str | None:
    """One line when a model predicts no entity, or fewer than a tenth of the gold count, on its
    evaluation ``split`` (else None): it has learned (almost) nothing, and ``hint`` says what to
    try.

    >>> prediction_warning(0, 120, "validation").split(":")[0]
    'the model predicts no entity on validation (gold has 120)'
    >>> prediction_warning(30, 120, "validation") is None
    True
    """
    if gold <= 0 or predicted * 10 >= gold:
        return None
    what = "no entity" if predicted == 0 else f"only {predicted} {'entity' if predicted == 1 else 'entities'}"
    return (f"the model predicts {what} on {split} (gold has {gold}): it learned (almost) nothing; "
            f"try the CPU recipe ({hint}), more epochs or a higher learning rate")
