"""The options of one scaling run (a frozen-at-start dataclass recorded in ``config.json``),
the language specs, and which options a resumed run may change."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ...errors import ConfigError, unknown_name

TS_METHODS = ("ts-uniform", "ts-similarity", "ts-agreement", "ts-lid")
METHODS = ("direct", *TS_METHODS, "projection", "in-language", "direct-budget")
REFERENCE_ORDERS = ("given", "similarity")
RECIPES = ("finetune", "cached")
CONLL = {"en": "conll2003", "de": "conll2003", "es": "conll2002", "nl": "conll2002"}


def source_spec(lang: str) -> str:
    """``en``/``de`` -> ``conll2003:<l>``, ``es``/``nl`` -> ``conll2002:<l>``, other codes ->
    ``masakhaner2:<code>``; ``NAME:lang`` specs pass through."""
    if ":" in lang:
        return lang
    return f"{CONLL[lang]}:{lang}" if lang in CONLL else f"masakhaner2:{lang}"


def lang_of(spec: str) -> str:
    return spec.split(":", 1)[-1]


@dataclass
class ExperimentConfig:
    """Options of one run (all recorded in ``config.json``; caps None = everything).

    ``recipe``: ``finetune`` trains every model with the Trainer (all kept layers, the standard
    recipe, meant for a GPU); ``cached`` runs every sentence once through the frozen bottom
    ``cached_layer`` layers and trains ``train_layers`` layers above them and the head
    (:mod:`nerxl_data.train.cached`, the CPU recipe picked in ``benchmarks/results/recipe.md``).
    """

    targets: list[str]
    sources: list[str]
    model: str = "e5-small"
    out: str = "scaling-out"
    seeds: int = 3
    orders: int = 2
    order_seed: int = 0
    methods: list[str] = field(default_factory=lambda: list(METHODS))
    reference_orders: list[str] = field(default_factory=lambda: list(REFERENCE_ORDERS))  # reported apart
    reference_methods: list[str] | None = None  # the methods run on the reference orders (None: all)
    max_sentences: int | None = None  # per source (and in-language) train
    max_unlabeled: int | None = None  # student sentences per target
    max_test_sentences: int | None = None
    max_silver: int | None = 2000  # LAFAND sentence pairs the builder projects
    budget_sentences: int | None = None  # direct-budget: the k sources of a cell share this many sentences
    in_language_whole: bool = False  # in-language trains on the whole gold train split (else capped like a source)
    recipe: str = "finetune"
    epochs: float = 3.0
    min_steps: int = 0
    max_steps: int = 0  # 0: no cap
    max_length: int = 128
    batch_size: int = 16
    learning_rate: float = 5e-5
    freeze_embeddings: bool = False  # finetune
    num_layers: int | None = None  # finetune: keep the bottom N layers
    trim_vocab: bool = True  # finetune
    mixed_precision: bool = True  # finetune on CUDA: bf16 autocast (fp16 without bf16) and TF32
    cached_layer: int = 4  # cached
    train_layers: int = 0  # cached
    head_hidden: int = 0  # cached: 0 a linear head, else a hidden layer of this size
    head_window: int = 1  # cached: positions the hidden layer sees at once
    features_dir: str | None = None  # cached: where states are kept (None: <out>/features); shareable
    empty_ratio: float = 0.0
    bootstrap: int = 1000
    missing_type_policy: str = "drop"
    aligner_model: str | None = None  # the builder's aligner model (None: its default method's, e5-small)
    align_layer: int | None = None  # the aligner's layer (None: the builder's default)
    silver_from: str | None = None  # read the silver configs another run built (a Hub-layout folder)
    data_dir: str | None = None

    def __post_init__(self) -> None:
        for m in self.methods:
            if m not in METHODS:
                raise unknown_name("scaling method", m, METHODS)
        if self.recipe not in RECIPES:
            raise unknown_name("recipe", self.recipe, RECIPES)
        if not self.targets:
            raise ConfigError("give at least one target language")
        for t in self.targets:
            if not self.sources_for(t):
                raise ConfigError(f"target {t!r} has no source other than itself")
        for o in self.reference_orders:
            if o not in REFERENCE_ORDERS:
                raise unknown_name("reference order", o, REFERENCE_ORDERS)
        for m in self.reference_methods or ():
            if m not in METHODS:
                raise unknown_name("scaling method", m, METHODS)
        if "direct-budget" in self.methods and not self.budget_sentences:
            raise ConfigError("the direct-budget method needs --budget-sentences (the sentences the k sources share)")
        if self.seeds < 1 or self.orders < 0:
            raise ConfigError("--seeds must be >= 1 and --orders >= 0")
        for name in ("max_sentences", "max_unlabeled", "max_test_sentences", "max_silver", "budget_sentences"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ConfigError(f"{name} must be >= 1 (or unset for all), got {v}")
        for name in ("epochs", "learning_rate"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ConfigError(f"{name} must be a finite number > 0, got {v}")
        if self.batch_size < 1 or self.max_length < 8 or self.min_steps < 0 or self.max_steps < 0:
            raise ConfigError("batch_size >= 1, max_length >= 8, min_steps >= 0 and max_steps >= 0 are required")
        if not (math.isfinite(self.empty_ratio) and self.empty_ratio >= 0):
            raise ConfigError(f"empty_ratio must be a finite number >= 0, got {self.empty_ratio}")

    def sources_for(self, target: str) -> list[str]:
        """The sources of ``target`` in the given order (the target itself left out)."""
        return [s for s in self.sources if lang_of(source_spec(s)) != lang_of(source_spec(target))]

    def fit_recipe(self):
        """Steps, kept layers and kept sentences (:class:`~nerxl_data.train.recipe.FitRecipe`,
        the rule ``nerxl train`` uses too)."""
        from ...train.recipe import FitRecipe

        return FitRecipe(min_steps=self.min_steps, max_steps=self.max_steps or None, num_layers=self.num_layers,
                         freeze_embeddings=self.freeze_embeddings, empty_ratio=self.empty_ratio)

    def cached_recipe(self):
        """The :class:`~nerxl_data.train.cached.CachedRecipe` of a ``cached`` run."""
        from ...train.cached import CachedRecipe

        return CachedRecipe(feature_layer=self.cached_layer, train_layers=self.train_layers,
                            head_hidden=self.head_hidden, head_window=self.head_window,
                            learning_rate=self.learning_rate, epochs=self.epochs, batch_size=self.batch_size,
                            min_steps=self.min_steps, max_steps=self.max_steps, max_length=self.max_length)

    def describe_recipe(self) -> str:
        if self.recipe == "cached":
            return f"model `{self.model}`, " + self.cached_recipe().describe()
        return (f"full fine-tuning (Trainer) of model `{self.model}`{f', bottom {self.num_layers} layers' if self.num_layers else ''}"
                f"{', word embeddings frozen' if self.freeze_embeddings else ''}"
                f"{', vocabulary trimmed to the run' if self.trim_vocab else ''}; lr {self.learning_rate:g}, batch "
                f"{self.batch_size}, max(epochs {self.epochs:g} x sentences / batch, {self.min_steps}) steps"
                + (f" (at most {self.max_steps})" if self.max_steps else "") + f", max_length {self.max_length}")


# Options that change no trained model nor any data a model is trained on: a resumed run may
# change them. (max_silver is not one: it changes the silver set the projection models train on.)
FREE_KEYS = ("out", "methods", "targets", "bootstrap", "orders", "seeds", "reference_orders", "reference_methods",
             "features_dir")
